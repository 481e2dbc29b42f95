package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/screener/history"
	"github.com/secscreen/secscreen/screener/intake"
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

// openHistory opens the store --history names (the default one when not
// named).
func openHistory(c *cli.Context) (history.Store, error) {
	s, err := history.Open(c.Context, c.String(historyFlag.Name))
	if err != nil {
		return nil, withCode(exitFailure, fmt.Errorf("%w (--no-history screens without one)", err))
	}
	return s, nil
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
				Action: historySearch,
			},
			{
				Name:      "show",
				Usage:     "show a report: what was decided, what it duplicates, its text",
				ArgsUsage: "ID",
				Flags:     []cli.Flag{historyFlag, format("text", "text", "json")},
				Action:    historyShow,
			},
			{
				Name:   "stats",
				Usage:  "counts per week by verdict and category, and the largest duplicate clusters",
				Flags:  []cli.Flag{historyFlag, format("text", "text", "json"), &cli.IntFlag{Name: "clusters", Value: 10, Usage: "largest clusters listed"}},
				Action: historyStats,
			},
			{
				Name:  "export",
				Usage: "write every entry: jsonl (reports and results in full) or csv (one row each, no text)",
				Flags: []cli.Flag{historyFlag, format("jsonl", "jsonl", "csv"),
					&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"}},
				Action: historyExport,
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
				Action: historyLabel,
			},
		},
	}
}

// withHistory opens the history for a history subcommand.
func withHistory(c *cli.Context, fn func(history.Store) error) error {
	s, err := openHistory(c)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

func historySearch(c *cli.Context) error {
	like := c.String("like")
	if (like == "") == (c.NArg() == 0) {
		return usageErr("history search: give words to look for, or --like FILE (not both)")
	}
	if f := c.String("format"); f != "text" && f != "json" {
		return usageErr("history search: unknown format %q (want text or json)", f)
	}
	return withHistory(c, func(s history.Store) error {
		if like == "" {
			es, err := s.Search(c.Context, c.Args().Slice(), c.Int("limit"))
			if err != nil {
				return err
			}
			return emit(c, es, func(w io.Writer) error { return history.WriteEntries(w, es) })
		}
		var hits []history.Hit
		n := 0
		for it := range intake.Read(c.Context, []string{like}, intake.Options{}) {
			if it.Err != nil {
				return usageErr("history search --like: %v", it.Err)
			}
			if n++; n > 1 {
				return usageErr("history search --like: %s holds more than one report; give one", like)
			}
			var err error
			if hits, err = history.Similar(c.Context, s, it.Report, c.Int("limit")); err != nil {
				return err
			}
		}
		return emit(c, hits, func(w io.Writer) error { return history.WriteHits(w, hits) })
	})
}

func historyShow(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("history show: want one ID (a report id or #N)")
	}
	return withHistory(c, func(s history.Store) error {
		es, err := s.Get(c.Context, c.Args().First())
		if errors.Is(err, history.ErrNotFound) {
			return withCode(exitFailure, err)
		}
		if err != nil {
			return err
		}
		return emit(c, es, func(w io.Writer) error {
			for i, e := range es {
				if i > 0 {
					fmt.Fprintln(w)
				}
				if err := history.WriteEntry(w, e); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

func historyStats(c *cli.Context) error {
	return withHistory(c, func(s history.Store) error {
		st, err := history.ComputeStats(c.Context, s, c.Int("clusters"))
		if err != nil {
			return err
		}
		return emit(c, st, st.WriteText)
	})
}

func historyExport(c *cli.Context) error {
	f := c.String("format")
	if f != "jsonl" && f != "csv" {
		return usageErr("history export: unknown format %q (want jsonl or csv)", f)
	}
	return withHistory(c, func(s history.Store) error {
		w := c.App.Writer
		if path := c.String("output"); path != "" {
			out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return fmt.Errorf("history export: %w", err)
			}
			defer out.Close()
			w = out
		}
		return history.Export(c.Context, s, f, w)
	})
}

func historyLabel(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("history label: want one ID (a report id or #N)")
	}
	tm, err := loadThreatModel(c)
	if err != nil {
		return err
	}
	v, cat := threatmodel.Verdict(c.String("verdict")), c.String("category")
	if err := tm.Check(v, cat); err != nil {
		return usageErr("history label: %v", err)
	}
	by := c.String("by")
	if by == "" {
		if u, err := user.Current(); err == nil {
			by = u.Username
		}
	}
	return withHistory(c, func(s history.Store) error {
		es, err := s.Get(c.Context, c.Args().First())
		if errors.Is(err, history.ErrNotFound) {
			return withCode(exitFailure, err)
		}
		if err != nil {
			return err
		}
		// A report id screened in several versions: the newest one.
		e := es[0]
		if err := s.SetLabel(c.Context, e.HistoryID, history.Label{Verdict: v, Category: cat, Note: c.String("note"), By: by}); err != nil {
			return err
		}
		fmt.Fprintf(c.App.Writer, "#%d %s: %s / %s (was screened as %s / %s)\n", e.HistoryID, e.ID, v, cat, e.Verdict, e.Category)
		return nil
	})
}

// corpusExportCommand is `secscreen corpus export --from-history DIR`.
func corpusExportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write the reports the team labeled in the history as a labeled corpus (split dev)",
		ArgsUsage: "--from-history DIR",
		Flags: []cli.Flag{historyFlag,
			&cli.StringFlag{Name: "from-history", Required: true, Usage: "new corpus `DIR` to write labels.jsonl and reports/ into"}},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErr("corpus export: unexpected arguments %v", c.Args().Slice())
			}
			return withHistory(c, func(s history.Store) error {
				dir := c.String("from-history")
				got, err := history.ExportCorpus(c.Context, s, dir)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.ErrWriter, "%d labeled reports written to %s (%d exact duplicates left out); check it with 'secscreen corpus check %s'\n",
					got.Written, dir, got.Skipped, dir)
				return nil
			})
		},
	}
}
