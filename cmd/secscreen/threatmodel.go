package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/screener/setup"
)

func threatModelCommand(cl commandLine) *cli.Command {
	return &cli.Command{
		Name:  "threatmodel",
		Usage: "inspect the threat model",
		Subcommands: []*cli.Command{{
			Name:  "show",
			Usage: "print the clauses of the threat model (built-in, or --threat-model FILE)",
			Flags: cl.flags("show", func() []cli.Flag { return cliapp.Flags([]cliflag.Flag{setup.ThreatModelFlag, docformat.Flag}) }),
			Action: func(c *cli.Context) error {
				tm, err := loadThreatModel(c)
				if err != nil {
					return err
				}
				return cliapp.Emit(c, tm, tm.WriteText)
			},
		}},
	}
}
