package lazydfa

import (
	"cmp"
	"hash/crc32"
	"sync/atomic"
	"unsafe"

	"github.com/secscreen/secscreen/internal/progtab"
)

// A Finder's DFAs may start warm: from snapshots of the states that
// warm-up texts led them to, which go generate records (WarmRecorder) and
// a package embeds (WarmSet). Building the states that nearly every text
// reaches was, on a process's first report, a few percent of the rules'
// CPU and about a tenth of its page faults (the states, the table's
// growth and the map of keys); a warm DFA reads them from the snapshot in
// place instead, and a search that stays among them allocates nothing.
//
// A warm set is a table of 32-bit words, read in place (progtab.Uint32s):
//
//	magic, number of snapshots,
//	per snapshot (ordered by its first three words): the CRC-32C of its
//	program's encoding, the encoding's length, whether it is longest-match
//	(a reversed program), the word offset of the snapshot;
//
// and each snapshot:
//
//	the same three words, the stride (entries per row), the number of
//	states n (the dead state 0 included), the number of pcs words, the
//	start entries plus one per kind of rune before (0: none),
//	the table: n rows of stride entries (see posDFA),
//	per state: the offset of its instructions in the pcs words, and their
//	number<<8 | prev<<1 | loop,
//	per state but the dead one, ordered: the hash of its key (see
//	appendKey) and its id,
//	the pcs words.
//
// A snapshot is found by its program's CRC and length: a stale one (of a
// program since changed) is not found, and the DFA starts empty.

// warmMagic starts a warm set ("LDW1").
const warmMagic = 0x3157444c

// Word counts of a warm set's parts.
const (
	warmHead      = 2
	warmDirEntry  = 4
	warmSnapHead  = 6 + int(numKinds)
	warmStateDesc = 2
	warmIndexEnt  = 2
)

// A WarmSet holds the snapshots that a WarmRecorder wrote, read in place.
// It is safe for concurrent use.
type WarmSet struct {
	words []uint32
	n     int
}

// NewWarmSet returns the warm set held in data (an embedded file, which
// must not change). Data that does not hold one holds no snapshot.
func NewWarmSet(data string) *WarmSet {
	w := progtab.Uint32s(data)
	if len(w) < warmHead || w[0] != warmMagic || uint64(w[1])*warmDirEntry > uint64(len(w)-warmHead) {
		return &WarmSet{}
	}
	return &WarmSet{words: w, n: int(w[1])}
}

// Len returns the number of snapshots the set holds.
func (s *WarmSet) Len() int { return s.n }

// programSum returns the CRC-32C of a program's encoding, by which its
// snapshot is found.
func programSum(enc string) uint32 {
	if enc == "" {
		return 0
	}
	// MakeTable makes the table once (and not at every process's start,
	// as a package variable would).
	return crc32.Checksum(unsafe.Slice(unsafe.StringData(enc), len(enc)), crc32.MakeTable(crc32.Castagnoli))
}

// A warmDFA is one snapshot, read in place.
type warmDFA struct {
	n      int32 // states, the dead one included
	stride int
	rows   []int32 // n*stride, capacity as much (the first state added copies it)
	states []uint32
	index  []uint32
	pcs    []uint32
	starts [numKinds]int32
}

// dfa returns the snapshot of the program whose encoding has the CRC sum
// (programSum) and length n, run leftmost-first or longest-match, for rows
// of stride entries; nil when s (which may be nil) holds none, or one that
// does not fit.
func (s *WarmSet) dfa(sum uint32, n int, longest bool, stride int) *warmDFA {
	if s == nil || s.n == 0 {
		return nil
	}
	size, lm := uint32(n), uint32(0)
	if longest {
		lm = 1
	}
	dir := s.words[warmHead : warmHead+s.n*warmDirEntry]
	lo, hi := 0, s.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		e := dir[m*warmDirEntry:]
		if c := cmp.Or(cmp.Compare(e[0], sum), cmp.Compare(e[1], size), cmp.Compare(e[2], lm)); c < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == s.n {
		return nil
	}
	e := dir[lo*warmDirEntry:]
	if e[0] != sum || e[1] != size || e[2] != lm {
		return nil
	}
	return s.snapshot(int(e[3]), sum, size, lm, stride)
}

