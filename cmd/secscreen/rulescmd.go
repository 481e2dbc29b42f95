package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/output"
)

func rulesCommand() *cli.Command {
	return &cli.Command{
		Name:  "rules",
		Usage: "inspect the deterministic rules",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the rules in force (built-in plus --rules FILE)",
				Flags: []cli.Flag{threatModelFlag, rulesFlag, seriesFlag,
					&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "`FORMAT`: text or json"}},
				Action: rulesListAction,
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

func rulesListAction(c *cli.Context) error {
	_, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return err
	}
	switch c.String("format") {
	case "json":
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(eng.Rules())
	case "text":
		tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCATEGORY\tWEIGHT\tDESCRIPTION")
		for _, r := range eng.Rules() {
			fmt.Fprintf(tw, "%s\t%s\t%+.1f\t%s\n", r.ID, r.Category, r.Weight, r.Description)
		}
		return tw.Flush()
	}
	return usageErr("rules list: unknown format %q (want text or json)", c.String("format"))
}

func rulesExplainAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("rules explain: name at least one INPUT")
	}
	_, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return err
	}
	opt, err := intakeOptions(c)
	if err != nil {
		return err
	}
	w := c.App.Writer
	failed := 0
	for it := range intake.Read(c.Context, c.Args().Slice(), opt) {
		fmt.Fprintf(w, "== %s\n", output.Clean(it.Source))
		if it.Err != nil {
			failed++
			fmt.Fprintf(w, "   error: %v\n", it.Err)
			continue
		}
		ev := eng.Evaluate(it.Report)
		fmt.Fprintf(w, "   rules verdict: %s/%s (score %.1f, confidence %.2f, decisive %t)\n",
			ev.Verdict, ev.Category, ev.Score, ev.Confidence, ev.Decisive)
		if len(ev.Missing) > 0 {
			fmt.Fprintf(w, "   missing: %v\n", ev.Missing)
		}
		for _, tr := range ev.Truncated {
			fmt.Fprintf(w, "   truncated: read the first %d of %d bytes of %s\n", tr.Scanned, tr.Size, output.Clean(tr.Part))
		}
		facts, _ := json.Marshal(ev.Facts)
		fmt.Fprintf(w, "   facts: %s\n", facts)
		for _, f := range ev.Findings {
			fmt.Fprintf(w, "   %-28s %-26s %+5.1f  %s:%d:%d  %s\n", f.RuleID, f.Category, f.Weight,
				f.Span.Part, f.Span.Line, f.Span.Column, output.Clean(f.Excerpt))
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
