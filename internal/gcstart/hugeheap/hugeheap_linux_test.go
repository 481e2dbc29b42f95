package hugeheap

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"unsafe"
)

func TestTHPOnRequest(t *testing.T) {
	for mode, want := range map[string]bool{
		"always [madvise] never\n": true,
		"[always] madvise never\n": false,
		"always madvise [never]\n": false,
		"":                         false,
	} {
		if got := thpOnRequest(mode); got != want {
			t.Errorf("thpOnRequest(%q) = %v, want %v", mode, got, want)
		}
	}
}

func TestTHPDisabled(t *testing.T) {
	for godebug, want := range map[string]bool{
		"":                          false,
		"disablethp=1":              true,
		"gctrace=1,disablethp=1":    true,
		"disablethp=1,gctrace=1":    true,
		"disablethp=0":              false,
		"disablethp=1,disablethp=0": false, // the last one wins
		"xdisablethp=1":             false,
		"disablethp=10":             false,
	} {
		if got := thpDisabled(godebug); got != want {
			t.Errorf("thpDisabled(%q) = %v, want %v", godebug, got, want)
		}
	}
}

// env returns a getenv that knows only vars (NAME=VALUE).
func env(vars ...string) func(string) string {
	return func(name string) string {
		for _, v := range vars {
			if n, value, _ := strings.Cut(v, "="); n == name {
				return value
			}
		}
		return ""
	}
}

// requireTHPOnRequest skips the test where the kernel does not give huge
// pages on request, where Prepare does nothing by design.
func requireTHPOnRequest(t *testing.T) {
	t.Helper()
	mode, err := os.ReadFile(thpModeFile)
	if err != nil {
		t.Skip("no transparent huge pages in this kernel:", err)
	}
	if !thpOnRequest(string(mode)) {
		t.Skipf("transparent huge pages are not given on request here (%s: %s)", thpModeFile, bytes.TrimSpace(mode))
	}
}

// vmFlags returns the VmFlags of the mapping that holds addr, from
// /proc/self/smaps.
func vmFlags(t *testing.T, addr uintptr) []string {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 && !strings.HasSuffix(strings.Fields(line)[0], ":") {
			in = lo <= addr && addr < hi
			continue
		}
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return strings.Fields(flags)
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return nil
}

func hasFlag(flags []string, f string) bool {
	for _, g := range flags {
		if g == f {
			return true
		}
	}
	return false
}

func numGC() uint32 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.NumGC
}

// Prepare advises the heap's first chunk and the heap it had the runtime
// map, which it freed with a collection: what is allocated next lies there.
func TestPrepareAdvisesTheHeapThatFollows(t *testing.T) {
	requireTHPOnRequest(t)
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection but Prepare's
	args := uintptr(unsafe.Pointer(unsafe.SliceData(os.Args)))
	if hasFlag(vmFlags(t, args), "hg") {
		t.Skip("the heap has huge pages advised already")
	}
	gcs := numGC()
	if !prepareAndGrow(8<<20, env()) {
		t.Fatal("prepare did not advise the heap")
	}
	if flags := vmFlags(t, args); !hasFlag(flags, "hg") {
		t.Errorf("the heap's first chunk has flags %v after prepare, want hg (huge pages advised)", flags)
	}
	if n := numGC(); n == gcs {
		t.Error("prepare did not free what it allocated with a collection")
	}
	next := make([]byte, 6<<20)
	if flags := vmFlags(t, uintptr(unsafe.Pointer(&next[len(next)-1]))); !hasFlag(flags, "hg") {
		t.Errorf("what was allocated after prepare lies in a mapping with flags %v, want hg (huge pages advised)", flags)
	}
}

// The user's GOGC or GOMEMLIMIT tunes the collector: prepare forces no
// collection then, and advises only the heap's first chunk.
func TestPrepareForcesNoCollectionWhenTheUserTunesTheCollector(t *testing.T) {
	requireTHPOnRequest(t)
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection but Prepare's
	for _, setting := range []string{"GOGC=200", "GOMEMLIMIT=1GiB"} {
		gcs := numGC()
		if !prepareAndGrow(8<<20, env(setting)) {
			t.Errorf("%s: prepare did not advise the heap's first chunk", setting)
		}
		if n := numGC(); n != gcs {
			t.Errorf("%s: prepare ran %d collections, want none", setting, n-gcs)
		}
	}
}

func TestPrepareLeavesTHPOffWhenGODEBUGSaysSo(t *testing.T) {
	if prepareAndGrow(8<<20, env("GODEBUG=disablethp=1")) {
		t.Fatal("prepare advised the heap with GODEBUG=disablethp=1")
	}
}

// grow has the runtime map more heap, advises it and frees it with the
// collection it is given; where the user tunes the collector it does
// nothing.
func TestGrowAdvisesAndCollectsWithWhatItIsGiven(t *testing.T) {
	requireTHPOnRequest(t)
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection but grow's
	if grow(8<<20, env("GOGC=200"), func() { t.Error("grow collected with GOGC set") }) {
		t.Error("grow advised the heap with GOGC set")
	}
	collected := 0
	if !grow(8<<20, env(), func() { collected++; runtime.GC() }) {
		t.Fatal("grow did not advise the heap")
	}
	if collected != 1 {
		t.Errorf("grow called its collection %d times, want 1", collected)
	}
	next := make([]byte, 6<<20)
	if flags := vmFlags(t, uintptr(unsafe.Pointer(&next[len(next)-1]))); !hasFlag(flags, "hg") {
		t.Errorf("what was allocated after grow lies in a mapping with flags %v, want hg (huge pages advised)", flags)
	}
}

// prepareAndGrow is what Prepare(size) does, without its once and with the
// environment getenv: prepareHeap growing the heap with grow.
func prepareAndGrow(size int, getenv func(string) string) bool {
	return prepareHeap(size, getenv, func(n int) { grow(n, getenv, runtime.GC) })
}
