// Package progtab stores what go generate works out of fixed regular
// expressions (package lazydfa's encodings of their automata) in tables
// that a package embeds and reads at first use instead: parsing,
// simplifying and compiling a large case-folded pattern allocates several
// times the program's size and was most of what the first report of a
// process cost in the injection detector and a good part of it in the
// rules.
//
// A table (Builder, Table) maps keys (a pattern's source, as the package
// that uses it chooses) to values (the package's own record, made with
// AppendString and binary.AppendUvarint, say), and is read in place: a
// lookup touches the index and its entry only, so a process that needs a
// few patterns does not read the whole table. A package
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
// syntax.Perl, simplified and compiled: what a table's record of a
// pattern is worked out from, and what a package compiles when its table
// lacks one.
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
