package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/batch"
)

func screenCommand() *cli.Command {
	return &cli.Command{
		Name:      "screen",
		Usage:     "screen reports and print a verdict for each",
		ArgsUsage: "INPUT... (files, directories, Maildirs, mbox, JSONL; - for standard input)",
		Description: "Every input yields exactly one row: a result, or an error saying why it could\n" +
			"not be screened. A summary line on standard error counts inputs and rows.\n\n" + exit.Help,
		Flags: cliapp.Flags(batch.ScreenFlags()),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return exit.Usagef("screen: name at least one INPUT (a file, a directory, or - for standard input)")
			}
			j, err := job(c)
			if err != nil {
				return err
			}
			s := batch.NewScreen(c, j)
			s.Verbose = cliapp.Verbose(c)
			return s.Run(c.Context)
		},
	}
}
