package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// backendFlags choose and configure the model backend.
func backendFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "backend", Aliases: []string{"b"}, Value: "rules", Usage: "`NAME`: rules"},
	}
}

// modelBackend is the chosen backend with its prompt and how it was chosen.
type modelBackend struct {
	backend backend.Backend
	prompt  *prompts.Template
	choice  string
	prices  backend.PriceTable
}

// configure copies the model options into the screener's config.
func (m *modelBackend) configure(c *cli.Context, cfg *screener.Config) {}

// newModelBackend builds the backend named by --backend.
func newModelBackend(c *cli.Context, tm *threatmodel.Model, eng *rules.Engine) (*modelBackend, error) {
	switch name := c.String("backend"); name {
	case "rules":
		return &modelBackend{choice: "rules (no model)"}, nil
	default:
		return nil, usageErr("unknown backend %q", name)
	}
}
