//go:build linux

package rules

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// processUint32s returns n zeroed uint32s, for a table a process keeps
// to its end: the first time, mapped apart from Go's heap (and never
// freed) and advised to the kernel as transparent huge pages. A big table
// that is filled as texts reach its entries (the generated scanner's
// automaton, about 1.2 MB, of which a first report touches most pages)
// then costs a few page faults instead of one per 4 KB page; on a virtual
// machine where a fault costs tens of microseconds, that was several
// milliseconds of a process's first report. Where the kernel gives no
// huge pages, the mapping is of small pages, as Go's heap is; where it
// cannot map, and on later calls (a benchmark that builds the table again,
// as a new process would), the table is Go's, so that at most one mapping
// is ever made.
func processUint32s(n int) []uint32 {
	const huge = 2 << 20
	if n <= 0 {
		return nil
	}
	if !hugeMapped.CompareAndSwap(false, true) {
		return make([]uint32, n)
	}
	size := (4*n + huge - 1) / huge * huge
	// A huge page must be aligned: map one more and keep the aligned
	// part (the rest is never touched, so never backed).
	mem, err := unix.Mmap(-1, 0, size+huge, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]uint32, n)
	}
	off := (huge - int(uintptr(unsafe.Pointer(&mem[0]))%huge)) % huge
	region := mem[off : off+size]
	// Advice only: a kernel without transparent huge pages refuses it,
	// and the table is of small pages.
	_ = unix.Madvise(region, unix.MADV_HUGEPAGE)
	return unsafe.Slice((*uint32)(unsafe.Pointer(&region[0])), n)
}

// hugeMapped says that processUint32s has made its one mapping.
var hugeMapped atomic.Bool
