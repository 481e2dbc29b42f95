package baseline

// vocabIndex finds a feature's index in a sorted, distinct vocabulary.
// It is an open-addressing table (linear probing, at most 3/4 full) of
// 64-bit slots, each the high half of the feature's FNV-1a hash and its
// index plus one (0: empty), so that a probe compares strings only when
// the hashes agree. Building it for the bundled model's 9,150 features
// is one hash each into 128 KB, where a map[string]int took ~2 ms and
// more memory at every load; a look-up costs about what the map's did.
type vocabIndex struct {
	vocab []string
	slots []uint64
	mask  uint64
}

func newVocabIndex(vocab []string) vocabIndex {
	n := 1
	for 3*n < 4*len(vocab) {
		n <<= 1
	}
	x := vocabIndex{vocab: vocab, slots: make([]uint64, n), mask: uint64(n - 1)}
	for i, s := range vocab {
		h := fnv1a(s)
		p := h & x.mask
		for x.slots[p] != 0 {
			p = (p + 1) & x.mask
		}
		x.slots[p] = h&^0xffffffff | uint64(i+1)
	}
	return x
}

// lookup returns the index of s, and whether the vocabulary holds it.
func (x vocabIndex) lookup(s string) (int, bool) {
	if len(x.vocab) == 0 {
		return 0, false
	}
	h := fnv1a(s)
	for p := h & x.mask; ; p = (p + 1) & x.mask {
		v := x.slots[p]
		if v == 0 {
			return 0, false
		}
		if v&^0xffffffff == h&^0xffffffff {
			if i := int(v&0xffffffff) - 1; x.vocab[i] == s {
				return i, true
			}
		}
	}
}

// fnv1a is the 64-bit FNV-1a hash of s.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
