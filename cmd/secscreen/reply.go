package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/screener/batch"
)

func replyCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "dir", Aliases: []string{"o"}, Usage: "write each reply to a file in `DIR` (created, readable only by you); default: all replies to standard output as an mbox"},
		replyTemplateFlag, maintainersFlag, sourceFlag,
		&cli.StringFlag{Name: "category", Usage: "answer with this threat-model `ID` (a person's decision) instead of the screening's label; no model is asked"},
	}
	flags = append(flags, inputFlags()...)
	flags = append(flags, pipelineFlags()...)
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
		Flags:  flags,
		Action: replyAction,
	}
}

func replyAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("reply: name at least one INPUT (a file, a directory, or - for standard input)")
	}
	j, err := job(c)
	if err != nil {
		return err
	}
	return batch.Reply{Job: j, Dir: c.String("dir"), Category: c.String("category")}.Run(c.Context)
}
