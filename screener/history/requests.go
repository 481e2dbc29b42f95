package history

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/internal/enum"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// A Request is one thing a person asks of the history: the subcommands of
// `secscreen history`, and `secscreen corpus export --from-history`.
// Check validates the request and fills in its defaults before any store is
// opened, so that a mistyped request costs no connection; its error is the
// user's to fix. Run, which needs a checked request, does it on s and
// writes what it has to say to w.
type Request interface {
	Check(ctx context.Context) error
	Run(ctx context.Context, s Store, w io.Writer) error
}

// Do checks q (its error is a usage error, exit code 2), opens the store
// target names (Open), runs q on it writing to w, and closes it.
func Do(ctx context.Context, target string, q Request, w io.Writer) error {
	if err := q.Check(ctx); err != nil {
		return exit.With(exit.Usage, err)
	}
	s, err := Open(ctx, target)
	if err != nil {
		return fmt.Errorf("%w (--no-history screens without one)", err)
	}
	defer s.Close()
	return q.Run(ctx, s, w)
}

// checkFormat parses a request's --format (docformat); op names the
// request in the error.
func checkFormat(f *docformat.Format, op string) error {
	v, err := docformat.Parse(string(*f))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	*f = v
	return nil
}

// ExportFormat is how Export writes the entries.
type ExportFormat string

// The formats of Export.
const (
	// ExportJSONL writes one JSON object per line: the entry with its report
	// and latest result in full.
	ExportJSONL ExportFormat = "jsonl"
	// ExportCSV writes one row per entry, without the text.
	ExportCSV ExportFormat = "csv"
)

var exportFormats = enum.Set[ExportFormat]{What: "format", Values: []ExportFormat{ExportJSONL, ExportCSV}}

// SearchRequest lists entries: those whose subject or text holds every one
// of Words, or, with Like, those most like the report in that file,
// duplicates first (Similar).
type SearchRequest struct {
	Words []string
	// Like names a file holding one report.
	Like string
	// Limit bounds the entries listed.
	Limit  int
	Format docformat.Format
	// like is the report read from Like.
	like *intake.Report
}

// Check wants words or Like but not both, and reads Like's report.
func (q *SearchRequest) Check(ctx context.Context) error {
	if (q.Like == "") == (len(q.Words) == 0) {
		return errors.New("history search: give words to look for, or --like FILE (not both)")
	}
	if err := checkFormat(&q.Format, "history search"); err != nil {
		return err
	}
	if q.Like == "" {
		return nil
	}
	n := 0
	for it := range intake.Read(ctx, []string{q.Like}, intake.Options{}) {
		if it.Err != nil {
			return fmt.Errorf("history search --like: %w", it.Err)
		}
		if n++; n > 1 {
			return fmt.Errorf("history search --like: %s holds more than one report; give one", q.Like)
		}
		q.like = it.Report
	}
	return nil
}

// Run lists the entries found.
func (q *SearchRequest) Run(ctx context.Context, s Store, w io.Writer) error {
	if q.Like == "" {
		es, err := s.Search(ctx, q.Words, q.Limit)
		if err != nil {
			return err
		}
		return docformat.Write(w, q.Format, es, func(w io.Writer) error { return WriteEntries(w, es) })
	}
	var hits []Hit
	if q.like != nil {
		var err error
		if hits, err = Similar(ctx, s, q.like, q.Limit); err != nil {
			return err
		}
	}
	return docformat.Write(w, q.Format, hits, func(w io.Writer) error { return WriteHits(w, hits) })
}

// ShowRequest shows the entries ID names (Store.Get) in full, a blank line
// between two.
type ShowRequest struct {
	ID     string
	Format docformat.Format
}

// Check parses the format.
func (q *ShowRequest) Check(context.Context) error { return checkFormat(&q.Format, "history show") }

