package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/corpus/synth"
	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/history"
	"github.com/secscreen/secscreen/screener/setup"
)

// corpusCommand is `secscreen corpus`: tools for a labeled corpus.
func corpusCommand(cl commandLine) *cli.Command {
	return &cli.Command{
		Name:  "corpus",
		Usage: "work with a labeled evaluation corpus",
		Subcommands: []*cli.Command{{
			Name:      "check",
			Usage:     "audit a corpus: labels against the threat model, missing, escaping, duplicate and unlabeled files, style shortcuts",
			ArgsUsage: "DIR",
			Description: "Reads DIR/labels.jsonl and the report files it names, prints every problem with its\n" +
				"line, the label counts per verdict, category and split, and a shortcut audit: for security\n" +
				"against the rest, the AUC of body length, a fix or patch, a subsystem subject prefix, '->' in the\n" +
				"subject, the year, attachments and AI-style markup, and each verdict's share of attachments,\n" +
				"threads, HTML and AI-style mail. Exits 1 when problems exist, a cue at --max-cue-auc included.",
			Flags:  cl.flags("check", func() []cli.Flag { return cliapp.Flags([]cliflag.Flag{setup.ThreatModelFlag}, corpus.CheckFlags) }),
			Action: corpusCheck,
		}, {
			Name:  "synth",
			Usage: "write a seeded synthetic mbox of ~4 KB kernel bug reports, for benchmarks",
			Description: "The same --seed gives the same bytes. The reports carry no labels: they are load for\n" +
				"benchmarks and tests (scripts/bench), not a corpus to score against.",
			Flags:  cl.flags("synth", func() []cli.Flag { return cliapp.Flags(synth.Flags) }),
			Action: corpusSynth,
		}, {
			Name:      "export",
			Usage:     "write the reports the team labeled in the history as a labeled corpus (split dev)",
			ArgsUsage: "--from-history DIR",
			Flags:     cl.flags("export", func() []cli.Flag { return cliapp.Flags(history.CorpusExportFlags) }),
			Action: historyAction(func(c *cli.Context) (history.Request, error) {
				return history.NewCorpusExportRequest(c, c.Args().Slice(), c.App.ErrWriter)
			}),
		}},
	}
}

func corpusCheck(c *cli.Context) error {
	if c.NArg() != 1 {
		return exit.Usagef("corpus check: want one corpus directory, got %d arguments", c.NArg())
	}
	tm, err := loadThreatModel(c)
	if err != nil {
		return err
	}
	return corpus.WriteCheck(c.Context, c.App.Writer, c.Args().First(), tm, corpus.NewCheckOptions(c), c.Bool("json"))
}

func corpusSynth(c *cli.Context) error {
	if c.NArg() != 0 {
		return exit.Usagef("corpus synth: takes no arguments (use -o FILE)")
	}
	opt, path, err := synth.NewOptions(c)
	if err != nil {
		return err
	} else if path != "" {
		_, err := synth.WriteFile(path, opt)
		return err
	}
	_, err = synth.Write(c.App.Writer, opt)
	return err
}
