package batch

import (
	"context"
	"iter"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/intake"
)

// numbered yields items named 1..n, closing started when it starts and
// counting in released the readings that were let go (ended or stopped).
func numbered(n int, started chan<- struct{}, released *atomic.Int32) iter.Seq[intake.Item] {
	return func(yield func(intake.Item) bool) {
		defer released.Add(1)
		close(started)
		for i := 1; i <= n; i++ {
			if !yield(intake.Item{Source: string(rune('0' + i))}) {
				return
			}
		}
	}
}

func TestReadAheadReadsTheFirstItemBeforeItIsAsked(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a.eml")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	started := make(chan struct{})
	var released atomic.Int32
	items, stop := readAhead([]string{file, t.TempDir()}, func() iter.Seq[intake.Item] { return numbered(3, started, &released) })
	<-started // without anyone ranging over items
	var got []string
	for it := range items {
		got = append(got, it.Source)
	}
	assert.Equal(t, []string{"1", "2", "3"}, got, "every item once, in order")
	stop()
	assert.Equal(t, int32(1), released.Load())
}

func TestReadAheadStopReleasesAnUnfinishedReading(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a.mbox")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	for _, take := range []int{0, 1, 2} {
		started := make(chan struct{})
		var released atomic.Int32
		items, stop := readAhead([]string{file}, func() iter.Seq[intake.Item] { return numbered(3, started, &released) })
		n := 0
		for range items {
			if n++; n >= take {
				break
			}
		}
		<-started
		assert.Zero(t, released.Load(), "taking %d of 3: the reading waits for the rest", take)
		stop()
		assert.Equal(t, int32(1), released.Load(), "taking %d of 3: stop let it go", take)
	}
}

func TestReadAheadLeavesInputsThatMayBlockToTheReader(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, inputs := range [][]string{{"-"}, {dir, fifo}, {filepath.Join(dir, "missing")}} {
		var called atomic.Int32
		started := make(chan struct{})
		var released atomic.Int32
		items, stop := readAhead(inputs, func() iter.Seq[intake.Item] {
			called.Add(1)
			return numbered(2, started, &released)
		})
		stop() // never ranged over: nothing was read
		assert.Zero(t, called.Load(), "%q: read only when asked", inputs)
		n := 0
		for range items {
			n++
		}
		assert.Equal(t, 2, n, "%q", inputs)
		assert.Equal(t, int32(1), called.Load())
	}
}

// A run whose setup fails says why at once, even when its input is a FIFO
// nobody writes to.
func TestScreenWithAFailedSetupDoesNotWaitForItsInput(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	j, _, _ := job(t, fifo)
	j.Files.ThreatModel = "testdata/nosuch.rst"
	done := make(chan error, 1)
	go func() { done <- Screen{Job: j, Format: "jsonl", NoHistory: true}.Run(context.Background()) }()
	select {
	case err := <-done:
		assert.Equal(t, exit.Usage, exit.Code(err), "%v", err)
		assert.ErrorContains(t, err, "threat model: ")
	case <-time.After(time.Minute): // a hang, not a timing
		// Open the FIFO for writing so that the run can end.
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			f.Close()
		}
		t.Fatal("the run waited for its input after its setup failed")
	}
}
