package gcstart

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// settings reads the collector's percent and memory limit.
func settings() (percent int, limit int64) {
	percent = debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

// waitUntilRestored waits up to 10 s for the settings to be p0 and l0
// again, calling each (if set) every time round, and fails with failure
// if they are not.
func waitUntilRestored(t *testing.T, p0 int, l0 int64, each func(), failure string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if each != nil {
			each()
		}
		if p, l := settings(); p == p0 && l == l0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(failure)
		}
	}
}

func TestBeginHoldsBackThenRestores(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	p0, l0 := settings()
	end := Begin(time.Hour, 32<<20)
	if p, l := settings(); p != -1 || l != 32<<20 {
		t.Fatalf("during the window: GC percent %d, limit %d; want -1 and %d", p, l, 32<<20)
	}
	end()
	end() // twice is harmless
	if p, l := settings(); p != p0 || l != l0 {
		t.Fatalf("after end: GC percent %d, limit %d; want %d and %d", p, l, p0, l0)
	}
}

func TestWindowEndsByItself(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	p0, l0 := settings()
	end := Begin(10*time.Millisecond, 32<<20)
	defer end()
	waitUntilRestored(t, p0, l0, nil, "the settings were not given back when the window ended")
}

func TestUserSettingsWin(t *testing.T) {
	t.Setenv("GOGC", "200")
	p0, l0 := settings()
	end := Begin(time.Hour, 32<<20)
	defer end()
	if p, l := settings(); p != p0 || l != l0 || l == 32<<20 {
		t.Fatalf("GOGC set: settings changed to %d, %d", p, l)
	}
}

// A collection within the window (the heap reached the limit, or anyone
// asked for one) ends it: a large run is not collected again and again at
// the limit.
func TestTheFirstCollectionEndsTheWindow(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	p0, l0 := settings()
	end := Begin(time.Hour, 32<<20)
	defer end()
	if p, _ := settings(); p != -1 {
		t.Fatalf("the window did not start: GC percent %d", p)
	}
	waitUntilRestored(t, p0, l0, runtime.GC, "the settings were not given back after a collection")
}

func TestCollectKeepingWindow(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	p0, l0 := settings()
	end := Begin(time.Hour, 32<<20)
	defer end()
	collectKeepingWindow()
	// The disarmed sentinel's cleanup runs soon after the collection.
	for deadline := time.Now().Add(200 * time.Millisecond); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if p, _ := settings(); p != -1 {
			t.Fatalf("the window ended after collectKeepingWindow: GC percent %d", p)
		}
	}
	waitUntilRestored(t, p0, l0, runtime.GC, "the next collection did not end the window")
}
