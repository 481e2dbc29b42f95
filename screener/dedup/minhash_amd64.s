//go:build !purego

#include "textflag.h"

// func minMixAVX512(sig *[NumHashes]uint32, seeds *[NumHashes]uint64, bases []uint64)
//
// For each of the 128 positions k: sig[k] = the least, over the bases b,
// of mixTail(b ^ seeds[k]), eight positions to a register, four registers
// for each base loaded. bases is not empty; its values and the seeds have
// had mix64's first step taken (see sign).
TEXT ·minMixAVX512(SB), NOSPLIT, $0-40
	MOVQ sig+0(FP), DI
	MOVQ seeds+8(FP), SI
	MOVQ bases_base+16(FP), R8
	MOVQ bases_len+24(FP), R9
	MOVQ $0xbf58476d1ce4e5b9, AX
	VPBROADCASTQ AX, Z30
	MOVQ $0x94d049bb133111eb, AX
	VPBROADCASTQ AX, Z31
	MOVQ $4, R10 // blocks of 32 positions

block:
	VMOVDQU64 0(SI), Z0
	VMOVDQU64 64(SI), Z1
	VMOVDQU64 128(SI), Z2
	VMOVDQU64 192(SI), Z3
	// The least so far, in 64-bit lanes (every value is under 2^32).
	VPTERNLOGQ $0xff, Z20, Z20, Z20
	VMOVDQA64 Z20, Z21
	VMOVDQA64 Z20, Z22
	VMOVDQA64 Z20, Z23
	MOVQ R8, BX
	MOVQ R9, CX

base:
	VPBROADCASTQ (BX), Z4
	VPXORQ  Z0, Z4, Z5
	VPXORQ  Z1, Z4, Z6
	VPXORQ  Z2, Z4, Z7
	VPXORQ  Z3, Z4, Z8
	VPMULLQ Z30, Z5, Z5
	VPMULLQ Z30, Z6, Z6
	VPMULLQ Z30, Z7, Z7
	VPMULLQ Z30, Z8, Z8
	VPSRLQ  $27, Z5, Z9
	VPSRLQ  $27, Z6, Z10
	VPSRLQ  $27, Z7, Z11
	VPSRLQ  $27, Z8, Z12
	VPXORQ  Z9, Z5, Z5
	VPXORQ  Z10, Z6, Z6
	VPXORQ  Z11, Z7, Z7
	VPXORQ  Z12, Z8, Z8
	VPMULLQ Z31, Z5, Z5
	VPMULLQ Z31, Z6, Z6
	VPMULLQ Z31, Z7, Z7
	VPMULLQ Z31, Z8, Z8
	VPSRLQ  $32, Z5, Z9
	VPSRLQ  $32, Z6, Z10
	VPSRLQ  $32, Z7, Z11
	VPSRLQ  $32, Z8, Z12
	VPSRLQ  $63, Z5, Z5
	VPSRLQ  $63, Z6, Z6
	VPSRLQ  $63, Z7, Z7
	VPSRLQ  $63, Z8, Z8
	VPXORQ  Z9, Z5, Z5
	VPXORQ  Z10, Z6, Z6
	VPXORQ  Z11, Z7, Z7
	VPXORQ  Z12, Z8, Z8
	VPMINUQ Z5, Z20, Z20
	VPMINUQ Z6, Z21, Z21
	VPMINUQ Z7, Z22, Z22
	VPMINUQ Z8, Z23, Z23
	ADDQ $8, BX
	DECQ CX
	JNZ  base

	VPMOVQD Z20, 0(DI)
	VPMOVQD Z21, 32(DI)
	VPMOVQD Z22, 64(DI)
	VPMOVQD Z23, 96(DI)
	ADDQ $128, DI
	ADDQ $256, SI
	DECQ R10
	JNZ  block
	VZEROUPPER
	RET
