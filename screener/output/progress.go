package output

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/secscreen/secscreen/screener"
)

// Progress draws a progress bar for a run on a terminal: rows done (of the
// total when it is known), rate, time left, errors, model calls and cache
// hits. A disabled Progress prints nothing, so piped and --quiet runs stay
// quiet. It is fed the run's summary after each row.
type Progress struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	last  time.Time // when the description was last drawn
	total int       // the bar's total, -1 while unknown
	done  bool      // Done was called: nothing more is drawn
}

// NewProgress returns a Progress drawing on w when enabled. total is the
// number of messages when it is known, -1 otherwise: a spinner then counts
// until SetTotal gives the total.
func NewProgress(w io.Writer, enabled bool, total int) *Progress {
	if !enabled {
		return &Progress{}
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("screening"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("reports"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(24),
		progressbar.OptionSpinnerType(14),
	)
	return &Progress{bar: bar, total: max(total, -1)}
}

// Enabled reports whether p draws: work done only to show progress (such
// as counting the inputs) is not worth doing otherwise.
func (p *Progress) Enabled() bool { return p != nil && p.bar != nil }

// SetTotal gives the number of messages once it is known (counted while
// the run goes on): the bar then shows done/total, rate and time left.
func (p *Progress) SetTotal(total int) {
	if !p.Enabled() || total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.total = total
	p.bar.ChangeMax(total)
}

// Update shows the run so far. It is safe to call on a nil or disabled
// Progress.
func (p *Progress) Update(so screener.Summary) {
	if p == nil || p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	// The bar redraws on every change: at most ten times a second here.
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		// Messages read: each row and the replies folded into it.
		done := so.Inputs + so.Replies
		if p.total > 0 && done > p.total {
			// The count was short (an mbox inside a directory counts
			// as one file): the total is not known after all.
			p.total = -1
			p.bar.ChangeMax(-1)
		}
		p.bar.Describe(describe(so))
		_ = p.bar.Set(done)
	}
}

// describe is the bar's text: what a person watching a long run wants to
// know besides the count.
func describe(so screener.Summary) string {
	s := "screening"
	if so.Errors > 0 {
		s += fmt.Sprintf(", %d errors", so.Errors)
	}
	if so.ModelCalls > 0 {
		s += fmt.Sprintf(", %d model calls (%d cached, %d failed)", so.ModelCalls, so.CacheHits, so.ModelFailures)
	}
	if so.NeedsReview > 0 {
		s += fmt.Sprintf(", %d to review", so.NeedsReview)
	}
	return s
}

// Done removes the bar.
func (p *Progress) Done() {
	if p == nil || p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	_ = p.bar.Finish()
	_ = p.bar.Clear()
}

// IsTerminal reports whether w is a file that is a terminal (not merely a
// character device: /dev/null is not one).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && f != nil && term.IsTerminal(int(f.Fd()))
}

// TerminalWidth returns w's width in columns, or def when w is not a
// terminal or its size cannot be read ($COLUMNS is not read).
func TerminalWidth(w io.Writer, def int) int {
	if f, ok := w.(*os.File); ok && f != nil {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
			return w
		}
	}
	return def
}
