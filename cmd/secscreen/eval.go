package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/eval"
)

// evalCommand is `secscreen eval`: screen a labeled corpus and score it.
func evalCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "json", Usage: "write every metric and prediction as JSON to `FILE` (\"-\": stdout), for `eval compare`"},
		&cli.StringFlag{Name: "md", Usage: "write a Markdown report to `FILE` (\"-\": stdout)"},
		&cli.StringFlag{Name: "html", Usage: "write a self-contained HTML report to `FILE` (\"-\": stdout)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print the text summary (implied when a report goes to stdout)"},
		&cli.StringFlag{Name: "split", Value: "all", Usage: "score one part of the corpus: `dev`, test or all"},
		&cli.StringFlag{Name: "simulate", Usage: "replace the model by a simulated one that knows the labels and answers wrong on a share of the reports: `ERROR_RATE[,SEED]` (e.g. 0.25,7); no server, no cache"},
		&cli.IntFlag{Name: "repeat", Value: 1, Usage: "screen each report `N` times (cache off) and report answer consistency"},
		&cli.IntFlag{Name: "folds", Usage: "cross-fit with `K` stratified folds: on K-1 folds refit the rules' weights and train a baseline like --baseline-model, screen the held-out fold with them"},
		&cli.IntFlag{Name: "resamples", Value: 1000, Usage: "bootstrap resamples for the 95% intervals"},
		&cli.Float64Flag{Name: "min-accuracy", Usage: "fail (exit 1) when verdict accuracy is below `X`"},
		&cli.Float64Flag{Name: "min-security-recall", Usage: "fail (exit 1) when security recall is below `X`"},
		&cli.Float64Flag{Name: "min-macro-f1", Usage: "fail (exit 1) when macro-F1 over the verdicts is below `X`"},
	}
	flags = append(flags, pipelineFlags(&cli.StringFlag{Name: "corpus", Usage: "the labeled corpus `DIR` to score (default ./corpus); its dev split also gives the --shots examples"})...)
	flags = append(flags, inputFlags()...)
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
		Flags:  flags,
		Action: evalRun,
		Subcommands: []*cli.Command{{
			Name:      "compare",
			Usage:     "compare two runs saved with --json: metric changes, flipped reports, McNemar's test",
			ArgsUsage: "A.json B.json",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "json", Usage: "also write the comparison as JSON to `FILE` (\"-\": stdout)"},
			},
			Action: evalCompare,
		}},
	}
}

func evalRun(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("eval: unexpected arguments %q (the corpus is given with --corpus)", c.Args().Slice())
	}
	if c.IsSet("folds") && c.Int("folds") < 2 {
		return usageErr("eval: --folds must be at least 2")
	}
	j, err := job(c)
	if err != nil {
		return err
	}
	return eval.Job{Settings: j.Settings, Files: j.Files, Intake: j.Intake, Stdout: j.Stdout, Stderr: j.Stderr,
		Corpus: c.String("corpus"), Split: c.String("split"), Folds: c.Int("folds"), Simulate: c.String("simulate"),
		Options: eval.Options{Repeat: c.Int("repeat"), Resamples: c.Int("resamples"), MinAccuracy: c.Float64("min-accuracy"),
			MinSecurityRecall: c.Float64("min-security-recall"), MinMacroF1: c.Float64("min-macro-f1")},
		JSON: c.String("json"), Markdown: c.String("md"), HTML: c.String("html"), Quiet: c.Bool("quiet"),
	}.Run(c.Context)
}

func evalCompare(c *cli.Context) error {
	if c.NArg() != 2 {
		return usageErr("eval compare: want two run files (A.json B.json), got %d arguments", c.NArg())
	}
	return eval.CompareFiles(c.App.Writer, c.Args().Get(0), c.Args().Get(1), c.String("json"))
}
