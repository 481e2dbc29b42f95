package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/screener/batch"
)

func replyCommand(cl commandLine) *cli.Command {
	return &cli.Command{
		Name:      "reply",
		Usage:     "draft a reply to each report that is not a security bug",
		ArgsUsage: "INPUT... (files, directories, Maildirs, mbox, JSONL; - for standard input)",
		Description: "Screens the reports as `screen` does and drafts, for each one that is not a security bug,\n" +
			"a reply ready to send: threaded under the report (In-Reply-To, References, \"Re:\"), naming the\n" +
			"clause of the threat model that applies, where to send the report instead and, for needs-info,\n" +
			"what is missing. Security bugs and reports that part of the screening calls security bugs (held\n" +
			"private) get no draft: people answer those. The wording is a template (--reply-template).\n\n" +
			"Exit codes: 0 done; 1 failure; 2 usage error; 3 some inputs could not be screened.",
		Flags: cl.flags("reply", func() []cli.Flag { return cliapp.Flags(batch.ReplyFlags()) }),
		Action: inputsAction(func(c *cli.Context, j batch.Job) error {
			return batch.NewReply(c, j).Run(c.Context)
		}),
	}
}
