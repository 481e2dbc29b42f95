package gcstart

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
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
		if got := thpOnRequest([]byte(mode)); got != want {
			t.Errorf("thpOnRequest(%q) = %v, want %v", mode, got, want)
		}
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

func TestAdviseHeapMarksTheBuffer(t *testing.T) {
	if _, err := os.Stat(thpModeFile); err != nil {
		t.Skip("no transparent huge pages in this kernel:", err)
	}
	buf := make([]byte, 8<<20)
	mid := uintptr(unsafe.Pointer(&buf[len(buf)/2]))
	if hasFlag(vmFlags(t, mid), "hg") {
		t.Skip("the heap has huge pages advised already")
	}
	if err := adviseHeap(buf); err != nil {
		t.Fatal(err)
	}
	if flags := vmFlags(t, mid); !hasFlag(flags, "hg") {
		t.Fatalf("the buffer's mapping has flags %v after adviseHeap, want hg (huge pages advised)", flags)
	}
}

func hasFlag(flags []string, f string) bool {
	for _, g := range flags {
		if g == f {
			return true
		}
	}
	return false
}

func TestHugeHeapTooSmallDoesNothing(t *testing.T) {
	if hugeHeap(hugePageSize) {
		t.Fatal("hugeHeap advised less than two huge pages")
	}
}
