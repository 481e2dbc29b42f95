//go:build !linux

package gcstart

func hugeHeap(int) bool { return false }
