package replies

import (
	"fmt"
	"io"
	"time"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/advice"
)

// Drafter drafts the reply to each result that gets one (see Skip): into a
// directory, one file each (WriteDir), or onto Out as an mbox (WriteMbox).
// It logs each draft and its notes on Log and counts what it wrote and
// skipped, for Summary.
type Drafter struct {
	// Dir is the directory the drafts go to; "" writes them to Out.
	Dir string
	// Out receives the drafts as an mbox when Dir is "".
	Out io.Writer
	// Log receives one line per draft; nil discards it.
	Log io.Writer
	// Template is the wording.
	Template *Template
	// Advice configures the advice each draft is built on.
	Advice advice.Options
	// Now is the drafts' date; nil means time.Now.
	Now func() time.Time

	// Written and Skipped count the drafts and the results without one.
	Written, Skipped int
}

// Add drafts the reply to res, or counts it as skipped.
func (w *Drafter) Add(res screener.Result) error {
	if why := Skip(res); why != "" {
		w.Skipped++
		return nil
	}
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	d, err := Compose(res, advice.Build(res, w.Advice), Options{Template: w.Template, Now: now})
	if err != nil {
		return err
	}
	where := "standard output"
	if w.Dir != "" {
		if where, err = WriteDir(w.Dir, d); err != nil {
			return err
		}
	} else if err := WriteMbox(w.Out, d, now); err != nil {
		return fmt.Errorf("write reply: %w", err)
	}
	w.Written++
	if w.Log != nil {
		fmt.Fprintf(w.Log, "reply to %s (%s/%s): %s\n", res.ID, res.Verdict, res.Category, where)
		for _, n := range d.Notes {
			fmt.Fprintf(w.Log, "  note: %s\n", n)
		}
	}
	return nil
}

// Summary is the one-line account of the drafts.
func (w *Drafter) Summary() string {
	where := "to standard output"
	if w.Dir != "" {
		where = "in " + w.Dir
	}
	return fmt.Sprintf("%d replies drafted %s with %s; %d reports not answered by a draft (security bugs, reports held private, error rows)",
		w.Written, where, w.Template.ID(), w.Skipped)
}
