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

// TrainFlags are the training options as `secscreen train`'s flags give
// them, before they are checked and made TrainOptions: each field is the
// flag of the same name, and the options of the algorithm not chosen are
// ignored unless given, which is refused.
type TrainFlags struct {
	Algo                              string
	Lambda, RuleScale, Alpha          float64
	RuleWeight, MinCount, MaxFeatures int
	// CharGrams 0 reads words and word pairs only.
	CharGrams, Folds, Seed int
	TargetRecall           float64
	// Given reports whether the user set the flag name; nil means none.
	Given func(name string) bool
}

// Options checks the flags and returns the training options they give.
// What is wrong is a usage error naming the flag.
func (f TrainFlags) Options() (TrainOptions, error) {
	opt := TrainOptions{Algo: f.Algo, MinCount: f.MinCount, MaxFeatures: f.MaxFeatures, CharGrams: f.CharGrams,
		Folds: f.Folds, Seed: uint64(f.Seed), TargetRecall: f.TargetRecall}
	if opt.CharGrams == 0 {
		opt.CharGrams = -1 // none: zero options would take the default
	}
	other := map[string][]string{AlgoLogReg: {"alpha", "rule-weight"}, AlgoNaiveBayes: {"lambda", "rule-scale"}}[f.Algo]
	logreg, nb := f.Algo == AlgoLogReg, f.Algo == AlgoNaiveBayes
	if logreg {
		opt.Lambda, opt.RuleScale = f.Lambda, f.RuleScale
	} else {
		opt.Alpha, opt.RuleWeight = f.Alpha, f.RuleWeight
	}
	isSet := func(name string) bool { return f.Given != nil && f.Given(name) }
	given := ""
	for _, name := range other {
		if isSet(name) && given == "" {
			given = name
		}
	}
	why := ""
	switch {
	case other == nil:
		why = fmt.Sprintf("--algo %q: want %s or %s", f.Algo, AlgoLogReg, AlgoNaiveBayes)
	case logreg && isSet("lambda") && !(f.Lambda > 0):
		why = "--lambda must be positive"
	case logreg && !(f.RuleScale > 0):
		why = "--rule-scale must be positive"
	case nb && !(f.Alpha > 0):
		why = "--alpha must be positive"
	case nb && f.RuleWeight < 1:
		why = "--rule-weight must be at least 1"
	case given != "":
		why = fmt.Sprintf("--%s does not apply to --algo %s", given, f.Algo)
	case f.MinCount < 1:
		why = "--min-count must be at least 1"
	case f.MaxFeatures < 1:
		why = "--max-features must be at least 1"
	case f.CharGrams < 0:
		why = "--char-grams must not be negative"
	case f.Folds < 2:
		why = "--folds must be at least 2"
	case f.Seed < 1:
		why = "--seed must be at least 1"
	case !(f.TargetRecall > 0 && f.TargetRecall <= 1):
		why = "--target-recall must be in (0, 1]"
	default:
		return opt, nil
	}
	return opt, exit.Usagef("train: %s", why)
}
