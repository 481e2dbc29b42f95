package corpus

import (
	"context"
	"errors"
	"fmt"

	"github.com/secscreen/secscreen/screener/intake"
)

// LabeledReport is a corpus label with the report read from its file, or
// the error that kept the file from yielding exactly one report.
type LabeledReport struct {
	// Label is the corpus label; Report the report read (nil on error).
	Label  Label
	Report *intake.Report
	Err    error
}

// ReadReports reads the report file of every label, in label order. Each report's ID is set
// to its label's id, so that results carry the corpus's ids. A file that
// does not yield exactly one report gets Err instead.
func (c *Corpus) ReadReports(ctx context.Context, opt intake.Options) ([]LabeledReport, error) {
	seen := map[string]bool{}
	out := make([]LabeledReport, len(c.Labels))
	for i, l := range c.Labels {
		if seen[l.ID] {
			return nil, fmt.Errorf("corpus %s: duplicate id %q (run `secscreen corpus check`)", c.Dir, l.ID)
		}
		seen[l.ID] = true
		out[i].Label = l
		var reports []*intake.Report
		var errs []error
		for it := range intake.Read(ctx, []string{c.Path(l)}, opt) {
			if it.Err != nil {
				errs = append(errs, it.Err)
			} else if it.Report != nil {
				reports = append(reports, it.Report)
			}
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read corpus: %w", err)
		}
		switch {
		case len(errs) > 0:
			out[i].Err = fmt.Errorf("read %s: %w", l.File, errors.Join(errs...))
		case len(reports) != 1:
			out[i].Err = fmt.Errorf("read %s: want one report, found %d", l.File, len(reports))
		default:
			r := *reports[0]
			r.ID = l.ID
			out[i].Report = &r
		}
	}
	return out, nil
}
