// Package earlyheap prepares a secscreen run's heap (internal/gcstart/hugeheap)
// before the other packages' inits fill it; main imports it for that alone.
//
// Only an init runs early enough (main runs after ~160 package inits, which
// touch ~450 heap pages), and an init cannot be told anything by main: this
// package reads the command from os.Args itself, so the command names that
// decide it live here, beside main, rather than in internal/gcstart, and
// main's tests check that they name the app's commands. It imports only os
// and hugeheap, which imports nothing os does not: that is what lets it run
// early (right after os; TestImportsNothingOsDoesNot keeps it so).
package earlyheap

import (
	"os"

	"github.com/secscreen/secscreen/internal/gcstart/hugeheap"
)

// GrowingCommands are the commands whose every run grows the heap by
// ~12 MB or more (eval: the corpus, the folds' evaluations) and get
// hugeheap.GrowSize more prepared at start; the others get only the heap's
// first chunk advised, since preparing more costs a collection (~180 page
// faults, ~4 ms of CPU, most of it scanning the binary's pointer data)
// that a run allocating little does not win back. `screen` and `check` are
// not here: with the rules alone one report fits in the first chunk (the
// collection made it 31.9 against 29.2 ms wall, paired), and where the
// baseline or a model answers on more than a few kilobytes of input
// setup.Build prepares more heap then (gcstart.GrowHeap; with the built-in
// baseline read in place, one small report no longer wins it back).
var GrowingCommands = []string{"eval"}

func init() {
	hugeheap.Prepare(heapToPrepare(os.Args[1:]))
}

// heapToPrepare returns how much heap to prepare for a run given the
// arguments after the program's name: the command is the first argument
// that is not a flag (main's only flag before it, -v, takes no value).
// (No strings.HasPrefix: see the package comment.)
func heapToPrepare(args []string) int {
	for _, a := range args {
		if len(a) > 0 && a[0] == '-' {
			continue
		}
		for _, c := range GrowingCommands {
			if a == c {
				return hugeheap.GrowSize
			}
		}
		return 0
	}
	return 0
}
