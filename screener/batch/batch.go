// Package batch runs the screen, reply and check commands over their inputs:
// reads the reports (intake), screens them with the pipeline setup builds,
// looks them up in the history, writes one row per input (output, resuming
// a JSONL file), drafts the replies (replies), remembers what --since-last
// read, prints the run's summary, and says how the run went as an error
// carrying its exit code (internal/exit).
//
//	inputs ──► intake ──► setup.Build's screener (+ dedup, history) ──► output rows, reply drafts ──► summary, exit code
package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/internal/gcstart"
	"github.com/secscreen/secscreen/replies"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/dedup"
	"github.com/secscreen/secscreen/screener/history"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/output"
	"github.com/secscreen/secscreen/screener/setup"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Job is what screen and reply share: the inputs, how to read and screen
// them, and where messages go.
type Job struct {
	// Settings are the run's merged settings (config.Resolve).
	Settings config.Settings
	// Files are the threat model, rules, series and source tree.
	Files setup.Files
	// Inputs are files, directories, Maildirs, mboxes, JSONL, or "-".
	Inputs []string
	// Intake says how to read them.
	Intake intake.Options
	// Maintainers is a MAINTAINERS file whose entries the drafts name
	// ("" none); ReplyTemplate is the drafts' wording (NAME@VERSION or a
	// file; "" the default).
	Maintainers, ReplyTemplate string
	// Stdout receives the results; Stderr the progress, the summary and
	// notes.
	Stdout, Stderr io.Writer
}

// drafter returns the drafter of the replies in dir, or onto out when dir
// is "", with the job's wording and advice.
func (j Job) drafter(p *setup.Pipeline, dir string, out io.Writer) (*replies.Drafter, error) {
	opt, err := p.Advice(j.Maintainers, false, j.Stderr)
	if err != nil {
		return nil, err
	}
	tpl, err := replies.Resolve(j.ReplyTemplate)
	if err != nil {
		return nil, exit.Usagef("--reply-template: %w", err)
	}
	return &replies.Drafter{Dir: dir, Out: out, Log: j.Stderr, Template: tpl, Advice: opt}, nil
}

// Screen is a screen run.
type Screen struct {
	Job
	// Format is the output format (output.ParseFormat); unless
	// FormatGiven, a file name's extension in Output chooses it instead.
	Format      string
	FormatGiven bool
	// Output is the results' file; "" writes them to Stdout.
	Output string
	// Resume continues the JSONL file Output: the reports it has a row
	// for are skipped.
	Resume bool
	// SinceLast reads only what arrived since the last such run, as
	// remembered in the State file ("" the default one).
	SinceLast bool
	State     string
	// Verbose details the text format; Quiet drops the progress line and
	// the summary.
	Verbose, Quiet bool
	// Replies is a directory to draft replies into ("" none).
	Replies string
	// History is the history of screened reports (history.Open; "" the
	// default); NoHistory screens without one.
	History   string
	NoHistory bool
}

