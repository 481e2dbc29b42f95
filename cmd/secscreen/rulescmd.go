package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/output"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/setup"
)

func rulesCommand(cl commandLine) *cli.Command {
	return &cli.Command{
		Name:  "rules",
		Usage: "inspect the deterministic rules",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the rules in force (the threat model's pack plus --rules FILE), with their hand and fitted weights",
				Flags: cl.flags("list", func() []cli.Flag { return cliapp.Flags(setup.ModelFlags, []cliflag.Flag{docformat.Flag}) }),
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
				Flags: cl.flags("lint", func() []cli.Flag { return cliapp.Flags(setup.ModelFlags, rules.LintCorpusFlags) }),
				Action: withRules(func(c *cli.Context, eng *rules.Engine) error {
					return rules.LintCorpus(c.Context, c.App.Writer, eng, rules.NewLintCorpusOptions(c))
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
				Flags: cl.flags("fit", func() []cli.Flag { return cliapp.Flags(setup.ModelFlags, rules.FitCorpusFlags) }),
				Action: withRules(func(c *cli.Context, eng *rules.Engine) error {
					return rules.FitCorpus(c.Context, c.App.Writer, c.App.ErrWriter, eng, rules.NewFitCorpusOptions(c))
				}),
			},
			{
				Name:      "explain",
				Usage:     "show the facts extracted from reports and every rule that fired, with its span",
				ArgsUsage: "INPUT...",
				Flags:     cl.flags("explain", func() []cli.Flag { return cliapp.Flags(setup.ModelFlags, setup.InputFlags()) }),
				Action: withRules(func(c *cli.Context, eng *rules.Engine) error {
					if c.NArg() == 0 {
						return exit.Usagef("rules explain: name at least one INPUT")
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
