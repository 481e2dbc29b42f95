package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend/baseline"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// loadBaselineModel returns the offline classifier's model: --baseline-model
// FILE, or the model embedded at build time.
func loadBaselineModel(c *cli.Context) (*baseline.Model, error) {
	if path := c.String("baseline-model"); path != "" {
		m, err := baseline.LoadModelFile(path)
		if err != nil {
			return nil, usageErr("baseline model: %w", err)
		}
		return m, nil
	}
	return baseline.Embedded()
}

// baselineVoter returns the offline classifier as the third voter beside a
// model and the rules, or nil when its model was trained for another threat
// model (its categories would not be tm's).
func baselineVoter(m *baseline.Model, tm *threatmodel.Model, eng *rules.Engine) screener.Classifier {
	if m.ThreatModel != tm.Name {
		return nil
	}
	return baseline.NewClassifier(m, eng)
}
