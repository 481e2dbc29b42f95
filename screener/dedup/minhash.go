package dedup

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"math"
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
	// ShingleWords is the number of consecutive tokens in one shingle.
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
	sig := make(Signature, NumHashes)
	for i := range sig {
		sig[i] = math.MaxUint32
	}
	n := len(tokens) - ShingleWords + 1
	if n < 1 {
		n = 1
	}
	for i := range n {
		base := uint64(fnvOffset)
		for j := i; j < i+ShingleWords && j < len(tokens); j++ {
			base = fnvString(base, tokens[j])
			base *= fnvPrime // a 0 byte between tokens
		}
		for k := range sig {
			if v := uint32(mix64(base^seeds[k]) >> 32); v < sig[k] {
				sig[k] = v
			}
		}
	}
	return sig
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvString continues an FNV-1a hash over s without allocating.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// Similarity estimates the Jaccard similarity of the two shingle sets: the
// share of hash positions where the signatures agree. A missing signature
// is similar to nothing.
func Similarity(a, b Signature) float64 {
	if len(a) != NumHashes || len(b) != NumHashes {
		return 0
	}
	same := 0
	for i := range a {
		if a[i] == b[i] {
			same++
		}
	}
	return float64(same) / NumHashes
}

// BandKeys returns the signature's LSH keys, one per band: reports that
// share a key are near-duplicate candidates.
func (s Signature) BandKeys() []uint64 {
	if len(s) != NumHashes {
		return nil
	}
	keys := make([]uint64, Bands)
	var buf [4]byte
	for b := range Bands {
		h := fnv.New64a()
		h.Write([]byte{'b', byte(b)})
		for _, v := range s[b*Rows : (b+1)*Rows] {
			binary.LittleEndian.PutUint32(buf[:], v)
			h.Write(buf[:])
		}
		keys[b] = h.Sum64()
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
