package main

import (
	"github.com/urfave/cli/v2"
)

func threatModelCommand() *cli.Command {
	return &cli.Command{
		Name:  "threatmodel",
		Usage: "inspect the threat model",
		Subcommands: []*cli.Command{{
			Name:  "show",
			Usage: "print the clauses of the threat model (built-in, or --threat-model FILE)",
			Flags: []cli.Flag{
				threatModelFlag,
				&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "`FORMAT`: text or json"},
			},
			Action: func(c *cli.Context) error {
				tm, err := loadThreatModel(c)
				if err != nil {
					return err
				}
				return emit(c, tm, tm.WriteText)
			},
		}},
	}
}
