package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/corpus/synth"
)

// corpusCommand is `secscreen corpus`: tools for a labeled corpus.
func corpusCommand() *cli.Command {
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
			Flags: []cli.Flag{
				threatModelFlag,
				&cli.BoolFlag{Name: "json", Usage: "print the check report as JSON"},
				&cli.Float64Flag{Name: "max-cue-auc", Value: corpus.DefaultMaxCueAUC,
					Usage: "fail when one surface cue (length, fix line, subject prefix, year...) separates security from the rest with this AUC or more; 0 turns the audit off"},
			},
			Action: corpusCheck,
		}, {
			Name:  "synth",
			Usage: "write a seeded synthetic mbox of ~4 KB kernel bug reports, for benchmarks",
			Description: "The same --seed gives the same bytes. The reports carry no labels: they are load for\n" +
				"benchmarks and tests (scripts/bench), not a corpus to score against.",
			Flags: []cli.Flag{
				&cli.IntFlag{Name: "n", Value: 1000, Usage: "number of messages"},
				&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "generator seed"},
				&cli.Float64Flag{Name: "replies", Usage: "share of messages (0 to 1) that reply to an earlier one"},
				&cli.BoolFlag{Name: "distinct-crashes", Usage: "give every report a crash stack of its own, so that none reuses another's decision (for benchmarks of the model path)"},
				&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` (default: standard output)"},
			},
			Action: corpusSynth,
		}, corpusExportCommand()},
	}
}

func corpusCheck(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("corpus check: want one corpus directory, got %d arguments", c.NArg())
	}
	tm, err := loadThreatModel(c)
	if err != nil {
		return err
	}
	return corpus.WriteCheck(c.Context, c.App.Writer, c.Args().First(), tm, corpus.CheckOptions{MaxCueAUC: c.Float64("max-cue-auc")}, c.Bool("json"))
}

func corpusSynth(c *cli.Context) error {
	opt := synth.Options{N: c.Int("n"), Seed: c.Uint64("seed"), Replies: c.Float64("replies"), DistinctCrashes: c.Bool("distinct-crashes")}
	if c.NArg() != 0 {
		return usageErr("corpus synth: takes no arguments (use -o FILE)")
	} else if opt.N < 0 || opt.Replies < 0 || opt.Replies > 1 {
		return usageErr("corpus synth: want --n >= 0 and --replies from 0 to 1")
	} else if path := c.String("output"); path != "" {
		_, err := synth.WriteFile(path, opt)
		return err
	}
	_, err := synth.Write(c.App.Writer, opt)
	return err
}
