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
			&cli.Float64Flag{Name: "lambda", Usage: "logreg: L2 strength `L` (default: chosen by cross-validation among " +
				strings.ReplaceAll(strings.Trim(fmt.Sprint(baseline.Lambdas), "[]"), " ", ", ") + ")"},
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

func trainRun(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("train: unexpected arguments %q (the corpus is given with --corpus)", c.Args().Slice())
	}
	opt, err := baseline.TrainFlags{Algo: c.String("algo"), Lambda: c.Float64("lambda"), RuleScale: c.Float64("rule-scale"),
		Alpha: c.Float64("alpha"), RuleWeight: c.Int("rule-weight"), MinCount: c.Int("min-count"), MaxFeatures: c.Int("max-features"),
		CharGrams: c.Int("char-grams"), Folds: c.Int("folds"), Seed: c.Int("seed"), TargetRecall: c.Float64("target-recall"), Given: c.IsSet}.Options()
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
