package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/advice"
	"github.com/secscreen/secscreen/screener/batch"
)

func checkCommand(cl commandLine) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "advise on one report before it is sent: verdict, deciding clause, where to send it, what to fix",
		ArgsUsage: "FILE|- (a report: text or email; several messages, e.g. a b4 series, are read as one thread)",
		Description: "Screens one report as `screen` does and prints advice for a person: the verdict and the\n" +
			"clause of the threat model that decides it, where to send the report (with --maintainers,\n" +
			"the maintainers and lists of the files it cites), what is missing and how to fix it, the\n" +
			"reporting rules' completeness checklist and the checklist for AI-assisted reports. With\n" +
			"--source DIR, cited code the kernel tree lacks is named, and counts against the report.\n" +
			"Works as git's sendemail-validate hook (see README).\n\n" + advice.ExitCodesHelp,
		Flags:  cl.flags("check", func() []cli.Flag { return cliapp.Flags(batch.CheckFlags()) }),
		Before: cliapp.CheckFormat,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return exit.Usagef("check: name one report (a FILE, or - for standard input)")
			}
			j, err := job(c)
			if err != nil {
				return err
			}
			return batch.NewCheck(c, j).Run(c.Context)
		},
	}
}
