package main

import (
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/output"
	"github.com/secscreen/secscreen/screener/rules"
)

func rulesCommand() *cli.Command {
	return &cli.Command{
		Name:  "rules",
		Usage: "inspect the deterministic rules",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the rules in force (the threat model's pack plus --rules FILE), with their hand and fitted weights",
				Flags: []cli.Flag{threatModelFlag, rulesFlag, seriesFlag,
					&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "`FORMAT`: text or json"}},
				Action: rulesListAction,
			},
			{
				Name:  "lint",
				Usage: "measure every rule and every match alternative on a corpus's dev split; fail alternatives that fire on too few reports",
				Description: "For each rule alternative (each match pattern), counts the distinct dev reports on which it\n" +
					"alone fires its rule; an alternative that fires on fewer than --min-reports (default 3) fails,\n" +
					"and the command exits 1 listing them. For each rule it prints hits, precision over categories\n" +
					"and over verdicts, support and the Wilson 95% lower bound of the verdict precision.\n" +
					"Rules carrying the injection signal are exempt (an injection suite measures them).",
				Flags: append([]cli.Flag{threatModelFlag, rulesFlag, seriesFlag}, corpusSplitFlags()...,
				),
				Action: rulesLintAction,
			},
			{
				Name:  "fit",
				Usage: "fit each rule's weight per category on a corpus's dev split, with cross-validated figures",
				Description: "Fits one logistic regression per category over the rules that fire and the pack's fact\n" +
					"features (see go doc ./screener/rules Fit), prints the rules-alone accuracy and security recall,\n" +
					"cross-validated on dev (--folds, --seed), and marks decisive the rules whose held-out precision\n" +
					"has a Wilson 95% lower bound of at least 0.90 on at least 10 hits. -o FILE writes the weights\n" +
					"(the built-in ones: go generate ./screener/rules).",
				Flags: []cli.Flag{threatModelFlag, rulesFlag, seriesFlag,
					&cli.StringFlag{Name: "corpus", Usage: "labeled corpus `DIR`", Required: true},
					&cli.StringFlag{Name: "split", Value: corpus.SplitDev, Usage: "corpus `SPLIT` to fit on; only dev: the test split is sealed"},
					&cli.IntFlag{Name: "folds", Value: rules.DefaultFolds, Usage: "cross-validation folds"},
					&cli.Int64Flag{Name: "seed", Value: rules.DefaultSeed, Usage: "seed of the fold assignment"},
					&cli.Float64Flag{Name: "lambda", Value: rules.DefaultLambda, Usage: "L2 penalty on the weights"},
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the weights to `FILE`"},
				},
				Action: rulesFitAction,
			},
			{
				Name:      "explain",
				Usage:     "show the facts extracted from reports and every rule that fired, with its span",
				ArgsUsage: "INPUT...",
				Flags:     append([]cli.Flag{threatModelFlag, rulesFlag, seriesFlag}, inputFlags()...),
				Action:    rulesExplainAction,
			},
		},
	}
}

// corpusSplitFlags are the flags of the commands that learn from or
// measure rules on a corpus: only its dev split may be used.
func corpusSplitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "corpus", Usage: "labeled corpus `DIR`", Required: true},
		&cli.StringFlag{Name: "split", Value: corpus.SplitDev, Usage: "corpus `SPLIT` to use; only dev: the test split is sealed"},
		&cli.IntFlag{Name: "min-reports", Value: rules.DefaultMinReports, Usage: "least number of distinct reports an alternative must fire on"},
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "`FORMAT`: text or json"},
	}
}

