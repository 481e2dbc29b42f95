package lazydfa

import (
	mathbits "math/bits"
	"regexp/syntax"
	"slices"
	"unicode"
	"unicode/utf8"
)

// A runeKind is what the empty-width assertions see of a rune: a word
// character (ASCII, as \b reads it), a line break, another rune, or the
// edge of the text (before its start, after its end).
type runeKind uint8

const (
	kindOther runeKind = iota
	kindWord
	kindNewline
	kindEdge
	numKinds
)

func kindOf(r rune) runeKind {
	switch {
	case r < 0:
		return kindEdge
	case r == '\n':
		return kindNewline
	case syntax.IsWordChar(r):
		return kindWord
	}
	return kindOther
}

// emptyContext returns the assertions that hold between a rune of kind
// prev and one of kind next (syntax.EmptyOpContext by kinds).
func emptyContext(prev, next runeKind) syntax.EmptyOp {
	var op syntax.EmptyOp
	switch prev {
	case kindEdge:
		op |= syntax.EmptyBeginText | syntax.EmptyBeginLine
	case kindNewline:
		op |= syntax.EmptyBeginLine
	}
	switch next {
	case kindEdge:
		op |= syntax.EmptyEndText | syntax.EmptyEndLine
	case kindNewline:
		op |= syntax.EmptyEndLine
	}
	if (prev == kindWord) != (next == kindWord) {
		op |= syntax.EmptyWordBoundary
	} else {
		op |= syntax.EmptyNoWordBoundary
	}
	return op
}

// runeClasses partitions the runes into classes that no instruction of a
// program tells apart: the same rune instructions match them and they are
// of the same kind. The DFA's transitions are per class.
type runeClasses struct {
	ascii [utf8.RuneSelf]uint16
	// bounds are the starts of the intervals of runes from utf8.RuneSelf
	// up, each of one class (ofBound).
	bounds  []rune
	ofBound []uint16
	kind    []runeKind // per class
	rep     []rune     // a rune of each class
}

// runeSets returns the sets of runes the program's rune instructions
// match, as ranges (lo, hi pairs): a case-folded literal is the runes of
// its fold orbit. Instructions that match any rune, or any but a line
// break, need none: the kind tells.
func runeSets(p *syntax.Prog) [][]rune {
	var sets [][]rune
	for i := range p.Inst {
		in := &p.Inst[i]
		if in.Op != syntax.InstRune && in.Op != syntax.InstRune1 {
			continue
		}
		if len(in.Rune) != 1 {
			sets = append(sets, in.Rune)
			continue
		}
		r0 := in.Rune[0]
		set := []rune{r0, r0}
		if in.Op == syntax.InstRune && syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r0); f != r0; f = unicode.SimpleFold(f) {
				set = append(set, f, f)
			}
		}
		sets = append(sets, set)
	}
	return sets
}

