package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/baseline"
	"github.com/secscreen/secscreen/screener/setup"
)

// trainCommand is `secscreen train`: fit the offline baseline classifier
// to a labeled corpus.
func trainCommand(cl commandLine) *cli.Command {
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
		Flags:  cl.flags("train", func() []cli.Flag { return cliapp.Flags(baseline.TrainCorpusFlags(), setup.ModelFlags) }),
		Action: trainRun,
	}
}

func trainRun(c *cli.Context) error {
	if c.NArg() > 0 {
		return exit.Usagef("train: unexpected arguments %q (the corpus is given with --corpus)", c.Args().Slice())
	}
	opt, err := baseline.NewTrainCorpusOptions(c)
	if err != nil {
		return err
	}
	tm, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return err
	}
	opt.ThreatModel = tm
	return baseline.TrainCorpus(c.Context, c.App.Writer, c.App.ErrWriter, eng, opt)
}