// Run screens the inputs and writes a row for each. Its error carries the
// exit code: usage, failure, interrupted, the model's failure, or inputs
// that could not be screened.
func (o Screen) Run(ctx context.Context) error {
	format, err := output.ParseFormat(o.Format)
	if err != nil {
		return exit.With(exit.Usage, err)
	}
	if o.Output != "" && !o.FormatGiven {
		// -o report.html without -f writes HTML, not a text table.
		format = output.FormatForFile(o.Output, format)
	}
	if o.Resume && (o.Output == "" || format != output.JSONL) {
		return exit.Usagef("--resume continues a JSONL output: name it with -o FILE (.jsonl, or -f jsonl)")
	}
	var since *intake.SinceState
	if o.SinceLast {
		if since, err = loadSince(o.State); err != nil {
			return err
		}
		o.Intake.Since = since
	} else if o.State != "" {
		return exit.Usagef("--state goes with --since-last")
	}
	// The progress line shares the terminal only when results go elsewhere.
	tableOnTerminal := o.Output == "" && output.IsTerminal(o.Stdout)
	progress := output.NewProgress(o.Stderr, !o.Quiet && !tableOnTerminal && output.IsTerminal(o.Stderr), -1)
	if progress.Enabled() && !o.SinceLast && !o.Resume { // those read part of the inputs
		countCtx, stopCount := context.WithCancel(ctx)
		defer stopCount()
		go func() {
			if n, ok := intake.CountMessages(countCtx, o.Inputs); ok {
				progress.SetTotal(n)
			}
		}()
	}
	// The history opens (SQLite: ~4 ms of CPU, its file created and its
	// schema read) on another core while setup loads the rules; setup
	// waits for it before it builds the classifier.
	var h openedHistory
	opened := make(chan struct{})
	go func() {
		defer close(opened)
		h.dups, h.hist, h.err = o.duplicates(ctx)
	}()
	p, buildErr := setup.Build(ctx, o.Settings, o.Files, setup.Options{Log: o.Stderr, Progress: progress.Update,
		SmallInput: setup.SmallInputs(o.Inputs), Ready: func() error { <-opened; return h.err },
		Configure: func(cfg *screener.Config) {
			<-opened // Ready has waited already
			cfg.Duplicates = h.dups
			// JSONL streams each row as it is done; the other formats
			// keep the input's order.
			cfg.EmitAsDone = format == output.JSONL
		}})
	<-opened
	if h.err != nil { // the history's error first, as when it opened first
		return h.err
	}
	dups, hist := h.dups, h.hist
	defer dups.Close()
	if hist != nil {
		defer hist.Close()
		if o.Intake.Threads {
			// A reply to a thread of an earlier run joins that thread;
			// what this run records is not earlier.
			o.Intake.EarlierThreads = history.EarlierThreads(hist, time.Now())
		}
	}
	if buildErr != nil {
		return buildErr
	}

	out, done, err := o.openOutput()
	if err != nil {
		return err
	}
	defer out.Close()
	wopt := output.Options{Verbose: o.Verbose}
	if tableOnTerminal {
		wopt.Width = output.TerminalWidth(o.Stdout, 120)
	}
	w, err := output.New(format, out, wopt)
	if err != nil {
		return exit.With(exit.Usage, err)
	}
	var drafts *replies.Drafter
	if o.Replies != "" {
		if drafts, err = o.drafter(p, o.Replies, nil); err != nil {
			return err
		}
		drafts.Log = nil // the progress line owns standard error; the summary counts the drafts
	}

	// A failed write (a full disk) stops the run: every report screened
	// after it would cost a model call for a row nobody gets.
	ctx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var writeErr error
	items := growHeapAtSecond(intake.Read(ctx, o.Inputs, o.Intake))
	if done != nil {
		items = done.Filter(items)
	}
	sum := p.Screener.Run(ctx, items, func(r screener.Result) {
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
			fmt.Fprintf(o.Stderr, "secscreen: --since-last: %s\n", w)
		}
		// The state moves on only after every row of this run was written:
		// a run stopped halfway reads the same messages again next time.
		if writeErr == nil && !sum.Cancelled {
			if err := since.Save(); err != nil {
				return exit.With(exit.Failure, err)
			}
		}
	}
	if !o.Quiet {
		fmt.Fprintln(o.Stderr, p.SummaryLine(sum))
		fmt.Fprint(o.Stderr, output.SummaryDetail(sum))
		if done != nil {
			fmt.Fprintf(o.Stderr, "  resumed %s: %s\n", o.Output, done)
		}
		if since != nil && len(since.Whole) > 0 {
			fmt.Fprintf(o.Stderr, "  --since-last: read whole (not a public-inbox or Maildir): %s\n", output.FirstOf(since.Whole, 5))
		}
		if drafts != nil {
			fmt.Fprintf(o.Stderr, "  %s\n", drafts.Summary())
		}
		fmt.Fprintf(o.Stderr, "  duplicates: %d of earlier reports, %d decisions reused without a model call", sum.Duplicates, sum.Reused)
		if hist != nil {
			fmt.Fprintf(o.Stderr, "; history %s: %d recorded", hist, dups.Stats().Recorded)
		}
		fmt.Fprintln(o.Stderr)
	}
	if writeErr != nil {
		return fmt.Errorf("write results: %w", writeErr)
	}
	if err := dups.Err(); err != nil {
		return exit.With(exit.Failure, fmt.Errorf("history %s failed part way (%v): the results are complete, the history is not", hist, err))
	}
	return outcome(sum)
}

