// Package gcstart holds the garbage collector back while a process starts.
//
// A run that screens one report (a pre-send hook, `secscreen check`)
// allocates ~20 MB, most of it kept to the end (the rules' tables, the
// baseline model), and lives ~50 ms of CPU: with the default GOGC=100 and
// its 4 MB first goal the collector ran three times for little garbage,
// ~5 ms of CPU. Begin switches it off for a window at the start, bounded
// by a soft memory limit, then gives the settings back. A run that reaches
// the limit within the window is a large one: the first collection ends
// the window there, so that it is collected as usual from then on, not
// again and again at the limit (a 10 MB message went from ~0.5 to ~0.67 s
// of CPU when the window held until its end).
//
// Its subpackage hugeheap has that heap backed by huge pages. It is a
// package of its own because it must act from an init that runs before the
// other packages' inits fill the heap, which gcstart's imports
// (runtime/debug) do not let gcstart's do.
package gcstart

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/secscreen/secscreen/internal/gcstart/hugeheap"
)

// Limit is the heap size past which the collector runs during the window
// (a soft limit, runtime/debug.SetMemoryLimit): above what a one-report
// run allocates, and low enough that a large run's peak RSS does not grow
// (2,000 reports: 67-69 MB with or without the window; at 64 MB, 74-75).
const Limit = 32 << 20

// Window is how long the collector is held back: a one-report run ends
// well within it even on a loaded machine; a longer run collects as usual
// from then on.
const Window = time.Second

var (
	mu sync.Mutex
	// open is the open window (nil: none is).
	open *openWindow
	// generation numbers the sentinels: only the newest one's collection
	// ends the window (GrowHeap's own collection must not).
	generation uint64
)

// Begin holds the collector back for window, or until the heap reaches
// limit bytes and is collected once, unless GOGC or GOMEMLIMIT is set (the
// user's settings win). It returns a function that gives the settings
// back at once (also safe to call after the window ended, or more than
// once).
func Begin(window time.Duration, limit int64) (end func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	mu.Lock()
	defer mu.Unlock()
	percent := debug.SetGCPercent(-1)
	oldLimit := debug.SetMemoryLimit(limit)
	done := false
	var t *time.Timer
	w := new(openWindow)
	w.end = func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		done = true
		t.Stop()
		if open == w {
			open = nil
		}
		debug.SetMemoryLimit(oldLimit)
		debug.SetGCPercent(percent)
	}
	t = time.AfterFunc(window, w.end)
	open = w
	armLocked()
	return w.end
}

// openWindow is a window Begin opened.
type openWindow struct {
	// end gives the settings back, once.
	end func()
}

// armLocked makes the next collection end the open window: it finds a new
// sentinel unreachable and runs its cleanup. (The sentinel is large
// enough not to share a block of the tiny allocator, whose blocks outlive
// their objects.) mu is held.
func armLocked() {
	generation++
	runtime.AddCleanup(new([64]byte), func(g uint64) {
		mu.Lock()
		w := open
		if g != generation {
			w = nil // a sentinel GrowHeap's collection disarmed
		}
		mu.Unlock()
		if w != nil {
			w.end()
		}
	}, generation)
}

// collectKeepingWindow runs a collection that does not end the open
// window, if one is open.
func collectKeepingWindow() {
	mu.Lock()
	generation++ // disarms the sentinel
	mu.Unlock()
	runtime.GC()
	mu.Lock()
	if open != nil {
		armLocked()
	}
	mu.Unlock()
}

// GrowHeap has the runtime map hugeheap.GrowSize more bytes of heap on huge
// pages (hugeheap.Grow), where a run is known to grow past the heap's first
// chunk, which earlyheap advised at start; its one collection does not end
// Begin's window. It acts once per process.
func GrowHeap() bool { return hugeheap.Grow(hugeheap.GrowSize, collectKeepingWindow) }
