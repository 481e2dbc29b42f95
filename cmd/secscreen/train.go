package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener/baseline"
	"github.com/secscreen/secscreen/screener/intake"
)

// trainCommand is `secscreen train`: fit the offline baseline classifier
// to a labeled corpus.
func trainCommand() *cli.Command {
	return &cli.Command{
		Name:  "train",
		Usage: "train the offline baseline classifier on a labeled corpus",
		Description: "Reads the dev split of --corpus (labels.jsonl and the reports it names; the test split is\n" +
			"sealed for measuring), evaluates every report with the rules, fits a classifier over words, word pairs, their\n" +
			"character n-grams and the rules' findings (--algo nb: naive Bayes, the default; logreg: L2-regularised\n" +
			"logistic regression),\n" +
			"calibrates it on --folds held-out folds (a temperature, and the security threshold that reaches\n" +
			"--target-recall), and writes it to -o. Trained on dev only, a model scores the test split\n" +
			"directly. A report file that cannot be read is reported and skipped. The built-in\n" +
			"model is made with `secscreen train --corpus corpus --split dev -o screener/baseline/model.json`.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "corpus", Value: "corpus", Usage: "corpus `DIR` holding labels.jsonl and the reports"},
			&cli.StringFlag{Name: "split", Value: corpus.SplitDev, Usage: "corpus `SPLIT` to train on; only dev: the test split is sealed"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true, Usage: "write the model to `FILE` (\"-\": stdout)"},
			&cli.StringFlag{Name: "algo", Value: baseline.DefaultAlgo, Usage: "`ALGO`: logreg (logistic regression) or nb (naive Bayes)"},
			&cli.Float64Flag{Name: "lambda", Usage: "logreg: L2 strength `L` (default: chosen by cross-validation among " + lambdaList() + ")"},
			&cli.Float64Flag{Name: "rule-scale", Value: baseline.DefaultRuleScale, Usage: "logreg: length `X` of the rules' block of the feature vector (the words' has length 1)"},
			&cli.Float64Flag{Name: "alpha", Value: baseline.DefaultAlpha, Usage: "nb: additive smoothing `ALPHA` of the counts"},
			&cli.IntFlag{Name: "rule-weight", Value: baseline.DefaultRuleWeight, Usage: "nb: count each rule or fact feature `N` times"},
			&cli.IntFlag{Name: "min-count", Value: baseline.DefaultMinCount, Usage: "keep words found in at least `N` training reports"},
			&cli.IntFlag{Name: "max-features", Value: baseline.DefaultMaxFeatures, Usage: "read at most `N` distinct words and word pairs per report"},
			&cli.IntFlag{Name: "char-grams", Value: baseline.DefaultCharGrams, Usage: "also read the character `N`-grams of the words (0: words and word pairs only)"},
			&cli.IntFlag{Name: "folds", Value: baseline.DefaultFolds, Usage: "calibrate on `K` stratified held-out folds"},
			&cli.IntFlag{Name: "seed", Value: baseline.DefaultSeed, Usage: "seed `N` of the calibration folds"},
			&cli.Float64Flag{Name: "target-recall", Value: baseline.DefaultTargetRecall, Usage: "choose the security threshold for held-out security recall `R`"},
			threatModelFlag,
			rulesFlag,
			seriesFlag,
		},
		Action: trainRun,
	}
}

func lambdaList() string {
	var s []string
	for _, l := range baseline.Lambdas {
		s = append(s, fmt.Sprint(l))
	}
	return strings.Join(s, ", ")
}

