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
				switch c.String("format") {
				case "text":
					return tm.WriteText(c.App.Writer)
				case "json":
					return tm.WriteJSON(c.App.Writer)
				}
				return usageErr("threatmodel show: unknown format %q (want text or json)", c.String("format"))
			},
		}},
	}
}
