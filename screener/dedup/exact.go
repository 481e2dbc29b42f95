package dedup

import "math/bits"

// exactTable maps the exact key of each content of a run (the key of its
// content hash, never 0) to where the first report with it is: its
// position while the run holds it in memory, or its record in the spill
// once it left the window. A run keeps one slot per distinct content, so
// the slots are small: an open-addressing table (linear probing, at most
// 3/4 full) of 8-byte slots, 11 to 21 bytes per content as the table
// doubles, where a Go map of the key and a 16-byte reference took about 40.
//
// A slot keeps the top 32 bits of the key (its tag), not the key: its
// place in the table is the tag's top bits, so the table can grow and
// delete without the keys. Two contents whose keys share those 32 bits
// would share a tag: among n contents, about n²/2^33 pairs do (a few at
// 250,000), so a tag is never taken for the content. The caller confirms
// each slot of the tag against the whole key, kept by the report in
// memory and in its record, which the caller reads anyway to use the
// match; a slot of another content costs that one read, at odds of 2^-32
// times the slots probed (at most a few) per lookup. So the table finds
// exactly what a map of whole keys found.
type exactTable struct {
	slots []exactSlot // a power of two of them, at least 16, or none
	n     int         // slots in use
	// gen counts the changes that move or remove slots, so that a slot
	// index found before is known to still hold when gen is unchanged.
	gen uint64
}

// exactSlot is one slot: tag 0 is an empty slot (a key whose top 32 bits
// are 0 has the tag 1), and ref says where the report is.
type exactSlot struct {
	tag uint32
	ref exactRef
}

// exactRef says where the first report with a content is: ref>>1 is its
// position in the run when ref&1 is 0, else the reference of its record in
// the spill (spill.add).
type exactRef uint32

// maxExactSeq is the last run position an exactRef holds.
const maxExactSeq = 1<<31 - 1

// atSeq is the reference of the report at position seq (at most
// maxExactSeq) in memory.
func atSeq(seq int) exactRef { return exactRef(seq) << 1 }

// inSpill is the reference of the record at ref (below 2^31) in the spill.
func inSpill(ref uint32) exactRef { return exactRef(ref)<<1 | 1 }

// seq returns the position r holds and true, or false for a record.
func (r exactRef) seq() (int, bool) { return int(r >> 1), r&1 == 0 }

// spilled returns the spill reference r holds and true, or false for a
// position.
func (r exactRef) spilled() (uint32, bool) { return uint32(r >> 1), r&1 == 1 }

// tagOf is key's tag.
func tagOf(key uint64) uint32 {
	return max(uint32(key>>32), 1)
}

// home is where a slot of tag is placed, or found from.
func (t *exactTable) home(tag uint32) int {
	return int(tag >> (32 - bits.TrailingZeros(uint(len(t.slots)))))
}

// len returns the number of slots in use.
func (t *exactTable) len() int { return t.n }

// probe calls same with the reference of each slot of key's tag, in probe
// order, until same returns true, and returns that slot's index, or -1
// when none matched.
func (t *exactTable) probe(key uint64, same func(exactRef) bool) int {
	if len(t.slots) == 0 {
		return -1
	}
	tag, mask := tagOf(key), len(t.slots)-1
	for i := t.home(tag); ; i = (i + 1) & mask {
		s := t.slots[i]
		switch {
		case s.tag == 0:
			return -1
		case s.tag == tag && same(s.ref):
			return i
		}
	}
}

// ref returns the reference of slot i (from probe).
func (t *exactTable) ref(i int) exactRef { return t.slots[i].ref }

// set changes the reference of slot i (from probe).
func (t *exactTable) set(i int, ref exactRef) { t.slots[i].ref = ref }

// add puts key with ref in the table; the caller has made sure (probe)
// that key is not in it.
func (t *exactTable) add(key uint64, ref exactRef) {
	if 4*(t.n+1) > 3*len(t.slots) {
		old := t.slots
		t.slots = make([]exactSlot, max(16, 2*len(old)))
		for _, s := range old {
			if s.tag != 0 {
				t.place(s)
			}
		}
		t.gen++
	}
	t.place(exactSlot{tag: tagOf(key), ref: ref})
	t.n++
}

// place puts s in the first empty slot from its home on.
func (t *exactTable) place(s exactSlot) {
	mask := len(t.slots) - 1
	i := t.home(s.tag)
	for t.slots[i].tag != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

// delete empties slot i (from probe) and moves back each slot after it
// that the gap would hide from a probe from its home (backward-shift
// deletion: the table keeps no tombstones).
func (t *exactTable) delete(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].tag != 0; j = (j + 1) & mask {
		// Slot j stays where it is when its home is cyclically in (i, j].
		h := t.home(t.slots[j].tag)
		if i <= j && i < h && h <= j || i > j && (i < h || h <= j) {
			continue
		}
		t.slots[i] = t.slots[j]
		i = j
	}
	t.slots[i] = exactSlot{}
	t.n--
	t.gen++
}
