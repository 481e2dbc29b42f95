package lazydfa

import (
	"encoding/binary"
	"errors"
	"fmt"
	"regexp/syntax"
	"unicode"

	"github.com/secscreen/secscreen/internal/progtab"
)

// Automata of fixed patterns can start from what go generate worked out
// (see package progtab): a Matcher from an encoding (AppendCompiled) of
// its program, rune classes and sets, a Finder from one of its programs,
// groups and rune classes.
// Reading them costs a small part of parsing, simplifying and compiling
// the patterns and working out their classes, which was most of a
// process's first report in the injection detector and a third of it in
// the rules.

// NewMatcherCompiled returns the Matcher whose encoding AppendCompiled
// returned, enc, which it reads in place (enc must not change) at first
// use; fallback answers for a text that the automaton gives up on, and
// must be regexp's MatchString of the same pattern. An enc that does not
// read panics at first use (a generated table's test reads them all).
func NewMatcherCompiled(enc string, fallback func(string) bool) *Matcher {
	return &Matcher{enc: enc, fallback: fallback, maxStates: maxMatchStates}
}

// AppendCompiled appends to dst the encoding of the Matcher's program, its
// rune classes and the sets of classes its instructions read (see
// matchProg), from which NewMatcherCompiled makes the same Matcher
// without compiling or working out anything.
func (d *Matcher) AppendCompiled(dst []byte) []byte {
	d.once.Do(d.init)
	return append(dst, d.enc...)
}

// errCorrupt is returned for a Finder's or a Matcher's encoding that ends
// early or holds a value out of range.
var errCorrupt = errors.New("lazydfa: corrupt compiled automaton")

// AppendCompiled appends to dst the encoding of the Finder's programs,
// forward and reversed, each with its rune classes and sets (see
// matchProg), and its groups, from which NewFinderCompiled makes the same
// Finder without compiling anything. It builds the reversed program if no
// match has yet.
func (m *Finder) AppendCompiled(dst []byte) []byte {
	dst = progtab.AppendString(dst, m.enc)
	dst = binary.AppendUvarint(dst, uint64(m.ncap))
	dst = binary.AppendUvarint(dst, uint64(len(m.names)))
	for _, n := range m.names {
		dst = progtab.AppendString(dst, n)
	}
	// The reversed program last: it is read when a match first needs its
	// start. Then each program's CRC, by which its warm snapshot is found
	// (see WarmSet) without reading the whole program at run time.
	m.reverse()
	dst = progtab.AppendString(dst, m.revEnc)
	dst = binary.LittleEndian.AppendUint32(dst, programSum(m.enc))
	return binary.LittleEndian.AppendUint32(dst, programSum(m.revEnc))
}

// NewFinderCompiled returns the Finder that AppendCompiled encoded as enc,
// which it reads in place (enc must not change). The reversed program is
// read when a match first needs its start: an encoding that does not hold
// one panics then (a generated table's test reads them all).
func NewFinderCompiled(enc string) (*Finder, error) { return NewFinderCompiledWarm(enc, nil) }

// NewFinderCompiledWarm is NewFinderCompiled for a Finder whose DFAs start
// from their snapshots in warm (see WarmSet) when it holds them; one it
// lacks, or holds for a program since changed, starts empty. warm may be
// nil.
func NewFinderCompiledWarm(enc string, warm *WarmSet) (*Finder, error) {
	fwd, rest, ok := progtab.ReadString(enc)
	if !ok {
		return nil, errCorrupt
	}
	p, err := readMatchProg(fwd)
	if err != nil {
		return nil, fmt.Errorf("lazydfa: forward program: %w", err)
	}
	ncap, rest, ok1 := progtab.ReadUvarint(rest)
	n, rest, ok2 := progtab.ReadUvarint(rest)
	// A group has two offsets and a name ("" when it has none).
	if !ok1 || !ok2 || n > uint64(len(rest)) || ncap != 2*n {
		return nil, errCorrupt
	}
	names := make([]string, n)
	for i := range names {
		if names[i], rest, ok = progtab.ReadString(rest); !ok {
			return nil, errCorrupt
		}
	}
	rev, rest, ok := progtab.ReadString(rest)
	if !ok || len(rest) != 8 {
		return nil, errCorrupt
	}
	fwdSum, revSum := binary.LittleEndian.Uint32([]byte(rest[:4])), binary.LittleEndian.Uint32([]byte(rest[4:]))
	return &Finder{
		fwd:    newPosDFAWarm(p, false, warm.dfa(fwdSum, len(fwd), false, p.nclass+1)),
		enc:    fwd,
		warm:   warm,
		revSum: revSum,
		revEnc: rev,
		ncap:   int(ncap),
		names:  names,
	}, nil
}

