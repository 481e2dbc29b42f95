package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/screener/advice"
)

func checkCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "`FORMAT`: text (advice for a person) or json (for tools)"},
		maintainersFlag, sourceFlag,
		&cli.BoolFlag{Name: "ai-assisted", Usage: "a tool helped find or write the report: the kernel then treats the bug as public (its reproducer excepted)"},
	}
	flags = append(flags, inputFlags()...)
	flags = append(flags, pipelineFlags()...)
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
		Flags:  flags,
		Before: cliapp.CheckFormat,
		Action: checkAction,
	}
}

func checkAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("check: name one report (a FILE, or - for standard input)")
	}
	j, err := job(c)
	if err != nil {
		return err
	}
	p, err := buildPipeline(c, j.Settings, nil)
	if err != nil {
		return err
	}
	opt, err := p.Advice(j.Maintainers, c.Bool("ai-assisted"), j.Stderr)
	if err != nil {
		return err
	}
	a, err := advice.Check(c.Context, p.Screener, j.Inputs, j.Intake, opt)
	if c.Context.Err() != nil {
		return withCode(exitInterrupted, errors.New("interrupted"))
	} else if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if err := emit(c, a, func(w io.Writer) error { return advice.WriteText(w, a) }); err != nil {
		return err
	}
	if code := a.Action.ExitCode(); code != 0 {
		return withCode(code, errors.New(""))
	}
	return nil
}
