//go:build !purego

package dedup

import "golang.org/x/sys/cpu"

// hasAVX512 says whether minMixAVX512 can run: AVX-512 F and DQ (for the
// 64-bit multiplication), with the operating system saving their state.
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// minMixAVX512 is minMixGeneric with AVX-512: eight positions per
// instruction. bases must not be empty.
//
//go:noescape
func minMixAVX512(sig *[NumHashes]uint32, seeds *[NumHashes]uint64, bases []uint64)

// minMix sets sig[k] to the least mixTail(b^splitSeeds[k]) over bases.
func minMix(sig *[NumHashes]uint32, bases []uint64) {
	if hasAVX512 && len(bases) > 0 {
		minMixAVX512(sig, &splitSeeds, bases)
		return
	}
	minMixGeneric(sig, bases)
}
