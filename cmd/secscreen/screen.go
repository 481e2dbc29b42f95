package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/batch"
)

func screenCommand(cl commandLine) *cli.Command {
	return &cli.Command{
		Name:      "screen",
		Usage:     "screen reports and print a verdict for each",
		ArgsUsage: "INPUT... (files, directories, Maildirs, mbox, JSONL; - for standard input)",
		Description: "Every input yields exactly one row: a result, or an error saying why it could\n" +
			"not be screened. A summary line on standard error counts inputs and rows.\n\n" + exit.Help,
		Flags: cl.flags("screen", func() []cli.Flag { return cliapp.Flags(batch.ScreenFlags()) }),
		Action: inputsAction(func(c *cli.Context, j batch.Job) error {
			s := batch.NewScreen(c, j)
			s.Verbose = cliapp.Verbose(c)
			return s.Run(c.Context)
		}),
	}
}
