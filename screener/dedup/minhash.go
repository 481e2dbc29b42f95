package dedup

import (
	"encoding/binary"
	"errors"
	"math"
	"sync"
)

// MinHash parameters. A signature has NumHashes values, cut into Bands
// bands of Rows values for the LSH index: two texts share a band, and so
// are compared, with probability 1-(1-J^Rows)^Bands for a Jaccard
// similarity J of their shingle sets: 0.87 at J=0.5, 0.99 at J=0.6, and
// 2e-4 at J=0.05, so unrelated reports are rarely even looked at.
const (
	NumHashes = 128
	Bands     = 32
	Rows      = NumHashes / Bands
	// ShingleWords is the number of consecutive tokens in one shingle
	// (signCanonical's window is written for 3).
	ShingleWords = 3
)

// Signature is the MinHash signature of a text's shingle set; nil for a
// text with no tokens.
type Signature []uint32

// seeds are the per-hash salts, fixed so that signatures stored by one
// version compare with those computed by the next.
var seeds = func() [NumHashes]uint64 {
	var s [NumHashes]uint64
	x := uint64(0x5ec5c12ee0d0b1e5)
	for i := range s {
		x += 0x9e3779b97f4a7c15
		s[i] = mix64(x)
	}
	return s
}()

// mix64 is splitmix64's finaliser: a fast, well-spread 64-bit mix.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Sign computes the MinHash signature of the shingles of tokens: every run
// of ShingleWords consecutive tokens, or the whole text when it is shorter.
func Sign(tokens []string) Signature {
	if len(tokens) == 0 {
		return nil
	}
	s := getScratch()
	defer s.put()
	for i := range max(len(tokens)-ShingleWords+1, 1) {
		s.bases = append(s.bases, shingleHash(tokens[i:min(i+ShingleWords, len(tokens))]))
	}
	return s.sign()
}

// signCanonical is Sign(Tokens(canon)) without the token strings: each
// shingle's hash is taken as its tokens are read. A token's bytes go into
// the hashes of the three shingles that hold it at once, so that the three
// chains of FNV-1a multiplications overlap instead of following one
// another.
func (s *scratch) signCanonical(canon []byte) Signature {
	// h0 is the hash of the shingle that started two tokens ago (complete
	// after this token), h1 one token ago, h2 at this token.
	var h0, h1, h2 uint64
	n := 0
	for w, i := nextToken(canon, 0); w != nil; w, i = nextToken(canon, i) {
		h0, h1, h2 = h1, h2, fnvOffset
		for _, c := range w {
			h0 = (h0 ^ uint64(c)) * fnvPrime
			h1 = (h1 ^ uint64(c)) * fnvPrime
			h2 = (h2 ^ uint64(c)) * fnvPrime
		}
		// A 0 byte after each token.
		h0, h1, h2 = h0*fnvPrime, h1*fnvPrime, h2*fnvPrime
		if n++; n >= ShingleWords {
			s.bases = append(s.bases, h0)
		}
	}
	switch n {
	case 0:
		return nil
	case 1:
		s.bases = append(s.bases, h2) // the whole text, shorter than a shingle
	case 2:
		s.bases = append(s.bases, h1)
	}
	return s.sign()
}

