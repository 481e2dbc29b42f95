package baseline

import (
	"cmp"
	"context"
	"fmt"
	"io"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// TrainCorpusOptions configure TrainCorpus.
type TrainCorpusOptions struct {
	// Corpus is the labeled corpus's directory. Split is the split asked
	// for: only dev, as the test split is sealed for measuring.
	Corpus, Split string
	// Output is the model's file; "-" writes the model to TrainCorpus's out
	// and the summary to its log.
	Output string
	// TrainOptions tune Train.
	TrainOptions
}

// TrainCorpus is `secscreen train`: it trains a model (Train, with eng) on
// the dev split of a labeled corpus, writes it to opt.Output and says what
// it learned (WriteTrainSummary) on out, or on log when the model goes to
// out. A report that cannot be read is named on log and left out. What
// the user named wrongly (the split, the corpus, an empty split) is a
// usage error.
func TrainCorpus(ctx context.Context, out, log io.Writer, eng *rules.Engine, opt TrainCorpusOptions) error {
	split := corpus.SplitDev
	if opt.Split != split {
		return exit.Usagef("train: --split %q: the baseline is trained on the dev split only; the test split is sealed for measuring", opt.Split)
	}
	crp, err := corpus.Load(opt.Corpus)
	if err != nil {
		return exit.Usagef("train: %w", err)
	}
	if crp, err = crp.OnlySplit(split); err != nil {
		return exit.Usagef("train: %w", err)
	}
	if len(crp.Labels) == 0 {
		return exit.Usagef("train: the %s split of %s holds no reports", split, crp.Dir)
	}
	ex, skipped, err := readExamples(ctx, log, crp)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if len(ex) == 0 {
		return fmt.Errorf("train: no readable reports in %s (%d skipped)", crp.Dir, skipped)
	}
	m, err := Train(ex, eng, opt.TrainOptions)
	if err != nil {
		return fmt.Errorf("train: %w (run `secscreen corpus check %s`)", err, crp.Dir)
	}
	summary := out
	if opt.Output == "-" {
		err, summary = m.Save(out), log
	} else {
		err = m.SaveFile(opt.Output)
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := WriteTrainSummary(summary, m, ex, skipped, cmp.Or(opt.ThreatModel, threatmodel.Kernel()), split); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if opt.Output != "-" {
		fmt.Fprintf(summary, "wrote %s\n", opt.Output)
	}
	return nil
}

// readExamples reads the report of every label of crp. A label whose file
// does not yield exactly one report is named on log and skipped.
func readExamples(ctx context.Context, log io.Writer, crp *corpus.Corpus) ([]Example, int, error) {
	read, err := crp.ReadReports(ctx, intake.Options{})
	if err != nil {
		return nil, 0, err
	}
	var ex []Example
	skipped := 0
	for _, lr := range read {
		if lr.Err != nil {
			skipped++
			fmt.Fprintf(log, "train: skipping %s: %v\n", lr.Label.ID, lr.Err)
			continue
		}
		ex = append(ex, Example{Report: lr.Report, Label: lr.Label.Label})
	}
	return ex, skipped, nil
}