// compileReverse builds the DFA of the reversed program: read from the
// Finder's encoding when it was made from one, and otherwise compiled
// from the simplified pattern (and its encoding kept).
func (m *Finder) compileReverse() *posDFA {
	if m.simple != nil {
		rprog, err := syntax.Compile(reverseRegexp(m.simple))
		if err != nil {
			panic("lazydfa: the reversal of a compiled pattern does not compile: " + err.Error())
		}
		m.revEnc = string(appendMatchProg(nil, rprog))
	}
	p := mustReadMatchProg(m.revEnc, "the reversed program of a compiled Finder")
	return newPosDFAWarm(p, true, m.warm.dfa(m.revSum, len(m.revEnc), true, p.nclass+1))
}

// appendRuneClasses appends the encoding of c: its ASCII classes, then its
// bounds with their classes, then each class's kind and representative
// rune.
func appendRuneClasses(dst []byte, c *runeClasses) []byte {
	for _, k := range c.ascii {
		dst = binary.AppendUvarint(dst, uint64(k))
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.bounds)))
	for i, b := range c.bounds {
		dst = binary.AppendUvarint(dst, uint64(b))
		dst = binary.AppendUvarint(dst, uint64(c.ofBound[i]))
	}
	dst = binary.AppendUvarint(dst, uint64(len(c.kind)))
	for i, k := range c.kind {
		dst = append(dst, byte(k))
		dst = binary.AppendUvarint(dst, uint64(c.rep[i]))
	}
	return dst
}

// readRuneClasses decodes classes that appendRuneClasses wrote at the
// start of s, and returns them and the rest of s; ok is false when s does
// not hold such classes (it ends early, or a class, kind or rune is out of
// range).
func readRuneClasses(s string) (c *runeClasses, rest string, ok bool) {
	c = &runeClasses{}
	ok = true
	next := func(limit uint64) uint64 {
		v, rest, good := progtab.ReadUvarint(s)
		if !good || v > limit {
			ok = false
			return 0
		}
		s = rest
		return v
	}
	for i := range c.ascii {
		c.ascii[i] = uint16(next(1<<16 - 1))
	}
	n := next(uint64(len(s)))
	if n == 0 {
		// utf8.RuneSelf starts the first interval: there is one.
		ok = false
	}
	c.bounds, c.ofBound = make([]rune, n), make([]uint16, n)
	for i := range c.bounds {
		c.bounds[i] = rune(next(unicode.MaxRune + 1))
		c.ofBound[i] = uint16(next(1<<16 - 1))
	}
	n = next(uint64(len(s)))
	c.kind, c.rep = make([]runeKind, n), make([]rune, n)
	for i := range c.kind {
		if !ok || len(s) == 0 || runeKind(s[0]) >= kindEdge {
			return nil, s, false
		}
		c.kind[i], s = runeKind(s[0]), s[1:]
		c.rep[i] = rune(next(unicode.MaxRune))
	}
	if !ok {
		return nil, s, false
	}
	// Every class a rune falls into must be one of the classes.
	for _, k := range c.ascii {
		if int(k) >= len(c.kind) {
			return nil, s, false
		}
	}
	for _, k := range c.ofBound {
		if int(k) >= len(c.kind) {
			return nil, s, false
		}
	}
	return c, s, true
}