// trainOptions reads the training options from the flags. Flags of the
// other algorithm are refused when given.
func trainOptions(c *cli.Context) (baseline.TrainOptions, error) {
	opt := baseline.TrainOptions{
		Algo:         c.String("algo"),
		MinCount:     c.Int("min-count"),
		MaxFeatures:  c.Int("max-features"),
		CharGrams:    c.Int("char-grams"),
		Folds:        c.Int("folds"),
		Seed:         uint64(c.Int("seed")),
		TargetRecall: c.Float64("target-recall"),
	}
	if opt.CharGrams == 0 {
		opt.CharGrams = -1 // none: zero options would take the default
	}
	var other []string
	switch opt.Algo {
	case baseline.AlgoLogReg:
		opt.Lambda, opt.RuleScale = c.Float64("lambda"), c.Float64("rule-scale")
		other = []string{"alpha", "rule-weight"}
		switch {
		case c.IsSet("lambda") && !(opt.Lambda > 0):
			return opt, usageErr("train: --lambda must be positive")
		case !(opt.RuleScale > 0):
			return opt, usageErr("train: --rule-scale must be positive")
		}
	case baseline.AlgoNaiveBayes:
		opt.Alpha, opt.RuleWeight = c.Float64("alpha"), c.Int("rule-weight")
		other = []string{"lambda", "rule-scale"}
		switch {
		case !(opt.Alpha > 0):
			return opt, usageErr("train: --alpha must be positive")
		case opt.RuleWeight < 1:
			return opt, usageErr("train: --rule-weight must be at least 1")
		}
	default:
		return opt, usageErr("train: --algo %q: want %s or %s", opt.Algo, baseline.AlgoLogReg, baseline.AlgoNaiveBayes)
	}
	for _, f := range other {
		if c.IsSet(f) {
			return opt, usageErr("train: --%s does not apply to --algo %s", f, opt.Algo)
		}
	}
	switch {
	case opt.MinCount < 1:
		return opt, usageErr("train: --min-count must be at least 1")
	case opt.MaxFeatures < 1:
		return opt, usageErr("train: --max-features must be at least 1")
	case c.Int("char-grams") < 0:
		return opt, usageErr("train: --char-grams must not be negative")
	case opt.Folds < 2:
		return opt, usageErr("train: --folds must be at least 2")
	case c.Int("seed") < 1:
		return opt, usageErr("train: --seed must be at least 1")
	case !(opt.TargetRecall > 0 && opt.TargetRecall <= 1):
		return opt, usageErr("train: --target-recall must be in (0, 1]")
	}
	return opt, nil
}

func trainRun(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("train: unexpected arguments %q (the corpus is given with --corpus)", c.Args().Slice())
	}
	opt, err := trainOptions(c)
	if err != nil {
		return err
	}
	tm, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return err
	}
	opt.ThreatModel = tm
	if split := c.String("split"); split != corpus.SplitDev {
		return usageErr("train: --split %q: the baseline is trained on the dev split only; the test split is sealed for measuring", split)
	}
	crp, err := corpus.Load(c.String("corpus"))
	if err != nil {
		return usageErr("train: %w", err)
	}
	split := corpus.SplitDev
	if crp, err = crp.OnlySplit(split); err != nil {
		return usageErr("train: %w", err)
	}
	if len(crp.Labels) == 0 {
		return usageErr("train: the %s split of %s holds no reports", split, crp.Dir)
	}

	ex, skipped, err := readExamples(c, crp)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if len(ex) == 0 {
		return fmt.Errorf("train: no readable reports in %s (%d skipped)", crp.Dir, skipped)
	}
	m, err := baseline.Train(ex, eng, opt)
	if err != nil {
		return fmt.Errorf("train: %w (run `secscreen corpus check %s`)", err, crp.Dir)
	}

	out, summary := c.String("output"), c.App.Writer
	if out == "-" {
		err, summary = m.Save(c.App.Writer), c.App.ErrWriter
	} else {
		err = m.SaveFile(out)
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := baseline.WriteTrainSummary(summary, m, ex, skipped, tm, split); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if out != "-" {
		fmt.Fprintf(summary, "wrote %s\n", out)
	}
	return nil
}

// readExamples reads the report of every label. A label whose file does
// not yield exactly one report is reported on stderr and skipped.
func readExamples(c *cli.Context, crp *corpus.Corpus) ([]baseline.Example, int, error) {
	read, err := crp.ReadReports(c.Context, intake.Options{})
	if err != nil {
		return nil, 0, err
	}
	var ex []baseline.Example
	skipped := 0
	for _, lr := range read {
		if lr.Err != nil {
			skipped++
			fmt.Fprintf(c.App.ErrWriter, "train: skipping %s: %v\n", lr.Label.ID, lr.Err)
			continue
		}
		ex = append(ex, baseline.Example{Report: lr.Report, Label: lr.Label.Label})
	}
	return ex, skipped, nil
}
