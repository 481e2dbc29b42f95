package main

import (
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/history"
	"github.com/secscreen/secscreen/screener/setup"
)

func historyCommand(cl commandLine) *cli.Command {
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
				Flags:     cl.flags("search", func() []cli.Flag { return cliapp.Flags(history.SearchFlags) }),
				Action: historyAction(func(c *cli.Context) (history.Request, error) {
					return history.NewSearchRequest(c, c.Args().Slice()), nil
				}),
			},
			{
				Name:      "show",
				Usage:     "show a report: what was decided, what it duplicates, its text",
				ArgsUsage: "ID",
				Flags:     cl.flags("show", func() []cli.Flag { return cliapp.Flags(history.ShowFlags) }),
				Action: historyAction(func(c *cli.Context) (history.Request, error) {
					return history.NewShowRequest(c, c.Args().Slice())
				}),
			},
			{
				Name:  "stats",
				Usage: "counts per week by verdict and category, and the largest duplicate clusters",
				Flags: cl.flags("stats", func() []cli.Flag { return cliapp.Flags(history.StatsFlags) }),
				Action: historyAction(func(c *cli.Context) (history.Request, error) {
					return history.NewStatsRequest(c), nil
				}),
			},
			{
				Name:  "export",
				Usage: "write every entry: jsonl (reports and results in full) or csv (one row each, no text)",
				Flags: cl.flags("export", func() []cli.Flag { return cliapp.Flags(history.ExportFlags) }),
				Action: historyAction(func(c *cli.Context) (history.Request, error) {
					return history.NewExportRequest(c), nil
				}),
			},
			{
				Name:      "label",
				Usage:     "record the team's final decision about a report (a later duplicate reuses it)",
				ArgsUsage: "ID",
				Flags: cl.flags("label", func() []cli.Flag {
					return cliapp.Flags([]cliflag.Flag{history.Flag, setup.ThreatModelFlag}, history.LabelFlags)
				}),
				Action: historyAction(func(c *cli.Context) (history.Request, error) {
					q, err := history.NewLabelRequest(c, c.Args().Slice())
					if err != nil {
						return nil, err
					}
					q.ThreatModel, err = loadThreatModel(c)
					return q, err
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
			return exit.Usagef("%w", err)
		}
		return history.Do(c.Context, c.String(history.Flag.Name), q, c.App.Writer)
	}
}
