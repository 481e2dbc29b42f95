//go:build !linux

package rules

// processUint32s returns n zeroed uint32s, for a table a process keeps to
// its end (on Linux, the first is backed by transparent huge pages).
func processUint32s(n int) []uint32 { return make([]uint32, n) }