// Run writes the entries; an ID that names none is ErrNotFound.
func (q *ShowRequest) Run(ctx context.Context, s Store, w io.Writer) error {
	es, err := s.Get(ctx, q.ID)
	if err != nil {
		return err
	}
	return docformat.Write(w, q.Format, es, func(w io.Writer) error {
		for i, e := range es {
			if i > 0 {
				if _, err := fmt.Fprintln(w); err != nil {
					return err
				}
			}
			if err := WriteEntry(w, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// StatsRequest writes the history's Stats, with at most Clusters clusters.
type StatsRequest struct {
	Clusters int
	Format   docformat.Format
}

// Check parses the format.
func (q *StatsRequest) Check(context.Context) error { return checkFormat(&q.Format, "history stats") }

// Run computes and writes the stats.
func (q *StatsRequest) Run(ctx context.Context, s Store, w io.Writer) error {
	st, err := ComputeStats(ctx, s, q.Clusters)
	if err != nil {
		return err
	}
	return docformat.Write(w, q.Format, st, st.WriteText)
}

// ExportRequest writes every entry (Export) to Output, a file readable by
// the user alone (the history holds embargoed reports), or to w when
// Output is empty.
type ExportRequest struct {
	Format ExportFormat
	Output string
}

// Check parses the format.
func (q *ExportRequest) Check(context.Context) error {
	f, err := exportFormats.Parse(string(q.Format))
	if err != nil {
		return fmt.Errorf("history export: %w", err)
	}
	q.Format = f
	return nil
}

// Run writes the entries.
func (q *ExportRequest) Run(ctx context.Context, s Store, w io.Writer) error {
	if q.Output != "" {
		f, err := os.OpenFile(q.Output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("history export: %w", err)
		}
		defer f.Close()
		w = f
	}
	return Export(ctx, s, q.Format, w)
}

// LabelRequest records the team's decision about the entry ID names (the
// newest, when a report id was screened in several versions), so that a
// later duplicate reuses it.
type LabelRequest struct {
	ID string
	// Label is the decision; By defaults to the user's name, At is set
	// by the store.
	Label Label
	// ThreatModel is the model whose verdict and category the label must
	// name.
	ThreatModel *threatmodel.Model
}

// Check checks the label against the threat model and names who decided.
func (q *LabelRequest) Check(context.Context) error {
	if err := q.ThreatModel.Check(q.Label.Verdict, q.Label.Category); err != nil {
		return fmt.Errorf("history label: %w", err)
	}
	if q.Label.By == "" {
		if u, err := user.Current(); err == nil {
			q.Label.By = u.Username
		}
	}
	return nil
}

// Run records the label and writes a line saying what changed.
func (q *LabelRequest) Run(ctx context.Context, s Store, w io.Writer) error {
	es, err := s.Get(ctx, q.ID)
	if err != nil {
		return err
	}
	e, l := es[0], q.Label
	if err := s.SetLabel(ctx, e.HistoryID, l); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "#%d %s: %s / %s (was screened as %s / %s)\n", e.HistoryID, e.ID, l.Verdict, l.Category, e.Verdict, e.Category)
	return err
}

// CorpusExportRequest writes the reports the team labeled as a new labeled
// corpus in Dir (ExportCorpus). The corpus is its output: Run's writer gets
// nothing, Log the line that says what was written.
type CorpusExportRequest struct {
	Dir string
	Log io.Writer
}

// Check has nothing to check: ExportCorpus refuses a directory that holds a
// corpus already.
func (q *CorpusExportRequest) Check(context.Context) error { return nil }

// Run exports the corpus.
func (q *CorpusExportRequest) Run(ctx context.Context, s Store, _ io.Writer) error {
	got, err := ExportCorpus(ctx, s, q.Dir)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(q.Log, "%d labeled reports written to %s (%d exact duplicates left out); check it with 'secscreen corpus check %s'\n",
		got.Written, q.Dir, got.Skipped, q.Dir)
	return err
}
