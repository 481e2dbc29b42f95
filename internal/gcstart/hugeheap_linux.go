package gcstart

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// thpModeFile says when the kernel backs anonymous memory with
// transparent huge pages: "always [madvise] never" names the mode in use
// in brackets.
const thpModeFile = "/sys/kernel/mm/transparent_hugepage/enabled"

// hugePageSize is the size of a transparent huge page on the platforms Go
// runs Linux on with 4 KB pages (x86-64, arm64).
const hugePageSize = 2 << 20

// chunkSize is the granule in which the runtime maps its heap as it grows
// (runtime.pallocChunkBytes); the heap's mappings begin at multiples of
// it.
const chunkSize = 4 << 20

// arenaSize is the size of the runtime's heap arenas on 64-bit Linux
// (runtime.heapArenaBytes): what HugeHeap advises lies within one or two.
const arenaSize = 64 << 20

func hugeHeap(size int) bool {
	if size < 2*hugePageSize {
		return false
	}
	if mode, err := os.ReadFile(thpModeFile); err != nil || !thpOnRequest(mode) {
		return false
	}
	buf := make([]byte, size)
	err := adviseHeap(buf)
	runtime.KeepAlive(buf)
	buf = nil
	collectKeepingWindow()
	return err == nil
}

// adviseHeap advises huge pages for the whole huge pages within buf, a
// fresh allocation, and for the heap below it down to the heap's first
// chunk.
func adviseHeap(buf []byte) error {
	end := (uintptr(unsafe.Pointer(unsafe.SliceData(buf))) + uintptr(len(buf))) &^ (hugePageSize - 1)
	err := madvise(heapStart(end), end, unix.MADV_HUGEPAGE)
	if errors.Is(err, unix.ENOMEM) {
		// Part of the range is not mapped (between the runtime's
		// mappings); the rest was advised.
		err = nil
	}
	return err
}

// heapStart returns the start of the heap's first chunk, where the
// runtime allocates first: the chunk of os.Args, which the runtime
// allocated as it started, when that lies within the arena below end, or
// else that of a fresh allocation.
func heapStart(end uintptr) uintptr {
	start := uintptr(unsafe.Pointer(new([64]byte))) &^ (chunkSize - 1)
	if len(os.Args) > 0 {
		args := uintptr(unsafe.Pointer(unsafe.SliceData(os.Args))) &^ (chunkSize - 1)
		if args < start && end-args <= arenaSize {
			start = args
		}
	}
	return start
}

// madvise gives advice about the memory from the address beg to end.
// (A range the runtime has not mapped is skipped with ENOMEM.)
func madvise(beg, end uintptr, advice int) error {
	if end <= beg {
		return nil
	}
	_, _, errno := unix.Syscall(unix.SYS_MADVISE, beg, end-beg, uintptr(advice))
	if errno != 0 {
		return errno
	}
	return nil
}

// thpOnRequest reports whether the mode read from thpModeFile gives
// transparent huge pages to memory that asks for them and not otherwise
// (with "always" the heap has them already; with "never" asking does
// nothing).
func thpOnRequest(mode []byte) bool {
	return bytes.Contains(mode, []byte("[madvise]"))
}
