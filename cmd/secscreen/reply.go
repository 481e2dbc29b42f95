package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
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
	set, err := resolveSettings(c)
	if err != nil {
		return err
	}
	inOpt, err := intakeOptions(c, set)
	if err != nil {
		return err
	}
	var (
		s  *screener.Screener
		p  *pipeline
		cv threatmodel.Verdict // the --category override's verdict
	)
	if cat := c.String("category"); cat != "" {
		// A person decided: the rules read the report (for what is
		// missing), no model is asked.
		tm, eng, err := loadThreatModelAndRules(c)
		if err != nil {
			return err
		}
		v, ok := tm.VerdictOf(cat)
		if !ok {
			return usageErr("reply: --category %q is not a category of the threat model (see secscreen threatmodel show)", cat)
		}
		cv = v
		src, err := openSource(c)
		if err != nil {
			return err
		}
		if s, err = screener.New(screener.Config{ThreatModel: tm, Rules: eng, Source: src, Concurrency: set.Concurrency}); err != nil {
			return err
		}
		p = &pipeline{tm: tm, choice: "rules"}
	} else {
		if p, err = buildPipeline(c, set, nil); err != nil {
			return err
		}
		s = p.screener
	}
	opt, err := adviceOptions(c, p)
	if err != nil {
		return err
	}
	w, err := newDrafter(c, c.String("dir"), c.App.Writer, opt)
	if err != nil {
		return err
	}
	// A draft that cannot be written stops the run, as a failed write
	// stops screen.
	ctx, stop := context.WithCancel(c.Context)
	defer stop()
	var failed error
	sum := s.Run(ctx, intake.Read(ctx, c.Args().Slice(), inOpt), func(res screener.Result) {
		if failed != nil {
			return
		}
		if cv != "" && !res.Failed() {
			res.Verdict, res.Category = cv, c.String("category")
			res.NeedsReview, res.ReviewReason, res.ReviewFlags = false, "", nil
		}
		if failed = w.Add(res); failed != nil {
			stop()
		}
	})
	fmt.Fprintln(c.App.ErrWriter, w.Summary())
	switch {
	case failed != nil:
		return failed
	case sum.Cancelled && c.Context.Err() != nil:
		return withCode(exitInterrupted, errors.New("interrupted: the replies above were written"))
	case sum.Errors > 0:
		return withCode(exitInputErrors, fmt.Errorf("%d of %d inputs could not be screened", sum.Errors, sum.Inputs))
	}
	return nil
}
