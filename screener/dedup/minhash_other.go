//go:build !amd64 || purego

package dedup

// hasAVX512 is false: minMix is minMixGeneric here.
const hasAVX512 = false

// minMix sets sig[k] to the least mixTail(b^splitSeeds[k]) over bases.
func minMix(sig *[NumHashes]uint32, bases []uint64) { minMixGeneric(sig, bases) }