// snapshot reads the snapshot at word offset off, checking that its head
// is what its directory entry says and that its parts fit in the set;
// nil when not.
func (s *WarmSet) snapshot(off int, sum, size, lm uint32, stride int) *warmDFA {
	w := s.words
	if off < 0 || off > len(w)-warmSnapHead {
		return nil
	}
	h := w[off : off+warmSnapHead]
	if h[0] != sum || h[1] != size || h[2] != lm || int(h[3]) != stride || h[4] == 0 || h[4] > maxDFAStates {
		return nil
	}
	n, npcs := int(h[4]), uint64(h[5])
	need := uint64(n)*uint64(stride) + uint64(n)*warmStateDesc + uint64(n-1)*warmIndexEnt + npcs
	at := off + warmSnapHead
	if need > uint64(len(w)-at) {
		return nil
	}
	d := &warmDFA{n: int32(n), stride: stride}
	for k := range d.starts {
		d.starts[k] = int32(h[6+k])
	}
	rows := w[at : at+n*stride : at+n*stride]
	d.rows = unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(rows))), len(rows))
	at += n * stride
	d.states = w[at : at+n*warmStateDesc]
	at += n * warmStateDesc
	d.index = w[at : at+(n-1)*warmIndexEnt]
	at += (n - 1) * warmIndexEnt
	d.pcs = w[at : at+int(npcs)]
	return d
}

// state returns the state of id (0 < id < n).
func (d *warmDFA) state(id int32) dstate {
	off, desc := d.states[2*id], d.states[2*id+1]
	return dstate{pcs: d.pcs[off : off+desc>>8 : off+desc>>8], prev: runeKind(desc >> 1 & 0x7f), loop: desc&1 != 0}
}

// entry returns the table entry of the state of id (see posDFA).
func (d *warmDFA) entry(id int32) int32 {
	row := int(id) * d.stride
	e := int32(row) << 1
	if atomic.LoadInt32(&d.rows[row+d.stride-1]) != 0 {
		e |= 1
	}
	return e
}

// lookup returns the entry of the state of pcs, prev and loop, of hash h
// (stateHash); false when d (which may be nil) lacks it.
func (d *warmDFA) lookup(h uint32, pcs []uint32, prev runeKind, loop bool) (int32, bool) {
	if d == nil {
		return 0, false
	}
	n := len(d.index) / warmIndexEnt
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if d.index[m*warmIndexEnt] < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for ; lo < n && d.index[lo*warmIndexEnt] == h; lo++ {
		id := int32(d.index[lo*warmIndexEnt+1])
		if id <= 0 || id >= d.n {
			continue
		}
		if st := d.state(id); st.is(pcs, prev, loop) {
			return d.entry(id), true
		}
	}
	return 0, false
}

// appendKey appends to dst the key of the state of pcs after a rune of
// kind prev, loop or not: what tells states apart.
func appendKey(dst []byte, pcs []uint32, prev runeKind, loop bool) []byte {
	dst = append(dst, byte(prev))
	if loop {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	for _, pc := range pcs {
		dst = append(dst, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	return dst
}

// readKey returns the state whose key appendKey wrote.
func readKey(key string) (pcs []uint32, prev runeKind, loop bool) {
	for i := 2; i+4 <= len(key); i += 4 {
		pcs = append(pcs, uint32(key[i])|uint32(key[i+1])<<8|uint32(key[i+2])<<16|uint32(key[i+3])<<24)
	}
	return pcs, runeKind(key[0]), key[1] != 0
}

// stateHash is the hash of the state of pcs after a rune of kind prev,
// loop or not: FNV-1a, a word at a time. Snapshots are ordered by it:
// it must not change without go generate.
func stateHash(pcs []uint32, prev runeKind, loop bool) uint32 {
	h := (uint32(2166136261) ^ uint32(prev)<<1 ^ b2u(loop)) * 16777619
	for _, pc := range pcs {
		h = (h ^ pc) * 16777619
	}
	return h ^ h>>15
}
