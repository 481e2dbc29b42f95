package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/eval"
	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/exit"
)

// evalCommand is `secscreen eval`: screen a labeled corpus and score it.
func evalCommand(cl commandLine) *cli.Command {
	return &cli.Command{
		Name:  "eval",
		Usage: "screen a labeled corpus and measure accuracy, recall, calibration and cost",
		Description: "Screens every report of --corpus (default: ./corpus) with the same pipeline as `screen`\n" +
			"and scores the final decision, the rules alone and the model alone against the labels. Prints\n" +
			"a summary; --json, --md and --html write full reports. --min-* thresholds make the command fail\n" +
			"for CI. --seed also seeds the bootstrap and the fold split. --split dev|test scores one split.\n\n" +
			"When a model answers, the offline baseline votes beside it and the rules; the reports start with\n" +
			"the public leaks (true security reports routed publicly), then the final decision against each\n" +
			"voter alone, then the share flagged for review. --simulate ERROR_RATE[,SEED] measures the policy\n" +
			"with a stand-in model that knows the labels and is wrong on that share of the reports.\n\n" +
			"A baseline model is never scored on reports it was trained on, whether it answers as the backend\n" +
			"or votes beside a model: reports are matched by content (normalised body), and a corpus sharing\n" +
			"any report with the model's training set is refused with the count. The built-in model was trained\n" +
			"on the dev split of the bundled corpus, so --split test scores it directly; --folds K cross-fits\n" +
			"instead: for each fold it refits the rules' weights and trains a baseline like --baseline-model (or\n" +
			"the built-in one) on the other K-1 folds and screens the held-out fold with them, so that no voter\n" +
			"has seen the reports it is scored on (the weights the rules ship with were fitted on dev).",
		Flags:  cl.flags("eval", func() []cli.Flag { return cliapp.Flags(eval.Flags()) }),
		Action: evalRun,
		Subcommands: []*cli.Command{{
			Name:      "compare",
			Usage:     "compare two runs saved with --json: metric changes, flipped reports, McNemar's test",
			ArgsUsage: "A.json B.json",
			Flags:     cl.flags("compare", func() []cli.Flag { return cliapp.Flags(eval.CompareFlags) }),
			Action:    evalCompare,
		}},
	}
}

func evalRun(c *cli.Context) error {
	if c.NArg() > 0 {
		return exit.Usagef("eval: unexpected arguments %q (the corpus is given with --corpus)", c.Args().Slice())
	}
	e, err := eval.NewJob(c)
	if err != nil {
		return err
	}
	j, err := job(c)
	if err != nil {
		return err
	}
	e.Settings, e.Files, e.Intake, e.Stdout, e.Stderr = j.Settings, j.Files, j.Intake, j.Stdout, j.Stderr
	return e.Run(c.Context)
}

func evalCompare(c *cli.Context) error {
	if c.NArg() != 2 {
		return exit.Usagef("eval compare: want two run files (A.json B.json), got %d arguments", c.NArg())
	}
	return eval.CompareFiles(c.App.Writer, c.Args().Get(0), c.Args().Get(1), c.String("json"))
}