// newRuneClasses returns the classes of the runes that the rune sets
// (see runeSets) tell apart.
func newRuneClasses(sets [][]rune) *runeClasses {
	c := &runeClasses{}
	// ASCII: start from the kinds, and split every class by every set's
	// members (128-bit masks).
	type mask [2]uint64
	var kinds [numKinds]mask
	for r := range rune(utf8.RuneSelf) {
		k := kindOf(r)
		kinds[k][r/64] |= 1 << (r % 64)
	}
	var classes []mask
	for _, m := range kinds {
		if m != (mask{}) {
			classes = append(classes, m)
		}
	}
	// Sets with the same ASCII members split alike: each distinct one
	// once.
	masks := map[mask]bool{}
	for _, set := range sets {
		var in mask
		for j := 0; j+1 < len(set); j += 2 {
			for r := set[j]; r <= set[j+1] && r < utf8.RuneSelf; r++ {
				in[r/64] |= 1 << (r % 64)
			}
		}
		if in == (mask{}) || masks[in] {
			continue
		}
		masks[in] = true
		for i, cl := range classes {
			both := mask{cl[0] & in[0], cl[1] & in[1]}
			if both != (mask{}) && both != cl {
				classes[i] = both
				classes = append(classes, mask{cl[0] &^ in[0], cl[1] &^ in[1]})
			}
		}
	}
	for id, cl := range classes {
		for w, bits := range cl {
			for ; bits != 0; bits &= bits - 1 {
				r := rune(w*64 + mathbits.TrailingZeros64(bits))
				if c.ascii[r] = uint16(id); len(c.rep) == id {
					c.rep = append(c.rep, r)
					c.kind = append(c.kind, kindOf(r))
				}
			}
		}
	}
	// Above ASCII, membership changes only at the edges of the ranges:
	// each interval between them is of the class of the sets it is in
	// (of those that reach above ASCII).
	cuts := []rune{utf8.RuneSelf}
	var wide [][]rune
	for _, set := range sets {
		for j := 1; j < len(set); j += 2 {
			if set[j] >= utf8.RuneSelf {
				wide = append(wide, set)
				break
			}
		}
	}
	sets = wide
	for _, set := range sets {
		for j := 0; j+1 < len(set); j += 2 {
			if lo := set[j]; lo > utf8.RuneSelf {
				cuts = append(cuts, lo)
			}
			if hi := set[j+1]; hi >= utf8.RuneSelf && hi < unicode.MaxRune {
				cuts = append(cuts, hi+1)
			}
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	ids := map[string]uint16{}
	sig := make([]byte, len(sets))
	for _, b := range cuts {
		for i, set := range sets {
			sig[i] = 0
			for j := 0; j+1 < len(set); j += 2 {
				if set[j] <= b && b <= set[j+1] {
					sig[i] = 1
					break
				}
			}
		}
		id, ok := ids[string(sig)]
		if !ok {
			id = uint16(len(c.kind))
			ids[string(sig)] = id
			c.kind = append(c.kind, kindOther)
			c.rep = append(c.rep, b)
		}
		if n := len(c.ofBound); n > 0 && c.ofBound[n-1] == id {
			continue
		}
		c.bounds = append(c.bounds, b)
		c.ofBound = append(c.ofBound, id)
	}
	return c
}

// n is the number of classes; class n is the edge of the text.
func (c *runeClasses) n() int { return len(c.kind) }

// of returns the class of a rune from utf8.RuneSelf up.
func (c *runeClasses) of(r rune) uint16 {
	lo, hi := 0, len(c.bounds)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if c.bounds[m] <= r {
			lo = m
		} else {
			hi = m
		}
	}
	return c.ofBound[lo]
}

// matchesRune reports whether in, which reads a rune, reads r, as the
// regexp package's machines do.
func matchesRune(in *syntax.Inst, r rune) bool {
	switch in.Op {
	case syntax.InstRune1:
		return r == in.Rune[0]
	case syntax.InstRuneAny:
		return true
	case syntax.InstRuneAnyNotNL:
		return r != '\n'
	}
	return in.MatchRune(r)
}

// lastKind returns the kind of the rune before offset i of s.
func lastKind(s string, i int) runeKind {
	if i <= 0 {
		return kindEdge
	}
	if c := s[i-1]; c < utf8.RuneSelf {
		return kindOf(rune(c))
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return kindOf(r)
}

// classAt returns the class of the rune at offset i of s and its width;
// the edge class at the end.
func (c *runeClasses) classAt(s string, i int) (uint16, int) {
	if i >= len(s) {
		return uint16(len(c.kind)), 0
	}
	if b := s[i]; b < utf8.RuneSelf {
		return c.ascii[b], 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	return c.of(r), w
}

// kindOfClass returns the kind of class c, kindEdge for the edge class.
func (c *runeClasses) kindOfClass(cl uint16) runeKind {
	if int(cl) >= len(c.kind) {
		return kindEdge
	}
	return c.kind[cl]
}
