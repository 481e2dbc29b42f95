package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/corpus"
)

// corpusCommand is `secscreen corpus`: tools for a labeled corpus.
func corpusCommand() *cli.Command {
	return &cli.Command{
		Name:  "corpus",
		Usage: "work with a labeled evaluation corpus",
		Subcommands: []*cli.Command{{
			Name:      "check",
			Usage:     "audit a corpus: labels against the threat model, missing, escaping, duplicate and unlabeled files",
			ArgsUsage: "DIR",
			Description: "Reads DIR/labels.jsonl and the report files it names, prints every problem with its\n" +
				"line and the label counts per verdict and per category, and exits 1 when problems exist.",
			Flags: []cli.Flag{
				threatModelFlag,
				&cli.BoolFlag{Name: "json", Usage: "print the check report as JSON"},
			},
			Action: corpusCheck,
		}},
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
	rep, err := corpus.Check(c.Args().First(), tm)
	if err != nil {
		return withCode(exitFailure, err)
	}
	out := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("corpus check: %w", err)
		}
	} else if err := rep.WriteText(out); err != nil {
		return fmt.Errorf("corpus check: %w", err)
	}
	if !rep.OK() {
		return withCode(exitFailure, fmt.Errorf("corpus %s has %d problems", rep.Dir, len(rep.Problems)))
	}
	return nil
}
