package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/batch"
)

func screenCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output `FORMAT`: text, json, jsonl, csv, md, html"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write results to `FILE` instead of standard output"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "text format: show route, review reason and every rule that fired"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress line and no summary on standard error"},
		&cli.BoolFlag{Name: "resume", Usage: "continue into the JSONL output named by -o: skip the reports it already has a row for (same id and content), repair a half-written last line, append the rest"},
		&cli.BoolFlag{Name: "no-threads", Usage: "screen every message alone, replies included (by default a reply is folded into the report it answers within the same input, or into the thread an earlier run recorded in the history)"},
		&cli.BoolFlag{Name: "since-last", Usage: "public-inbox and Maildir inputs: screen only what arrived since the last --since-last run (see --state)"},
		&cli.StringFlag{Name: "state", Usage: "the `FILE` --since-last remembers what it read in (default $XDG_STATE_HOME/secscreen/since-last.json)"},
		sourceFlag,
		&cli.StringFlag{Name: "replies", Usage: "draft a reply to each report that is not a security bug, one file each in `DIR` (see secscreen reply)"},
		replyTemplateFlag, maintainersFlag,
	}
	flags = append(flags, inputFlags()...)
	flags = append(flags, pipelineFlags()...)
	flags = append(flags, historyFlags()...)
	return &cli.Command{
		Name:      "screen",
		Usage:     "screen reports and print a verdict for each",
		ArgsUsage: "INPUT... (files, directories, Maildirs, mbox, JSONL; - for standard input)",
		Description: "Every input yields exactly one row: a result, or an error saying why it could\n" +
			"not be screened. A summary line on standard error counts inputs and rows.\n\n" + exit.Help,
		Flags:  flags,
		Action: screenAction,
	}
}

func screenAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("screen: name at least one INPUT (a file, a directory, or - for standard input)")
	}
	j, err := job(c)
	if err != nil {
		return err
	}
	j.Intake.Threads = !c.Bool("no-threads")
	return batch.Screen{Job: j, Format: c.String("format"), FormatGiven: c.IsSet("format"), Output: c.String("output"),
		Resume: c.Bool("resume"), SinceLast: c.Bool("since-last"), State: c.String("state"),
		Verbose: cliapp.Verbose(c), Quiet: c.Bool("quiet"), Replies: c.String("replies"),
		History: c.String(historyFlag.Name), NoHistory: c.Bool("no-history")}.Run(c.Context)
}
