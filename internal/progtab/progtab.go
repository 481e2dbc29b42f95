// Package progtab stores compiled regular expression programs
// (regexp/syntax.Prog) in a compact binary form, so that a package whose
// fixed patterns it compiles at first use can read them from a table
// written by go generate instead: parsing, simplifying and compiling a
// large case-folded pattern allocates several times the program's size
// and was most of what the first report of a process cost in the
// injection detector and a good part of it in the rules.
//
// A table (Builder, Table) maps keys (a pattern's source, as the package
// that uses it chooses) to values (the package's own record, made with
// AppendProg, AppendString and binary.AppendUvarint), and is read in
// place: a lookup touches the index and its entry only, so a process
// that needs a few programs does not read the whole table. A package
// embeds its table and checks in a test that it is what compiling its
// patterns gives today, so a stale table fails the tests; a key the table
// lacks is compiled as before.
package progtab

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"regexp/syntax"
	"slices"
)

// Compile returns the program regexp compiles for src: src parsed with
// syntax.Perl, simplified and compiled. It is what a table holds for a
// pattern, and what a package compiles when its table lacks one.
func Compile(src string) (*syntax.Prog, error) {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, err
	}
	return syntax.Compile(re.Simplify())
}

// ErrStale is returned by WriteOrCheck for a table file that is not the
// table given.
var ErrStale = errors.New("progtab: table file is stale")

