// Package hugeheap has the heap a run grows into backed by transparent huge
// pages, where the kernel gives them only to memory that asks for them
// (transparent_hugepage/enabled is "madvise", as on Ubuntu's kernels and on
// the virtual machine this was measured on).
//
// Why: a short run's cost is mostly first touches of fresh heap pages, a
// page fault each (~5-10 µs in a VM); a huge page is one fault for 512
// pages. One report screened with the rules made ~1,450 faults with the
// advice given where the screening starts (setup.Build), ~860-910 with it
// given here (CPU -20%); `check` 1,470-1,530 and 870-920.
//
// When: pages touched before the advice stay 4 KB pages, and by the time
// main runs the other packages' inits have touched ~450 heap pages (~800
// faults in all). Prepare is therefore called from an init, in a package
// that imports this one and os alone, and this package imports nothing that
// os does not (not even strings): packages initialise in import path order
// among those whose imports have, so such a package runs right after os
// (the 22nd of secscreen's ~160 inits, ~300 faults into the run), where
// gcstart, which imports runtime/debug and x/sys/unix, runs ~105th, after
// blackfriday's and the YAML libraries' inits. Called at the start of main
// instead, the same work left ~1,240 faults for one report.
//
// How: the runtime maps its heap in 4 MB chunks as it grows, each a mapping
// of its own without the advice, the first at a random offset (Go 1.26
// randomises the heap's base). Prepare advises the chunk the heap started
// in and has the kernel collapse what is touched there into huge pages
// (MADV_COLLAPSE, Linux 6.1; without it the rest of each touched 2 MB stays
// 4 KB too: ~150 faults more per report). Given a size, it also has the
// runtime map that much more heap by allocating it (a large allocation of
// fresh memory is not cleared, so no page of it is touched), advises it,
// and frees it with one collection while the heap is still small; the
// allocations that follow reuse those pages first. That collection costs
// ~180 faults (the collector's first span sets and work buffers), more than
// a run that allocates little saves: --version made ~540-560 faults with
// size 0, ~720 with 16 MB (~800 before), so a caller passes a size only for
// runs that grow the heap (screening).
//
// Cost: huge pages are resident whole. Peak RSS grew ~0.5 MB for 2,000
// reports on one core (54.1 to 54.7 MB, 20 paired runs) and ~1.3 MB over a
// 1 GB mbox (78.2 to 79.5 MB); for a 10 MB message the median grew ~1 MB but
// a third of the runs peaked 6-8 MB higher (84-86 MB against 76-80), with
// the first chunk alone advised too.
package hugeheap

import (
	"os"
	"runtime"
	"sync"
)

var once sync.Once

// Prepare advises huge pages for the heap's first chunk and, given a size
// (in bytes; 0 for none), for the next size bytes of heap, which it has the
// runtime map and frees with one collection. It acts once per process and
// only where the kernel gives huge pages on request; it forces no
// collection when GOGC or GOMEMLIMIT is set (the user tunes the collector)
// and does nothing with GODEBUG=disablethp=1. It reports whether it
// advised the heap.
func Prepare(size int) (advised bool) {
	once.Do(func() {
		advised = prepareHeap(size, os.Getenv, func(n int) { Grow(n, runtime.GC) })
	})
	return advised
}

// prepareHeap advises the heap's first chunk and, given a size, has grow
// prepare that much more.
func prepareHeap(size int, getenv func(string) string, grow func(size int)) bool {
	advised := prepare(getenv)
	if size > 0 {
		grow(size)
	}
	return advised
}

// GrowSize is how much more heap Grow prepares for a run that grows past
// the first chunk: about what one report's run grows into, in whole
// chunks. Paired runs (31 each, one report): 4 MB left ~1,010 page faults,
// 8 MB ~860, 12 and 16 MB ~825; a warm `eval --folds 5` took 0.225-0.24 s
// CPU with 16 MB or 32 MB, against 0.25 s with 32 MB prepared where it
// started screening and 0.31 s with no advice.
const GrowSize = 16 << 20

var growOnce sync.Once

// Grow has the runtime map size more bytes of heap, advises them for huge
// pages and frees them with collect (a collection), once per process and
// only where Prepare's advice can work and GOGC and GOMEMLIMIT are unset:
// for a run known, once it starts screening, to grow past the heap's first
// chunk (the baseline's decoding, a model's answers), where Prepare with a
// size would have paid the collection in every run. Prepare with a size
// grows it here too, so that a process pays at most one such collection
// (eval prepares its heap at start and builds its screener after). It
// reports whether it advised the heap.
func Grow(size int, collect func()) (advised bool) {
	growOnce.Do(func() { advised = grow(size, os.Getenv, collect) })
	return advised
}
