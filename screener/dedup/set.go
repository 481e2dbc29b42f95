package dedup

import "math/bits"

// u64Set is a set of uint64 values that is emptied in constant time and
// keeps its memory from one use to the next: a slot is taken when its
// stamp is the set's current one. It serves the shingle hashes of one
// signature and the run positions of one lookup.
type u64Set struct {
	vals   []uint64
	stamps []uint32
	stamp  uint32
	n      int
}

// reset empties the set, with room for hint values before it grows.
func (s *u64Set) reset(hint int) {
	size := 16
	for size < 2*hint {
		size *= 2
	}
	if len(s.vals) < size {
		s.vals, s.stamps, s.stamp = make([]uint64, size), make([]uint32, size), 0
	}
	s.n = 0
	if s.stamp++; s.stamp == 0 {
		clear(s.stamps)
		s.stamp = 1
	}
}

// slot returns where x is, or the empty slot where it would go: the
// probe starts at the top bits of x times the golden ratio (Fibonacci
// hashing), which spreads keys whatever bits they vary in.
func (s *u64Set) slot(x uint64) int {
	mask := uint64(len(s.vals) - 1)
	i := (x * 0x9e3779b97f4a7c15) >> (64 - bits.Len64(mask))
	for s.stamps[i] == s.stamp && s.vals[i] != x {
		i = (i + 1) & mask
	}
	return int(i)
}

// has reports whether x is in the set.
func (s *u64Set) has(x uint64) bool {
	return s.stamps[s.slot(x)] == s.stamp
}

// add puts x in the set and reports whether it was not there.
func (s *u64Set) add(x uint64) bool {
	i := s.slot(x)
	if s.stamps[i] == s.stamp {
		return false
	}
	s.vals[i], s.stamps[i] = x, s.stamp
	if s.n++; 2*s.n > len(s.vals) {
		s.grow()
	}
	return true
}

// grow doubles the table, keeping the values.
func (s *u64Set) grow() {
	var kept []uint64
	for i, v := range s.vals {
		if s.stamps[i] == s.stamp {
			kept = append(kept, v)
		}
	}
	size := 2 * len(s.vals)
	s.vals, s.stamps, s.stamp, s.n = make([]uint64, size), make([]uint32, size), 1, 0
	for _, v := range kept {
		s.add(v)
	}
}
