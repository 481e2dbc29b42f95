package rules

import (
	_ "embed" // progs.bin
	"encoding/binary"
	"regexp/syntax"
	"unicode"

	"github.com/secscreen/secscreen/internal/progtab"
)

//go:generate go test -run ^TestProgsGenerated$ -args -update

// The patterns of the generated analysis (analysis_gen.go: the built-in
// pack's and the package's own) also have their programs generated
// (progs.bin, written by go generate): a pattern's matcher, built when a
// text first may hold a match, reads its forward program, its groups and,
// when a match first needs its start, its reversed program, and the classes
// its runes fall into, from the table
// instead of parsing, simplifying and compiling the expression twice
// and working the classes out (about a third of the rules' first report
// in a process). Any other
// pattern is compiled as before. TestProgsGenerated fails when the table
// is not what the compiler gives today.

//go:embed progs.bin
var progsData string

var progs = progtab.New(progsData)

// appendProgsEntry appends the table's value for a pattern: its forward
// program, its reversed program, its number of group offsets, its
// groups' names and its rune classes.
func appendProgsEntry(dst []byte, fwd, rev *syntax.Prog, ncap int, names []string, cls *runeClasses) []byte {
	dst = progtab.AppendProg(dst, fwd)
	dst = progtab.AppendString(dst, string(progtab.AppendProg(nil, rev)))
	dst = binary.AppendUvarint(dst, uint64(ncap))
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	for _, n := range names {
		dst = progtab.AppendString(dst, n)
	}
	return appendRuneClasses(dst, cls)
}

// appendRuneClasses appends the encoding of c: its ASCII classes, then its
// bounds with their classes, then each class's kind and rune.
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
// start of s, and returns them and the rest of s.
func readRuneClasses(s string) (*runeClasses, string, bool) {
	c := &runeClasses{}
	ok := true
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
	c.bounds, c.ofBound = make([]rune, n), make([]uint16, n)
	for i := range c.bounds {
		c.bounds[i] = rune(next(unicode.MaxRune + 1))
		c.ofBound[i] = uint16(next(1<<16 - 1))
	}
	n = next(uint64(len(s)))
	c.kind, c.rep = make([]runeKind, n), make([]rune, n)
	for i := range c.kind {
		if len(s) == 0 {
			return nil, s, false
		}
		c.kind[i], s = runeKind(s[0]), s[1:]
		c.rep[i] = rune(next(unicode.MaxRune))
	}
	return c, s, ok
}

// generatedMatcher returns the matcher of the expression src from the
// generated table, or nil when the table does not hold it.
func generatedMatcher(src string) *matcher {
	v, ok := progs.Value(src)
	if !ok {
		return nil
	}
	fwd, rest, err := progtab.ReadProg(v)
	if err != nil {
		return nil
	}
	rev, rest, ok1 := progtab.ReadString(rest)
	ncap, rest, ok2 := progtab.ReadUvarint(rest)
	n, rest, ok3 := progtab.ReadUvarint(rest)
	if !ok1 || !ok2 || !ok3 || n > uint64(len(rest)) {
		return nil
	}
	names := make([]string, n)
	for i := range names {
		if names[i], rest, ok = progtab.ReadString(rest); !ok {
			return nil
		}
	}
	cls, rest, ok := readRuneClasses(rest)
	if !ok || len(rest) != 0 {
		return nil
	}
	return &matcher{
		fwd:    newDFA(fwd, cls, false),
		prog:   fwd,
		genRev: rev,
		ncap:   int(ncap),
		names:  names,
	}
}

// readGeneratedProg decodes a program of the generated table that was
// kept encoded until needed (a matcher's reversed program).
func readGeneratedProg(enc string) (*syntax.Prog, error) {
	p, _, err := progtab.ReadProg(enc)
	return p, err
}
