package output

import (
	"fmt"
	"golang.org/x/term"
	"io"
	"os"
	"sync"
	"time"
)

// Progress redraws one status line ("screened 12 reports") on a terminal.
// It prints nothing when disabled, so piped runs stay quiet.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	enabled bool
	last    time.Time
	drawn   bool
}

// NewProgress returns a Progress writing to w when enabled.
func NewProgress(w io.Writer, enabled bool) *Progress { return &Progress{w: w, enabled: enabled} }

// Update shows the count done, at most ten times a second.
func (p *Progress) Update(done int) {
	if p == nil || !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.drawn = true
		fmt.Fprintf(p.w, "\r\033[Kscreened %d report(s)…", done)
	}
}

// Done clears the status line.
func (p *Progress) Done() {
	if p == nil || !p.enabled || !p.drawn {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprint(p.w, "\r\033[K")
}

// IsTerminal reports whether f is a terminal (not merely a character
// device: /dev/null is not one).
func IsTerminal(f *os.File) bool {
	return f != nil && term.IsTerminal(int(f.Fd()))
}

// TerminalWidth returns f's width in columns, or def when f is not a
// terminal or its size cannot be read.
func TerminalWidth(f *os.File, def int) int {
	if f == nil {
		return def
	}
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
		return w
	}
	return def
}