// loadExamples reads the dev split of --corpus as labeled examples. Rules
// are written, linted and fitted on dev only: asking for another split is
// a usage error.
func loadExamples(c *cli.Context) ([]rules.Example, string, error) {
	if split := c.String("split"); split != corpus.SplitDev {
		return nil, "", usageErr("--split %q: rules are linted and fitted on the dev split only; the test split is sealed for measuring", split)
	}
	crp, err := corpus.Load(c.String("corpus"))
	if err != nil {
		return nil, "", withCode(exitFailure, err)
	}
	dev, err := crp.OnlySplit(corpus.SplitDev)
	if err != nil {
		return nil, "", withCode(exitFailure, err)
	}
	read, err := dev.ReadReports(c.Context, intake.Options{})
	if err != nil {
		return nil, "", withCode(exitFailure, err)
	}
	var out []rules.Example
	for _, lr := range read {
		if lr.Err != nil {
			return nil, "", withCode(exitFailure, fmt.Errorf("corpus: %w", lr.Err))
		}
		out = append(out, rules.Example{ID: lr.Label.ID, Report: lr.Report, Category: lr.Label.Category})
	}
	if len(out) == 0 {
		return nil, "", withCode(exitFailure, fmt.Errorf("corpus %s has no dev reports", crp.Dir))
	}
	return out, crp.Dir, nil
}

func rulesLintAction(c *cli.Context) error {
	format := c.String("format")
	if format != "text" && format != "json" {
		return usageErr("rules lint: unknown format %q (want text or json)", format)
	}
	_, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return err
	}
	examples, _, err := loadExamples(c)
	if err != nil {
		return err
	}
	rep, err := rules.Lint(c.Context, eng, examples, c.Int("min-reports"))
	if err != nil {
		if c.Context.Err() != nil {
			return withCode(exitInterrupted, fmt.Errorf("interrupted: %w", err))
		}
		return withCode(exitFailure, err)
	}
	if format == "json" {
		err = writeJSON(c, rep)
	} else {
		err = rep.WriteText(c.App.Writer)
	}
	if err != nil {
		return fmt.Errorf("rules lint: %w", err)
	}
	if !rep.OK() {
		return withCode(exitFailure, fmt.Errorf("rules lint: %d match alternatives fire on fewer than %d dev reports", len(rep.Failures), rep.MinReports))
	}
	return nil
}

func rulesFitAction(c *cli.Context) error {
	_, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return err
	}
	examples, dir, err := loadExamples(c)
	if err != nil {
		return err
	}
	opt := rules.FitOptions{Lambda: c.Float64("lambda"), Folds: c.Int("folds"), Seed: c.Int64("seed")}
	res, err := rules.Fit(c.Context, eng, examples, opt)
	if err != nil {
		if c.Context.Err() != nil {
			return withCode(exitInterrupted, fmt.Errorf("interrupted: %w", err))
		}
		return withCode(exitFailure, err)
	}
	res.Stamp(dir, corpus.SplitDev, examples, c.Float64("lambda"), time.Now())
	if err := res.WriteText(c.App.Writer); err != nil {
		return fmt.Errorf("rules fit: %w", err)
	}
	out := c.String("output")
	if out == "" {
		fmt.Fprintln(c.App.ErrWriter, "rules fit: weights not written (give -o FILE)")
		return nil
	}
	if err := res.Weights.WriteFile(out); err != nil {
		return withCode(exitFailure, fmt.Errorf("rules fit: %w", err))
	}
	fmt.Fprintf(c.App.ErrWriter, "rules fit: wrote %s\n", out)
	return nil
}

func rulesListAction(c *cli.Context) error {
	_, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return err
	}
	list := output.ListRules(eng)
	return emit(c, list, func(w io.Writer) error { return output.WriteRules(w, list) })
}

func rulesExplainAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("rules explain: name at least one INPUT")
	}
	_, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return err
	}
	set, err := resolveSettings(c)
	if err != nil {
		return err
	}
	opt, err := intakeOptions(c, set)
	if err != nil {
		return err
	}
	w := c.App.Writer
	failed := 0
	for it := range intake.Read(c.Context, c.Args().Slice(), opt) {
		var ev *rules.Evaluation
		if it.Err != nil {
			failed++
		} else {
			e := eng.Evaluate(it.Report)
			ev = &e
		}
		if err := output.WriteExplanation(w, it.Source, ev, it.Err); err != nil {
			return fmt.Errorf("rules explain: %w", err)
		}
	}
	if err := c.Context.Err(); err != nil {
		return withCode(exitInterrupted, fmt.Errorf("interrupted: %w", err))
	}
	if failed > 0 {
		return withCode(exitInputErrors, fmt.Errorf("%d inputs could not be read", failed))
	}
	return nil
}
