package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/internal/docformat"
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
				Action: withRules(func(c *cli.Context, eng *rules.Engine) error {
					return output.WriteRuleList(c.App.Writer, eng, docformat.Format(c.String("format")))
				}),
			},
			{
				Name:  "lint",
				Usage: "measure every rule and every match alternative on a corpus's dev split; fail alternatives that fire on too few reports",
				Description: "For each rule alternative (each match pattern), counts the distinct dev reports on which it\n" +
					"alone fires its rule; an alternative that fires on fewer than --min-reports (default 3) fails,\n" +
					"and the command exits 1 listing them. For each rule it prints hits, precision over categories\n" +
					"and over verdicts, support and the Wilson 95% lower bound of the verdict precision.\n" +
					"Rules carrying the injection signal are exempt (an injection suite measures them).",
				Flags: []cli.Flag{threatModelFlag, rulesFlag, seriesFlag,
					&cli.StringFlag{Name: "corpus", Usage: "labeled corpus `DIR`", Required: true},
					&cli.StringFlag{Name: "split", Value: corpus.SplitDev, Usage: "corpus `SPLIT` to use; only dev: the test split is sealed"},
					&cli.IntFlag{Name: "min-reports", Value: rules.DefaultMinReports, Usage: "least number of distinct reports an alternative must fire on"},
					&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "`FORMAT`: text or json"}},
				Action: withRules(func(c *cli.Context, eng *rules.Engine) error {
					return rules.LintCorpus(c.Context, c.App.Writer, eng, rules.LintCorpusOptions{CorpusOptions: corpusOptions(c),
						MinReports: c.Int("min-reports"), Format: docformat.Format(c.String("format"))})
				}),
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
				Action: withRules(func(c *cli.Context, eng *rules.Engine) error {
					return rules.FitCorpus(c.Context, c.App.Writer, c.App.ErrWriter, eng, rules.FitCorpusOptions{CorpusOptions: corpusOptions(c),
						FitOptions: rules.FitOptions{Lambda: c.Float64("lambda"), Folds: c.Int("folds"), Seed: c.Int64("seed")}, Output: c.String("output")})
				}),
			},
			{
				Name:      "explain",
				Usage:     "show the facts extracted from reports and every rule that fired, with its span",
				ArgsUsage: "INPUT...",
				Flags:     append([]cli.Flag{threatModelFlag, rulesFlag, seriesFlag}, inputFlags()...),
				Action: withRules(func(c *cli.Context, eng *rules.Engine) error {
					if c.NArg() == 0 {
						return usageErr("rules explain: name at least one INPUT")
					}
					j, err := job(c)
					if err != nil {
						return err
					}
					return output.Explain(c.Context, c.App.Writer, eng, j.Inputs, j.Intake)
				}),
			},
		},
	}
}

// withRules is the action of a rules subcommand: fn with the rule engine
// the flags name.
func withRules(fn func(*cli.Context, *rules.Engine) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		_, eng, err := loadThreatModelAndRules(c)
		if err != nil {
			return err
		}
		return fn(c, eng)
	}
}

// corpusOptions are the --corpus and --split of rules lint and fit.
func corpusOptions(c *cli.Context) rules.CorpusOptions {
	return rules.CorpusOptions{Corpus: c.String("corpus"), Split: c.String("split")}
}
