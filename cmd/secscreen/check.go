package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/screener/advice"
	"github.com/secscreen/secscreen/screener/intake"
)

// Exit codes of check, for scripts and pre-send hooks (README, "secscreen
// check"). 1 is a failure and 2 a usage error, as for every command.
var checkExit = map[advice.Action]int{
	advice.SendSecurity: 0,
	advice.SendOrdinary: 3,
	advice.FixFirst:     4,
	advice.DoNotSend:    5,
}

const checkExitHelp = `EXIT CODES:
   0    send it to the security team (privately, to the maintainers with the
        security team in Cc)
   3    not a security bug: send it as an ordinary bug (publicly, or to the vendor)
   4    it needs more information before it is sent
   5    not a bug: do not send it
   1    check failed (the input could not be read)
   2    usage error (bad flag, argument or file format)
   130  interrupted`

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
			"Works as git's sendemail-validate hook (see README).\n\n" + checkExitHelp,
		Flags:  flags,
		Action: checkAction,
	}
}

func checkAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("check: name one report (a FILE, or - for standard input)")
	}
	format := c.String("format")
	if format != "text" && format != "json" {
		return usageErr("check: unknown format %q (want text or json)", format)
	}
	set, err := resolveSettings(c)
	if err != nil {
		return err
	}
	inOpt, err := intakeOptions(c, set)
	if err != nil {
		return err
	}
	p, err := buildPipeline(c, set, nil)
	if err != nil {
		return err
	}
	opt, err := adviceOptions(c, p)
	if err != nil {
		return err
	}

	// Every message of the input is one report: a cover letter and its
	// patches (b4 send -o, git format-patch) are read as one thread.
	var msgs []*intake.Report
	for it := range intake.Read(c.Context, c.Args().Slice(), inOpt) {
		if it.Err != nil {
			return fmt.Errorf("check: %s: %w", it.Source, it.Err)
		}
		msgs = append(msgs, it.Report)
	}
	if err := c.Context.Err(); err != nil {
		return withCode(exitInterrupted, errors.New("interrupted"))
	}
	r, err := intake.JoinThread(msgs)
	if err != nil {
		return fmt.Errorf("check: %s: no report found", c.Args().First())
	}
	res := p.screener.Screen(c.Context, r)
	if res.Failed() {
		return fmt.Errorf("check: %s", *res.Error)
	}
	if c.Context.Err() != nil {
		return withCode(exitInterrupted, errors.New("interrupted"))
	}
	a := advice.Build(res, opt)
	if format == "json" {
		err = writeJSON(c, a)
	} else {
		err = advice.WriteText(c.App.Writer, a)
	}
	if err != nil {
		return fmt.Errorf("check: write: %w", err)
	}
	if code := checkExit[a.Action]; code != 0 {
		return withCode(code, errors.New(""))
	}
	return nil
}
