package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener/baseline"
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
	opt := baseline.TrainOptions{Algo: c.String("algo"), MinCount: c.Int("min-count"), MaxFeatures: c.Int("max-features"),
		CharGrams: c.Int("char-grams"), Folds: c.Int("folds"), Seed: uint64(c.Int("seed")), TargetRecall: c.Float64("target-recall")}
	if opt.CharGrams == 0 {
		opt.CharGrams = -1 // none: zero options would take the default
	}
	other := map[string][]string{baseline.AlgoLogReg: {"alpha", "rule-weight"}, baseline.AlgoNaiveBayes: {"lambda", "rule-scale"}}[opt.Algo]
	if opt.Algo == baseline.AlgoLogReg {
		opt.Lambda, opt.RuleScale = c.Float64("lambda"), c.Float64("rule-scale")
	} else {
		opt.Alpha, opt.RuleWeight = c.Float64("alpha"), c.Int("rule-weight")
	}
	given := func() string {
		for _, f := range other {
			if c.IsSet(f) {
				return f
			}
		}
		return ""
	}
	logreg, nb := opt.Algo == baseline.AlgoLogReg, opt.Algo == baseline.AlgoNaiveBayes
	why := ""
	switch {
	case other == nil:
		why = fmt.Sprintf("--algo %q: want %s or %s", opt.Algo, baseline.AlgoLogReg, baseline.AlgoNaiveBayes)
	case logreg && c.IsSet("lambda") && !(opt.Lambda > 0):
		why = "--lambda must be positive"
	case logreg && !(opt.RuleScale > 0):
		why = "--rule-scale must be positive"
	case nb && !(opt.Alpha > 0):
		why = "--alpha must be positive"
	case nb && opt.RuleWeight < 1:
		why = "--rule-weight must be at least 1"
	case given() != "":
		why = fmt.Sprintf("--%s does not apply to --algo %s", given(), opt.Algo)
	case opt.MinCount < 1:
		why = "--min-count must be at least 1"
	case opt.MaxFeatures < 1:
		why = "--max-features must be at least 1"
	case c.Int("char-grams") < 0:
		why = "--char-grams must not be negative"
	case opt.Folds < 2:
		why = "--folds must be at least 2"
	case c.Int("seed") < 1:
		why = "--seed must be at least 1"
	case !(opt.TargetRecall > 0 && opt.TargetRecall <= 1):
		why = "--target-recall must be in (0, 1]"
	default:
		return opt, nil
	}
	return opt, usageErr("train: %s", why)
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
	return baseline.TrainCorpus(c.Context, c.App.Writer, c.App.ErrWriter, eng,
		baseline.TrainCorpusOptions{Corpus: c.String("corpus"), Split: c.String("split"), Output: c.String("output"), TrainOptions: opt})
}
