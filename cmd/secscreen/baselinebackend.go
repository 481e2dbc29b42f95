package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/baseline"
	"github.com/secscreen/secscreen/screener/rules"
)

// newBaseline returns the offline classifier: --baseline-model FILE, or the
// model embedded at build time.
func newBaseline(c *cli.Context, eng *rules.Engine) (backend.Backend, error) {
	var (
		m   *baseline.Model
		err error
	)
	if path := c.String("baseline-model"); path != "" {
		m, err = baseline.LoadModelFile(path)
		if err != nil {
			return nil, usageErr("baseline model: %w", err)
		}
	} else if m, err = baseline.Embedded(); err != nil {
		return nil, err
	}
	return baseline.NewBackend(m, eng), nil
}
