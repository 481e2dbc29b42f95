package rules

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/intake"
)

// DevExamples reads the dev split of the labeled corpus in dir as
// examples, in corpus order. Rules are written, linted and fitted on the
// dev split only, so that the test split can measure them: split must be
// "dev" (anything else is a usage error). A label whose report cannot be
// read, or a dev split without labels, is an error.
func DevExamples(ctx context.Context, dir, split string) ([]Example, error) {
	if split != corpus.SplitDev {
		return nil, exit.Usagef("--split %q: rules are linted and fitted on the dev split only; the test split is sealed for measuring", split)
	}
	crp, err := corpus.Load(dir)
	if err != nil {
		return nil, err
	}
	dev, err := crp.OnlySplit(corpus.SplitDev)
	if err != nil {
		return nil, err
	}
	read, err := dev.ReadReports(ctx, intake.Options{})
	if err != nil {
		return nil, err
	}
	var out []Example
	for _, lr := range read {
		if lr.Err != nil {
			return nil, fmt.Errorf("corpus: %w", lr.Err)
		}
		out = append(out, Example{ID: lr.Label.ID, Report: lr.Report, Category: lr.Label.Category})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("corpus %s has no dev reports", crp.Dir)
	}
	return out, nil
}

// CorpusOptions name the labeled corpus LintCorpus and FitCorpus learn
// from: its directory and the split asked for (only dev is accepted, see
// DevExamples).
type CorpusOptions struct {
	Corpus, Split string
}

// LintCorpusOptions configure LintCorpus.
type LintCorpusOptions struct {
	CorpusOptions
	// MinReports is Lint's minReports.
	MinReports int
	// Format is how the report is written.
	Format docformat.Format
}

// LintCorpus lints e on the dev split of a corpus (DevExamples, Lint) and
// writes the report to w. Alternatives that fire on too few reports are an
// error, after the report, that counts them.
func LintCorpus(ctx context.Context, w io.Writer, e *Engine, opt LintCorpusOptions) error {
	f, err := docformat.Parse(string(opt.Format))
	if err != nil {
		return exit.Usagef("rules lint: %w", err)
	}
	examples, err := DevExamples(ctx, opt.Corpus, opt.Split)
	if err != nil {
		return stopped(ctx, err)
	}
	rep, err := Lint(ctx, e, examples, opt.MinReports)
	if err != nil {
		return stopped(ctx, err)
	}
	if err := docformat.Write(w, f, rep, rep.WriteText); err != nil {
		return fmt.Errorf("rules lint: %w", err)
	}
	if !rep.OK() {
		return fmt.Errorf("rules lint: %d match alternatives fire on fewer than %d dev reports", len(rep.Failures), rep.MinReports)
	}
	return nil
}

// FitCorpusOptions configure FitCorpus.
type FitCorpusOptions struct {
	CorpusOptions
	FitOptions
	// Output is the weights file to write; empty writes none.
	Output string
}

// FitCorpus fits e's weights on the dev split of a corpus (DevExamples,
// Fit), stamps them with how they were made, writes the figures to w and
// the weights to opt.Output, and says on log what it wrote.
func FitCorpus(ctx context.Context, w, log io.Writer, e *Engine, opt FitCorpusOptions) error {
	examples, err := DevExamples(ctx, opt.Corpus, opt.Split)
	if err != nil {
		return stopped(ctx, err)
	}
	res, err := Fit(ctx, e, examples, opt.FitOptions)
	if err != nil {
		return stopped(ctx, err)
	}
	res.Stamp(opt.Corpus, corpus.SplitDev, examples, opt.Lambda, time.Now())
	if err := res.WriteText(w); err != nil {
		return fmt.Errorf("rules fit: %w", err)
	}
	if opt.Output == "" {
		fmt.Fprintln(log, "rules fit: weights not written (give -o FILE)")
		return nil
	}
	if err := res.Weights.WriteFile(opt.Output); err != nil {
		return fmt.Errorf("rules fit: %w", err)
	}
	fmt.Fprintf(log, "rules fit: wrote %s\n", opt.Output)
	return nil
}

// stopped is err, with the exit code of an interrupted run when ctx was
// cancelled (whatever err says: reading the corpus or linting stopped).
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return exit.With(exit.Interrupted, fmt.Errorf("interrupted: %w", err))
	}
	return err
}
