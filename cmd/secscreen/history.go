package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/screener/history"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// historyFlag names the history: a SQLite file or a postgres:// DSN.
var historyFlag = &cli.StringFlag{
	Name:    "history",
	EnvVars: []string{"SECSCREEN_HISTORY"},
	Usage:   "history of screened reports: a SQLite `FILE`, or a postgres:// DSN a team shares (default $XDG_DATA_HOME/secscreen/history.db)",
}

// historyFlags are screen's history flags.
func historyFlags() []cli.Flag {
	return []cli.Flag{historyFlag,
		&cli.BoolFlag{Name: "no-history", Usage: "neither look reports up in the history nor record them (duplicates within the run are still found)"}}
}

func historyCommand() *cli.Command {
	format := func(def string, values ...string) cli.Flag {
		return &cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: def, Usage: "`FORMAT`: " + strings.Join(values, ", ")}
	}
	return &cli.Command{
		Name:  "history",
		Usage: "search, show, label and export the reports screened before",
		Description: "Every report secscreen screens is recorded in the history (a SQLite file under the\n" +
			"user data directory, or a PostgreSQL database a team shares: --history postgres://...),\n" +
			"with its result and what it duplicates. ID is a report id or #N, the history's number.",
		Subcommands: []*cli.Command{
			{
				Name:      "search",
				Usage:     "find reports by words in their subject or text, or (--like FILE) by similarity to a report",
				ArgsUsage: "WORD... | --like FILE",
				Flags: []cli.Flag{historyFlag, format("text", "text", "json"),
					&cli.StringFlag{Name: "like", Usage: "list the reports most like the one in `FILE` (email, text...) and say which are duplicates"},
					&cli.IntFlag{Name: "limit", Value: 20, Usage: "most reports listed"}},
				Action: historyAction(func(c *cli.Context) (history.Request, error) {
					return &history.SearchRequest{Words: c.Args().Slice(), Like: c.String("like"), Limit: c.Int("limit"), Format: docformat.Format(c.String("format"))}, nil
				}),
			},
			{
				Name:      "show",
				Usage:     "show a report: what was decided, what it duplicates, its text",
				ArgsUsage: "ID",
				Flags:     []cli.Flag{historyFlag, format("text", "text", "json")},
				Action: historyAction(func(c *cli.Context) (history.Request, error) {
					id, err := oneID(c)
					return &history.ShowRequest{ID: id, Format: docformat.Format(c.String("format"))}, err
				}),
			},
			{
				Name:  "stats",
				Usage: "counts per week by verdict and category, and the largest duplicate clusters",
				Flags: []cli.Flag{historyFlag, format("text", "text", "json"), &cli.IntFlag{Name: "clusters", Value: 10, Usage: "largest clusters listed"}},
				Action: historyAction(func(c *cli.Context) (history.Request, error) {
					return &history.StatsRequest{Clusters: c.Int("clusters"), Format: docformat.Format(c.String("format"))}, nil
				}),
			},
			{
				Name:  "export",
				Usage: "write every entry: jsonl (reports and results in full) or csv (one row each, no text)",
				Flags: []cli.Flag{historyFlag, format("jsonl", "jsonl", "csv"),
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"}},
				Action: historyAction(func(c *cli.Context) (history.Request, error) {
					return &history.ExportRequest{Format: history.ExportFormat(c.String("format")), Output: c.String("output")}, nil
				}),
			},
			{
				Name:      "label",
				Usage:     "record the team's final decision about a report (a later duplicate reuses it)",
				ArgsUsage: "ID",
				Flags: []cli.Flag{historyFlag, threatModelFlag,
					&cli.StringFlag{Name: "verdict", Required: true, Usage: "`VERDICT`: security, not-security, needs-info or invalid"},
					&cli.StringFlag{Name: "category", Required: true, Usage: "threat model `CATEGORY` id (see 'secscreen threatmodel show')"},
					&cli.StringFlag{Name: "note", Usage: "why, in a `SENTENCE`"},
					&cli.StringFlag{Name: "by", Usage: "who decided (default: the user name)"}},
				Action: historyAction(func(c *cli.Context) (history.Request, error) {
					id, err := oneID(c)
					if err != nil {
						return nil, err
					}
					tm, err := loadThreatModel(c)
					l := history.Label{Label: threatmodel.Label{Verdict: threatmodel.Verdict(c.String("verdict")), Category: c.String("category")}, Note: c.String("note"), By: c.String("by")}
					return &history.LabelRequest{ID: id, Label: l, ThreatModel: tm}, err
				}),
			},
		},
	}
}

// historyAction is the action of a history subcommand: the request made
// from its flags, run on the history --history names (history.Do).
func historyAction(request func(*cli.Context) (history.Request, error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		q, err := request(c)
		if err != nil {
			return usageErr("%w", err)
		}
		return history.Do(c.Context, c.String(historyFlag.Name), q, c.App.Writer)
	}
}

// oneID is the ID argument of history show and label.
func oneID(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", fmt.Errorf("history %s: want one ID (a report id or #N)", c.Command.Name)
	}
	return c.Args().First(), nil
}

// corpusExportCommand is `secscreen corpus export --from-history DIR`.
func corpusExportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write the reports the team labeled in the history as a labeled corpus (split dev)",
		ArgsUsage: "--from-history DIR",
		Flags: []cli.Flag{historyFlag,
			&cli.StringFlag{Name: "from-history", Required: true, Usage: "new corpus `DIR` to write labels.jsonl and reports/ into"}},
		Action: historyAction(func(c *cli.Context) (history.Request, error) {
			if c.NArg() > 0 {
				return nil, fmt.Errorf("corpus export: unexpected arguments %v", c.Args().Slice())
			}
			return &history.CorpusExportRequest{Dir: c.String("from-history"), Log: c.App.ErrWriter}, nil
		}),
	}
}