// openOutput opens where the rows go: the Output file, created or (with
// Resume) continued, with done holding the rows it already has; else
// Stdout.
func (o Screen) openOutput() (out io.WriteCloser, done *output.Done, err error) {
	if o.Output == "" {
		return nopCloser{o.Stdout}, nil, nil
	}
	var f *os.File
	if o.Resume {
		f, done, err = output.ResumeJSONL(o.Output)
	} else {
		f, err = os.Create(o.Output)
	}
	if err != nil {
		return nil, nil, exit.With(exit.Failure, fmt.Errorf("open output: %w", err))
	}
	return f, done, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// outcome is the error a finished screening run's summary calls for, or
// nil: interrupted, the model's failure, or inputs that could not be
// screened.
func outcome(sum screener.Summary) error {
	switch {
	case sum.Cancelled:
		return exit.With(exit.Interrupted, errors.New("interrupted: the results above are complete for the inputs read so far"))
	case sum.ModelRefused:
		return exit.With(exit.ModelFailed, errors.New("the model server refused the credentials (HTTP 401/403); the reports after the refusal were screened by the rules alone and not sent"))
	case sum.ModelCalls > 0 && sum.ModelFailures == sum.ModelCalls:
		return exit.With(exit.ModelFailed, fmt.Errorf("the model gave no valid answer for any of %d reports; every label is the rules' alone (see model.error in the results)", sum.ModelCalls))
	case sum.Errors > 0:
		return exit.With(exit.InputErrors, fmt.Errorf("%d of %d inputs could not be screened (see their error rows)", sum.Errors, sum.Inputs))
	}
	return nil
}

// loadSince loads the --since-last state from path, or from the default
// file when path is "".
func loadSince(path string) (*intake.SinceState, error) {
	if path == "" {
		p, err := intake.DefaultSinceStatePath()
		if err != nil {
			return nil, exit.Usagef("--since-last: no --state given and %w", err)
		}
		path = p
	}
	since, err := intake.LoadSinceState(path)
	if err != nil {
		return nil, exit.With(exit.Failure, err)
	}
	return since, nil
}

// duplicates returns the duplicate tracker of the run and the history
// behind it (nil with NoHistory: duplicates within the run are still
// found).
func (o Screen) duplicates(ctx context.Context) (*dedup.Tracker, history.Store, error) {
	if o.NoHistory {
		return dedup.NewTracker(nil, dedup.Options{}, nil), nil, nil
	}
	s, err := history.Open(ctx, o.History)
	if err != nil {
		return nil, nil, exit.With(exit.Failure, fmt.Errorf("%w (--no-history screens without one)", err))
	}
	return dedup.NewTracker(s, dedup.Options{}, nil), s, nil
}

// openedHistory is what Screen.duplicates returns.
type openedHistory struct {
	dups *dedup.Tracker
	hist history.Store
	err  error
}

// Reply is a reply run: a draft for each report that is not a security
// bug.
type Reply struct {
	Job
	// Dir is the directory of the drafts; "" writes them all to Stdout as
	// an mbox.
	Dir string
	// Category, when set, is a person's decision: every report is answered
	// as this threat-model category, and no model is asked (the rules
	// still read the reports for what is missing).
	Category string
}

// Run drafts the replies and prints how many were written. Its error
// carries the exit code, as Screen.Run's does.
func (o Reply) Run(ctx context.Context) error {
	var verdict threatmodel.Verdict // the --category override's
	if o.Category != "" {
		o.Settings.Backend = "rules"
	}
	p, err := setup.Build(ctx, o.Settings, o.Files, setup.Options{Log: o.Stderr})
	if err != nil {
		return err
	}
	if o.Category != "" {
		v, ok := p.ThreatModel.VerdictOf(o.Category)
		if !ok {
			return exit.Usagef("reply: --category %q is not a category of the threat model (see secscreen threatmodel show)", o.Category)
		}
		verdict = v
	}
	w, err := o.drafter(p, o.Dir, o.Stdout)
	if err != nil {
		return err
	}
	// A draft that cannot be written stops the run, as a failed write
	// stops screen.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var failed error
	sum := p.Screener.Run(runCtx, intake.Read(runCtx, o.Inputs, o.Intake), func(res screener.Result) {
		if failed != nil {
			return
		}
		if verdict != "" && !res.Failed() {
			res.Verdict, res.Category = verdict, o.Category
			res.NeedsReview, res.ReviewReason, res.ReviewFlags = false, "", nil
		}
		if failed = w.Add(res); failed != nil {
			stop()
		}
	})
	fmt.Fprintln(o.Stderr, w.Summary())
	switch {
	case failed != nil:
		return failed
	case sum.Cancelled && ctx.Err() != nil:
		return exit.With(exit.Interrupted, errors.New("interrupted: the replies above were written"))
	case sum.Errors > 0:
		return exit.With(exit.InputErrors, fmt.Errorf("%d of %d inputs could not be screened", sum.Errors, sum.Inputs))
	}
	return nil
}

// growHeapAtSecond returns items, having more heap prepared on huge pages
// (gcstart.GrowHeap) as the second is read: a run of more than one report
// grows the heap past its first chunk, the one advised at start, and one
// report with the rules alone does not (setup.Build prepares it already
// for a run with the baseline or a model whose inputs are not small). 2,000
// reports on one core took ~5% more CPU without it.
func growHeapAtSecond(items iter.Seq[intake.Item]) iter.Seq[intake.Item] {
	return func(yield func(intake.Item) bool) {
		n := 0
		for it := range items {
			if n++; n == 2 {
				gcstart.GrowHeap()
			}
			if !yield(it) {
				return
			}
		}
	}
}
