package hugeheap

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

// thpModeFile says when the kernel backs anonymous memory with
// transparent huge pages: "always [madvise] never" names the mode in use
// in brackets.
const thpModeFile = "/sys/kernel/mm/transparent_hugepage/enabled"

// chunkSize is the granule in which the runtime maps its heap as it grows
// (runtime.pallocChunkBytes); the heap's mappings begin at multiples of
// it.
const chunkSize = 4 << 20

// arenaSize is the size of the runtime's heap arenas on 64-bit Linux
// (runtime.heapArenaBytes): what Prepare advises lies within one or two.
const arenaSize = 64 << 20

// madvCollapse is MADV_COLLAPSE (Linux 6.1), which syscall does not name:
// back a range's pages with huge pages now, copying those present.
const madvCollapse = 25

// prepare advises huge pages for the heap's first chunk and collapses
// what is touched there.
func prepare(getenv func(string) string) bool {
	if !thpOnRequestHere(getenv) {
		return false
	}
	start := heapStart()
	err := madvise(start, start+chunkSize, syscall.MADV_HUGEPAGE)
	if err == nil {
		// Best effort: the kernel may have no huge page free (EAGAIN),
		// predate MADV_COLLAPSE (EINVAL), or find a 2 MB range with no
		// page touched (EINVAL), which needs none.
		_ = madvise(start, start+chunkSize, madvCollapse)
	}
	return err == nil
}

// thpMode is the content of thpModeFile, read once: Prepare and Grow both
// ask it.
var thpMode = sync.OnceValues(func() ([]byte, error) { return os.ReadFile(thpModeFile) })

// thpOnRequestHere reports whether advice can give this process huge
// pages: the kernel gives them on request and GODEBUG does not keep the
// runtime's heap off them.
func thpOnRequestHere(getenv func(string) string) bool {
	if thpDisabled(getenv("GODEBUG")) {
		return false
	}
	mode, err := thpMode()
	return err == nil && thpOnRequest(string(mode))
}

// grow has the runtime map size more bytes of heap by allocating them,
// advises them (and the heap below them, from its first chunk, when that
// lies in the same arena) for huge pages, and frees them with collect;
// where the user tunes the collector (GOGC, GOMEMLIMIT) it does nothing.
func grow(size int, getenv func(string) string, collect func()) bool {
	if size <= 0 || getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" || !thpOnRequestHere(getenv) {
		return false
	}
	start := heapStart()
	buf := make([]byte, size)
	beg := uintptr(unsafe.Pointer(unsafe.SliceData(buf))) &^ (chunkSize - 1)
	top := (uintptr(unsafe.Pointer(unsafe.SliceData(buf))) + uintptr(size) + chunkSize - 1) &^ (chunkSize - 1)
	if top-start <= arenaSize && start < beg {
		beg = start
	}
	err := madvise(beg, top, syscall.MADV_HUGEPAGE)
	if errors.Is(err, syscall.ENOMEM) {
		// Part of the range is not mapped (the heap's mappings are
		// not contiguous); the rest was advised.
		err = nil
	}
	runtime.KeepAlive(buf)
	buf = nil
	collect()
	return err == nil
}

// heapStart returns the start of the heap's chunk that holds os.Args, which
// the os package allocated as it initialised, among the heap's first
// allocations.
func heapStart() uintptr {
	p := unsafe.Pointer(new([64]byte))
	if len(os.Args) > 0 {
		p = unsafe.Pointer(unsafe.SliceData(os.Args))
	}
	return uintptr(p) &^ (chunkSize - 1)
}

// madvise gives advice about the memory from the address beg to end.
// (A range the runtime has not mapped is skipped with ENOMEM.)
func madvise(beg, end uintptr, advice int) error {
	if end <= beg {
		return nil
	}
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, beg, end-beg, uintptr(advice))
	if errno != 0 {
		return errno
	}
	return nil
}

// thpOnRequest reports whether the mode read from thpModeFile gives
// transparent huge pages to memory that asks for them and not otherwise
// (with "always" the heap has them already; with "never" asking does
// nothing).
func thpOnRequest(mode string) bool {
	return contains(mode, "[madvise]")
}

// thpDisabled reports whether the GODEBUG setting godebug has the runtime
// keep its heap off huge pages (disablethp=1; the last setting wins, as in
// the runtime), which the advice would undo.
func thpDisabled(godebug string) (disabled bool) {
	const key = "disablethp="
	start := 0
	for i := 0; i <= len(godebug); i++ {
		if i < len(godebug) && godebug[i] != ',' {
			continue
		}
		if kv := godebug[start:i]; len(kv) >= len(key) && kv[:len(key)] == key {
			disabled = kv == key+"1"
		}
		start = i + 1
	}
	return disabled
}

// contains is strings.Contains, which this package does without: strings
// is not among os's imports (see the package comment).
func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