// WriteOrCheck writes the table data to the file path when update is
// set, and otherwise returns ErrStale unless the file holds data: what a
// package's generator test does (go generate runs it with update set).
func WriteOrCheck(path string, data []byte, update bool) error {
	if update {
		return os.WriteFile(path, data, 0o644)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !bytes.Equal(old, data) {
		return fmt.Errorf("%w: %s", ErrStale, path)
	}
	return nil
}

// ErrCorrupt is returned for an encoding that ends early or holds a
// value out of range.
var ErrCorrupt = errors.New("progtab: corrupt encoding")

// AppendProg appends the encoding of p to dst: the start, the number of
// capture slots, of instructions and of runes in all, then the
// instructions, each its op, out, arg and runes (a nil rune slice and an
// empty one stay apart, as Compile makes them).
func AppendProg(dst []byte, p *syntax.Prog) []byte {
	nrunes := 0
	for i := range p.Inst {
		nrunes += len(p.Inst[i].Rune)
	}
	dst = binary.AppendUvarint(dst, uint64(p.Start))
	dst = binary.AppendUvarint(dst, uint64(p.NumCap))
	dst = binary.AppendUvarint(dst, uint64(len(p.Inst)))
	dst = binary.AppendUvarint(dst, uint64(nrunes))
	for i := range p.Inst {
		in := &p.Inst[i]
		dst = append(dst, byte(in.Op))
		dst = binary.AppendUvarint(dst, uint64(in.Out))
		dst = binary.AppendUvarint(dst, uint64(in.Arg))
		if in.Rune == nil {
			dst = append(dst, 0)
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(len(in.Rune))+1)
		for _, r := range in.Rune {
			dst = binary.AppendUvarint(dst, uint64(r))
		}
	}
	return dst
}

// reader reads varints from an encoding, remembering the first error.
type reader struct {
	s   string
	err error
}

// uvarint reads a varint no greater than limit.
func (r *reader) uvarint(limit uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := uvarint(r.s)
	if n == 0 || v > limit {
		r.err = ErrCorrupt
		return 0
	}
	r.s = r.s[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.s) == 0 {
		r.err = ErrCorrupt
		return 0
	}
	c := r.s[0]
	r.s = r.s[1:]
	return c
}

// uvarint decodes a varint at the start of s, as binary.Uvarint does a
// byte slice's, and returns it and its length (0: none, or too long).
func uvarint(s string) (uint64, int) {
	var v uint64
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if i == binary.MaxVarintLen64-1 && c > 1 {
			return 0, 0
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// ReadProg decodes a program that AppendProg encoded at the start of s,
// and returns it and the bytes after it. The program's runes share one
// allocation, each instruction's slice capped at its own length.
func ReadProg(s string) (*syntax.Prog, string, error) {
	r := reader{s: s}
	p := &syntax.Prog{}
	p.Start = int(r.uvarint(1 << 31))
	p.NumCap = int(r.uvarint(1 << 31))
	// Each instruction takes at least 4 bytes, each rune 1.
	n := int(r.uvarint(uint64(len(s) / 4)))
	runes := make([]rune, r.uvarint(uint64(len(s))))
	if r.err != nil {
		return nil, s, r.err
	}
	p.Inst = make([]syntax.Inst, n)
	for i := range p.Inst {
		in := &p.Inst[i]
		in.Op = syntax.InstOp(r.byte())
		in.Out = uint32(r.uvarint(1<<32 - 1))
		in.Arg = uint32(r.uvarint(1<<32 - 1))
		k := int(r.uvarint(uint64(len(runes)) + 1))
		if r.err != nil {
			return nil, s, r.err
		}
		if k == 0 {
			continue
		}
		k--
		in.Rune = runes[:k:k]
		runes = runes[k:]
		for j := range in.Rune {
			in.Rune[j] = rune(r.uvarint(0x7fffffff))
		}
	}
	if r.err != nil {
		return nil, s, r.err
	}
	if p.Start >= n {
		return nil, s, fmt.Errorf("%w: start %d of %d instructions", ErrCorrupt, p.Start, n)
	}
	return p, r.s, nil
}

// Builder makes a table.
type Builder struct {
	entries []builderEntry
}

type builderEntry struct {
	hash       uint64
	key, value string
}

// Add adds the entry of key (a later one of the same key is not found).
func (b *Builder) Add(key string, value []byte) {
	b.entries = append(b.entries, builderEntry{hash(key), key, string(value)})
}

// Bytes returns the table: the number of entries, an index of 12 bytes
// an entry (its key's hash and its offset, little-endian, in the order
// of the hashes), then the entries, each its key and value after their
// lengths. A lookup reads the index and the one entry, nothing else.
func (b *Builder) Bytes() []byte {
	entries := slices.Clone(b.entries)
	slices.SortStableFunc(entries, func(x, y builderEntry) int { return cmp.Compare(x.hash, y.hash) })
	var body []byte
	index := binary.AppendUvarint(nil, uint64(len(entries)))
	head := len(index) + indexEntry*len(entries)
	for _, e := range entries {
		index = binary.LittleEndian.AppendUint64(index, e.hash)
		index = binary.LittleEndian.AppendUint32(index, uint32(head+len(body)))
		body = AppendString(body, e.key)
		body = AppendString(body, e.value)
	}
	return append(index, body...)
}

// indexEntry is the size of an entry of a table's index.
const indexEntry = 12

// hash is the 64-bit FNV-1a hash of s: the same in every process.
func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Table is a table that a Builder made, read in place.
type Table struct {
	data string
}

// New returns the table held in data (an embedded file, say).
func New(data string) *Table { return &Table{data: data} }

// Len returns the number of entries, 0 for a table that does not decode.
func (t *Table) Len() int {
	n, _, _ := t.index()
	return n
}

// index returns the number of entries and the index.
func (t *Table) index() (int, string, bool) {
	n, rest, ok := ReadUvarint(t.data)
	if !ok || n > uint64(len(rest)/indexEntry) {
		return 0, "", false
	}
	return int(n), rest[:n*indexEntry], true
}

// Value returns the value of key, a substring of the table's data, and
// whether the table holds it. A table that does not decode holds nothing.
func (t *Table) Value(key string) (string, bool) {
	n, index, ok := t.index()
	if !ok {
		return "", false
	}
	h := hash(key)
	at := func(i int) uint64 { return le64(index[i*indexEntry:]) }
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if at(m) < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for ; lo < n && at(lo) == h; lo++ {
		off := uint64(le32(index[lo*indexEntry+8:]))
		if off > uint64(len(t.data)) {
			return "", false
		}
		k, rest, ok := cut(t.data[off:])
		if !ok {
			return "", false
		}
		if k != key {
			continue
		}
		v, _, ok := cut(rest)
		return v, ok
	}
	return "", false
}

func le64(s string) uint64 {
	return uint64(le32(s)) | uint64(le32(s[4:]))<<32
}

func le32(s string) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// AppendString appends s after its length.
func AppendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// ReadUvarint reads a varint that binary.AppendUvarint wrote at the start
// of s, and returns it and the rest of s.
func ReadUvarint(s string) (v uint64, rest string, ok bool) {
	v, n := uvarint(s)
	if n == 0 {
		return 0, s, false
	}
	return v, s[n:], true
}

// ReadString reads a string that AppendString wrote at the start of s,
// and returns it (a substring of s) and the rest of s.
func ReadString(s string) (field, rest string, ok bool) { return cut(s) }

// cut reads a length and that many bytes from the start of s.
func cut(s string) (field, rest string, ok bool) {
	v, n := uvarint(s)
	if n == 0 || v > uint64(len(s)-n) {
		return "", "", false
	}
	s = s[n:]
	return s[:v], s[v:], true
}
