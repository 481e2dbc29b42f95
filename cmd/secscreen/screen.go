package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/replies"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/output"
)

func screenCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "output `FORMAT`: text, json, jsonl, csv, md, html"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write results to `FILE` instead of standard output"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "text format: show route, review reason and every rule that fired"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress line and no summary on standard error"},
		&cli.BoolFlag{Name: "resume", Usage: "continue into the JSONL output named by -o: skip the reports it already has a row for (same id and content), repair a half-written last line, append the rest"},
		&cli.BoolFlag{Name: "no-threads", Usage: "screen every message alone, replies included (by default a reply is folded into the report it answers within the same input)"},
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
			"not be screened. A summary line on standard error counts inputs and rows.\n\n" + exitCodesHelp,
		Flags:  flags,
		Action: screenAction,
	}
}

func screenAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("screen: name at least one INPUT (a file, a directory, or - for standard input)")
	}
	format, err := output.ParseFormat(c.String("format"))
	if err != nil {
		return usageErr("%w", err)
	}
	if path := c.String("output"); path != "" && !c.IsSet("format") {
		// -o report.html without -f writes HTML, not a text table.
		format = output.FormatForFile(path, format)
	}
	set, err := resolveSettings(c)
	if err != nil {
		return err
	}
	inOpt, err := intakeOptions(c, set)
	if err != nil {
		return err
	}
	inOpt.Threads = !c.Bool("no-threads")
	resume := c.Bool("resume")
	if resume && (c.String("output") == "" || format != output.JSONL) {
		return usageErr("--resume continues a JSONL output: name it with -o FILE (.jsonl, or -f jsonl)")
	}
	var since *intake.SinceState
	if c.Bool("since-last") {
		path, err := statePath(c)
		if err != nil {
			return err
		}
		if since, err = intake.LoadSinceState(path); err != nil {
			return withCode(exitFailure, err)
		}
		inOpt.Since = since
	} else if c.IsSet("state") {
		return usageErr("--state goes with --since-last")
	}
	quiet := c.Bool("quiet")
	// The progress line shares the terminal only when results go elsewhere.
	tableOnTerminal := c.String("output") == "" && isTerminal(c.App.Writer)
	progress := output.NewProgress(c.App.ErrWriter, !quiet && !tableOnTerminal && isTerminal(c.App.ErrWriter), -1)
	dups, hist, err := duplicatesFor(c)
	if err != nil {
		return err
	}
	defer dups.Close()
	if hist != nil {
		defer hist.Close()
	}
	// JSONL streams each row as it is done; the other formats keep the
	// input's order.
	p, err := buildPipeline(c, set, progress.Update, func(cfg *screener.Config) {
		cfg.Duplicates = dups
		cfg.EmitAsDone = format == output.JSONL
	})
	if err != nil {
		return err
	}

	out := c.App.Writer
	toTerminal := tableOnTerminal
	var done *output.Done
	if path := c.String("output"); path != "" {
		var f *os.File
		if resume {
			f, done, err = output.ResumeJSONL(path)
		} else {
			f, err = os.Create(path)
		}
		if err != nil {
			return withCode(exitFailure, fmt.Errorf("open output: %w", err))
		}
		defer f.Close()
		out, toTerminal = f, false
	}
	wopt := output.Options{Verbose: verbose(c)}
	if toTerminal {
		wopt.Width = terminalWidth(out)
	}
	w, err := output.New(format, out, wopt)
	if err != nil {
		return usageErr("%w", err)
	}
	var drafts *replies.Drafter
	if dir := c.String("replies"); dir != "" {
		opt, err := adviceOptions(c, p)
		if err != nil {
			return err
		}
		if drafts, err = newDrafter(c, dir, nil, opt); err != nil {
			return err
		}
		drafts.Log = nil // the progress line owns standard error; the summary counts the drafts
	}

	// A failed write (a full disk) stops the run: every report screened
	// after it would cost a model call for a row nobody gets.
	ctx, stopRun := context.WithCancel(c.Context)
	defer stopRun()
	var writeErr error
	items := intake.Read(ctx, c.Args().Slice(), inOpt)
	if done != nil {
		items = done.Filter(items)
	}
	sum := p.screener.Run(ctx, items, func(r screener.Result) {
		if writeErr == nil {
			if writeErr = w.Write(r); writeErr == nil && drafts != nil {
				writeErr = drafts.Add(r)
			}
			if writeErr != nil {
				stopRun()
			}
		}
	})
	progress.Done()
	if writeErr == nil {
		writeErr = w.Close(sum)
	}
	if since != nil {
		for _, w := range since.Warnings {
			fmt.Fprintf(c.App.ErrWriter, "secscreen: --since-last: %s\n", w)
		}
		// The state moves on only after every row of this run was written:
		// a run stopped halfway reads the same messages again next time.
		if writeErr == nil && !sum.Cancelled {
			if err := since.Save(); err != nil {
				return withCode(exitFailure, err)
			}
		}
	}
	if !quiet {
		fmt.Fprintln(c.App.ErrWriter, p.summaryLine(sum))
		fmt.Fprint(c.App.ErrWriter, output.SummaryDetail(sum))
		if done != nil {
			fmt.Fprintf(c.App.ErrWriter, "  resumed %s: %s\n", c.String("output"), done)
		}
		if since != nil && len(since.Whole) > 0 {
			fmt.Fprintf(c.App.ErrWriter, "  --since-last: read whole (not a public-inbox or Maildir): %s\n", output.FirstOf(since.Whole, 5))
		}
		if drafts != nil {
			fmt.Fprintf(c.App.ErrWriter, "  %s\n", drafts.Summary())
		}
		fmt.Fprint(c.App.ErrWriter, historySummary(sum, dups, hist))
	}
	switch {
	case writeErr != nil:
		return fmt.Errorf("write results: %w", writeErr)
	case historyError(dups, hist) != nil:
		return historyError(dups, hist)
	case sum.Cancelled:
		return withCode(exitInterrupted, errors.New("interrupted: the results above are complete for the inputs read so far"))
	case sum.ModelRefused:
		return withCode(exitModelFailed, errors.New("the model server refused the credentials (HTTP 401/403); the reports after the refusal were screened by the rules alone and not sent"))
	case sum.ModelCalls > 0 && sum.ModelFailures == sum.ModelCalls:
		return withCode(exitModelFailed, fmt.Errorf("the model gave no valid answer for any of %d reports; every label is the rules' alone (see model.error in the results)", sum.ModelCalls))
	case sum.Errors > 0:
		return withCode(exitInputErrors, fmt.Errorf("%d of %d inputs could not be screened (see their error rows)", sum.Errors, sum.Inputs))
	}
	return nil
}

// statePath is --state, or the default state file.
func statePath(c *cli.Context) (string, error) {
	if p := c.String("state"); p != "" {
		return p, nil
	}
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", usageErr("--since-last: no --state given and no home directory for the default: %v", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "secscreen", "since-last.json"), nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && output.IsTerminal(f)
}

// terminalWidth is w's width when it is a terminal, else 120.
func terminalWidth(w io.Writer) int {
	f, _ := w.(*os.File)
	return output.TerminalWidth(f, 120)
}
