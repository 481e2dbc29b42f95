package output

import (
	"fmt"
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

// IsTerminal reports whether f is a character device (a terminal).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