// shingleHash is the FNV-1a hash of a shingle's tokens, each followed by a
// 0 byte: what each of the signature's hashes is salted from.
func shingleHash(tokens []string) uint64 {
	h := uint64(fnvOffset)
	for _, t := range tokens {
		h = fnvAppend(h, t)
		h *= fnvPrime // a 0 byte after each token
	}
	return h
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvAppend continues an FNV-1a hash over s without allocating.
func fnvAppend[T string | []byte](h uint64, s T) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// sign returns the MinHash signature of the shingle hashes in s.bases.
//
// Each value is the least of uint32(mix64(base^seed)>>32) over the bases,
// one seed per position, as it always was (signatures are stored and
// compared across versions). What makes it faster: a shingle that repeats
// is hashed once (the least over a set is the same), mix64's first step is
// split between the base and the seed (x^(x>>30) distributes over the
// xor), so that each side's part is taken once, and minMix takes eight
// positions at a time where the processor can (AVX-512).
func (s *scratch) sign() Signature {
	bases := s.unique(s.bases)
	for i, b := range bases {
		bases[i] = b ^ b>>30
	}
	var sig [NumHashes]uint32
	minMix(&sig, bases)
	out := make(Signature, NumHashes)
	copy(out, sig[:])
	return out
}

// minMixGeneric sets sig[k] to the least mixTail(b^splitSeeds[k]) over
// bases (math.MaxUint32 when there are none), four bases at a time.
func minMixGeneric(sig *[NumHashes]uint32, bases []uint64) {
	for k, x := range splitSeeds {
		least := uint32(math.MaxUint32)
		i := 0
		for ; i+4 <= len(bases); i += 4 {
			b := bases[i : i+4 : i+4]
			least = min(least, mixTail(b[0]^x), mixTail(b[1]^x), mixTail(b[2]^x), mixTail(b[3]^x))
		}
		for _, b := range bases[i:] {
			least = min(least, mixTail(b^x))
		}
		sig[k] = least
	}
}

// splitSeeds are the seeds with mix64's first step taken: seed^(seed>>30).
var splitSeeds = func() (x [NumHashes]uint64) {
	for k, s := range seeds {
		x[k] = s ^ s>>30
	}
	return x
}()

// mixTail finishes mix64 on z = x^(x>>30) and returns the high 32 bits of
// the result: uint32(mix64(x)>>32).
func mixTail(z uint64) uint32 {
	z *= 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return uint32(z>>32 ^ z>>63)
}

// unique drops the repeats from b, in place, keeping the first of each.
func (s *scratch) unique(b []uint64) []uint64 {
	s.seen.reset(len(b))
	out := b[:0]
	for _, x := range b {
		if s.seen.add(x) {
			out = append(out, x)
		}
	}
	return out
}

// scratch holds the buffers one fingerprint is computed in, reused
// across reports (see getScratch), so that a fingerprint allocates little
// more than what it returns.
type scratch struct {
	canon []byte
	// lines are a text's lines, for Signals.
	lines []string
	bases []uint64
	// seen is unique's.
	seen u64Set
}

var scratches = sync.Pool{New: func() any { return new(scratch) }}

// getScratch returns an empty scratch; put gives it back.
func getScratch() *scratch {
	return scratches.Get().(*scratch)
}

// maxKeptScratch bounds the bytes of a buffer kept for the next report:
// one huge report does not hold its buffers for the whole run.
const maxKeptScratch = 1 << 20

func (s *scratch) put() {
	if cap(s.canon) > maxKeptScratch {
		s.canon = nil
	}
	clear(s.lines) // they hold the text
	if 16*cap(s.lines) > maxKeptScratch {
		s.lines = nil
	}
	if 8*cap(s.bases) > maxKeptScratch {
		s.bases = nil
	}
	if 12*len(s.seen.vals) > maxKeptScratch {
		s.seen = u64Set{}
	}
	s.canon, s.lines, s.bases = s.canon[:0], s.lines[:0], s.bases[:0]
	scratches.Put(s)
}

// Similarity estimates the Jaccard similarity of the two shingle sets: the
// share of hash positions where the signatures agree. A missing signature
// is similar to nothing.
func Similarity(a, b Signature) float64 {
	sim, _ := similarityAtLeast(a, b, math.Inf(-1))
	return sim
}

// similarityAtLeast returns Similarity(a, b) and whether it is at least
// need. It stops counting, returning false, once the positions left
// cannot bring it up to need: most candidates of a lookup are not similar,
// and only a match's similarity is used.
func similarityAtLeast(a, b Signature, need float64) (float64, bool) {
	if len(a) != NumHashes || len(b) != NumHashes {
		return 0, 0 >= need
	}
	x, y := (*[NumHashes]uint32)(a), (*[NumHashes]uint32)(b)
	// The positions need asks for: same/NumHashes >= need exactly when
	// same >= least, NumHashes being a power of two.
	least := need * NumHashes
	same := 0
	for i := 0; i < NumHashes; i += 16 {
		for j := i; j < i+16; j++ {
			if x[j] == y[j] {
				same++
			}
		}
		if float64(same+NumHashes-i-16) < least {
			return 0, false
		}
	}
	sim := float64(same) / NumHashes
	return sim, sim >= need
}

// BandKeys returns the signature's LSH keys, one per band: reports that
// share a key are near-duplicate candidates. A key is the FNV-1a hash of
// 'b', the band's number as a byte, and the band's values in little-endian
// order.
func (s Signature) BandKeys() []uint64 {
	if len(s) != NumHashes {
		return nil
	}
	keys := make([]uint64, Bands)
	for b := range Bands {
		h := uint64(fnvOffset)
		h = (h ^ 'b') * fnvPrime
		h = (h ^ uint64(byte(b))) * fnvPrime
		for _, v := range s[b*Rows : (b+1)*Rows] {
			for range 4 {
				h = (h ^ uint64(v&0xff)) * fnvPrime
				v >>= 8
			}
		}
		keys[b] = h
	}
	return keys
}

// Bytes encodes the signature for storage (little-endian, 4 bytes each).
func (s Signature) Bytes() []byte {
	if s == nil {
		return nil
	}
	out := make([]byte, 4*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint32(out[4*i:], v)
	}
	return out
}

// ParseSignature decodes Bytes' output; empty input is a nil signature.
func ParseSignature(b []byte) (Signature, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if len(b) != 4*NumHashes {
		return nil, errors.New("dedup: a stored signature has the wrong length")
	}
	s := make(Signature, NumHashes)
	for i := range s {
		s[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return s, nil
}
