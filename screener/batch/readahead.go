package batch

import (
	"iter"
	"os"
	"sync"

	"github.com/secscreen/secscreen/screener/intake"
)

// readAhead starts reading, on another goroutine and at once, the items
// read returns, up to the first one, which it keeps for items: in a short
// run the first message's reading then overlaps what the caller does
// before it asks for items (setup loading the rules). items may be ranged
// over once. stop releases a reading that items did not finish (an input
// file left open); it waits for the first item, and the caller calls it
// before closing anything read uses.
//
// Only inputs that cannot block are read ahead: regular files and
// directories. Standard input or a FIFO could wait for a writer, and a run
// whose setup failed would then wait for it before it could say why; their
// items are read when items is ranged over, as without readAhead.
func readAhead(inputs []string, read func() iter.Seq[intake.Item]) (items iter.Seq[intake.Item], stop func()) {
	type pulled struct {
		ahead bool // false: read when items is ranged over
		first intake.Item
		ok    bool
		next  func() (intake.Item, bool)
		stop  func()
	}
	ch := make(chan pulled, 1)
	go func() {
		if !cannotBlock(inputs) {
			ch <- pulled{}
			return
		}
		next, stop := iter.Pull(read())
		first, ok := next()
		ch <- pulled{ahead: true, first: first, ok: ok, next: next, stop: stop}
	}()
	get := sync.OnceValue(func() pulled { return <-ch })
	items = func(yield func(intake.Item) bool) {
		p := get()
		if !p.ahead {
			for it := range read() {
				if !yield(it) {
					return
				}
			}
			return
		}
		for it, ok := p.first, p.ok; ok; it, ok = p.next() {
			if !yield(it) {
				return
			}
		}
	}
	stop = func() {
		if p := get(); p.ahead {
			p.stop()
		}
	}
	return items, stop
}

// cannotBlock reports whether every input is a regular file or a
// directory (symbolic links followed).
func cannotBlock(inputs []string) bool {
	for _, in := range inputs {
		fi, err := os.Stat(in)
		if err != nil || !(fi.Mode().IsRegular() || fi.IsDir()) {
			return false
		}
	}
	return true
}
