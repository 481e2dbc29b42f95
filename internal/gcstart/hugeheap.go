package gcstart

import "sync"

// HugeHeapSize is how much of the heap HugeHeap prepares: about what a
// one-report run's heap grows by once it starts screening (the rules'
// tables, the screening's buffers; 16 MB of heap mapped in all), in whole
// huge pages.
const HugeHeapSize = 16 << 20

var hugeHeapOnce sync.Once

// HugeHeap asks the kernel to back the next size bytes of the heap with
// transparent huge pages where the kernel gives them only to memory that
// asks for them (transparent_hugepage/enabled is "madvise", as on Ubuntu's
// kernels and on the virtual machine this was measured on); elsewhere, or
// when called again, it does nothing. It reports whether it advised the
// heap.
//
// Why: a short run's cost is mostly first touches of fresh heap pages.
// The heap of a one-report run grows by ~12 MB after start-up, ~1,700
// page faults of ~10 µs each in a VM; a huge page is one fault (and one
// 2 MB clear) for 512 pages. The runtime maps its heap as it grows, each
// mapping without the advice, so HugeHeap has it map size bytes at once
// by allocating them, advises them (and the untouched rest of the heap
// below them) while no page of them is touched, and frees them with one
// collection; the allocations that follow reuse those pages first. The
// collection costs a few milliseconds, more than a run that allocates
// little saves (--version, help): call HugeHeap where a screening run
// starts. Inside Begin's window the collection does not end the window.
func HugeHeap(size int) (advised bool) {
	hugeHeapOnce.Do(func() { advised = hugeHeap(size) })
	return advised
}
