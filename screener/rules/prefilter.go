package rules

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// A matcher is a compiled pattern with a literal prefilter: the pattern can
// only match text that contains (case-insensitively) at least one of need.
// Go's regexp engine runs an NFA over the whole text for patterns without a
// literal prefix, which is slow on long reports; a strings.Contains over the
// lowercased text rules most patterns out at a fraction of the cost.
type matcher struct {
	re   *regexp.Regexp
	need []string // lowercase; empty means always run the regexp
	// also holds further literal sets, one of each must occur too: the
	// sets of the other parts of a pattern that is a sequence, such as
	// "(?:error|return value) is (?:ignored|lost)". They cost a search in a
	// candidate paragraph, far less than running the pattern there.
	also [][]string
}

// minNeed is the shortest literal worth filtering on. Even one byte pays:
// strings.Contains on a paragraph costs far less than running the pattern.
const minNeed = 1

func newMatcher(re *regexp.Regexp) matcher {
	m := matcher{re: re}
	if tree, err := syntax.Parse(re.String(), syntax.Perl); err == nil {
		tree = tree.Simplify()
		if need, ok := required(tree); ok && shortest(need) >= minNeed {
			m.need = need
			if tree.Op == syntax.OpConcat {
				for _, sub := range tree.Sub {
					if set, ok := required(sub); ok && !slices.Equal(set, need) {
						m.also = append(m.also, set)
					}
				}
			}
		}
	}
	return m
}

// possible reports whether the pattern may match a text whose
// ASCII-lowercased form is lower.
func (m matcher) possible(lower string) bool {
	if len(m.need) == 0 {
		return true
	}
	return containsAny(lower, m.need) && m.alsoHeld(lower)
}

// alsoHeld reports whether lower holds a literal of every set of m.also.
func (m matcher) alsoHeld(lower string) bool {
	for _, set := range m.also {
		if !containsAny(lower, set) {
			return false
		}
	}
	return true
}

func containsAny(s string, lits []string) bool {
	for _, l := range lits {
		if strings.Contains(s, l) {
			return true
		}
	}
	return false
}

func shortest(set []string) int {
	n := -1
	for _, s := range set {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

// maxNeed bounds the size of a literal set; beyond it the filter is not
// worth its cost.
const maxNeed = 64

// required returns a set of lowercase literals such that every match of re
// contains at least one of them, or ok=false when no such set is known.
func required(re *syntax.Regexp) (set []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		lit := string(re.Rune)
		for _, r := range lit {
			if r >= 0x80 && re.Flags&syntax.FoldCase != 0 {
				return nil, false // non-ASCII case folding: not filtered
			}
		}
		return []string{lowerASCII(lit)}, true
	case syntax.OpCapture:
		return required(re.Sub[0])
	case syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min < 1 {
			return nil, false
		}
		set, ok := required(re.Sub[0])
		if ok && re.Sub[0].Op == syntax.OpLiteral {
			// x{3,} needs "xxx".
			set = []string{strings.Repeat(set[0], min(re.Min, 8))}
		}
		return set, ok
	case syntax.OpCharClass:
		// A class of non-ASCII runes only (emoji, say) needs one of their
		// UTF-8 lead bytes, which plain ASCII text never holds.
		var leads []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo < 0x80 {
				return nil, false
			}
			a, b := string(lo)[0], string(hi)[0]
			for c := a; ; c++ {
				if !slices.Contains(leads, string([]byte{c})) {
					leads = append(leads, string([]byte{c}))
				}
				if c == b {
					break
				}
			}
		}
		return leads, len(leads) > 0
	case syntax.OpConcat:
		// Any one child's requirement holds for the whole; pick the most
		// selective (longest shortest literal).
		var best []string
		for _, s := range re.Sub {
			if set, ok := required(s); ok && shortest(set) > shortest(best) {
				best = set
			}
		}
		return best, best != nil
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			sub, ok := required(s)
			if !ok {
				return nil, false
			}
			set = append(set, sub...)
			if len(set) > maxNeed {
				return nil, false
			}
		}
		return set, len(set) > 0
	}
	return nil, false
}

// prefilters caches a matcher per extractor pattern.
var prefilters sync.Map // *regexp.Regexp -> matcher

func matcherFor(re *regexp.Regexp) matcher {
	m, ok := prefilters.Load(re)
	if !ok {
		m, _ = prefilters.LoadOrStore(re, newMatcher(re))
	}
	return m.(matcher)
}

// text is one part's text prepared for matching: an ASCII-lowercased copy
// with the same byte offsets, and its paragraphs. Patterns run paragraph by
// paragraph (a blank line ends a paragraph), and only on paragraphs that
// hold one of the pattern's required literals. Short inputs let Go's regexp
// use its backtracking engine, many times faster than its NFA on a whole
// report; the price is that a match never spans a blank line.
type text struct {
	t, lower string
	paras    [][2]int
	// grams is a Bloom-like bitmap of the lowercased text's byte
	// trigrams: a literal with a trigram missing from it cannot occur, and
	// that test is much cheaper than a search.
	grams []uint64
}

const gramBits = 1 << 16

func gramHash(a, b, c byte) uint32 {
	return (uint32(a)*0x9E3779B1 ^ uint32(b)*0x85EBCA77 ^ uint32(c)*0xC2B2AE3D) >> 16
}

// mayContain reports whether lit can occur in the text, by its trigrams.
func (x *text) mayContain(lit string) bool {
	for i := 0; i+2 < len(lit); i++ {
		h := gramHash(lit[i], lit[i+1], lit[i+2])
		if x.grams[h/64]&(1<<(h%64)) == 0 {
			return false
		}
	}
	return true
}

func newText(t string) *text {
	x := &text{t: t, lower: lowerASCII(t), grams: make([]uint64, gramBits/64)}
	for i := 0; i+2 < len(x.lower); i++ {
		h := gramHash(x.lower[i], x.lower[i+1], x.lower[i+2])
		x.grams[h/64] |= 1 << (h % 64)
	}
	start := 0
	for start < len(t) {
		end := strings.Index(t[start:], "\n\n")
		if end < 0 {
			end = len(t)
		} else {
			end += start + 1 // keep the first newline in the paragraph
		}
		x.addParagraph(start, end)
		start = end + 1
	}
	return x
}

// maxParagraph bounds the text one pattern run sees. Prose paragraphs are
// far shorter; longer ones are logs, traces or code, cut at a line break
// (or, in a line longer than this, at a rune boundary), so that matching
// stays linear in the text and Go's fast backtracking engine applies.
const maxParagraph = 4 << 10

func (x *text) addParagraph(start, end int) {
	for end-start > maxParagraph {
		cut := start + maxParagraph
		if nl := strings.LastIndexByte(x.t[start+maxParagraph/2:cut], '\n'); nl >= 0 {
			cut = start + maxParagraph/2 + nl + 1
		} else {
			for cut > start && !utf8.RuneStart(x.t[cut]) {
				cut--
			}
		}
		x.paras = append(x.paras, [2]int{start, cut})
		start = cut
	}
	if start < end {
		x.paras = append(x.paras, [2]int{start, end})
	}
}

// lowerASCII lowercases A-Z only, so that offsets stay those of s.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// findAt returns up to n matches of m (submatch index pairs, offsets in the
// whole text); n < 0 means all.
func (x *text) findAt(m matcher, n int) [][]int {
	var out [][]int
	cand := x.candidates(m)
	for i, p := range x.paras {
		if cand != nil && (!cand[i] || !m.alsoHeld(x.lower[p[0]:p[1]])) {
			continue
		}
		for _, loc := range m.re.FindAllStringSubmatchIndex(x.t[p[0]:p[1]], n-len(out)) {
			for i := range loc {
				if loc[i] >= 0 {
					loc[i] += p[0]
				}
			}
			out = append(out, loc)
		}
		if n >= 0 && len(out) >= n {
			break
		}
	}
	return out
}

// candidates marks the paragraphs that hold one of m's required literals;
// nil means every paragraph (m has no prefilter). Each literal is searched
// once over the whole text, which costs far less than testing every
// paragraph against every literal.
func (x *text) candidates(m matcher) []bool {
	if len(m.need) == 0 {
		return nil
	}
	var cand []bool
	for _, lit := range m.need {
		if !x.mayContain(lit) {
			continue
		}
		if cand == nil {
			cand = make([]bool, len(x.paras))
		}
		for off := 0; ; {
			j := strings.Index(x.lower[off:], lit)
			if j < 0 {
				break
			}
			at := off + j
			// The paragraph holding the occurrence: the last one starting at
			// or before it.
			k := sort.Search(len(x.paras), func(k int) bool { return x.paras[k][0] > at }) - 1
			if k >= 0 && at+len(lit) <= x.paras[k][1] {
				cand[k] = true
				off = max(at+1, x.paras[k][1]) // the rest of it is decided
				continue
			}
			off = at + 1
		}
	}
	if cand == nil {
		cand = make([]bool, len(x.paras)) // no literal occurs: nothing to run
	}
	return cand
}

// findWhole returns up to n matches of m over the whole text at once, for
// patterns that must span a blank line; the literal prefilter still
// applies.
func (x *text) findWhole(m matcher, n int) [][]int {
	if len(m.need) > 0 {
		if !slices.ContainsFunc(m.need, func(l string) bool { return x.mayContain(l) && strings.Contains(x.lower, l) }) ||
			!m.alsoHeld(x.lower) {
			return nil
		}
	}
	return m.re.FindAllStringSubmatchIndex(x.t, n)
}

// first returns the leftmost match of m, or nil.
func (x *text) first(m matcher) []int {
	if locs := x.findAt(m, 1); len(locs) > 0 {
		return locs[0][:2]
	}
	return nil
}

func (x *text) findAllIndex(re *regexp.Regexp, n int) [][]int {
	locs := x.findAt(matcherFor(re), n)
	for i := range locs {
		locs[i] = locs[i][:2]
	}
	return locs
}

func (x *text) findAll(re *regexp.Regexp, n int) []string {
	var out []string
	for _, l := range x.findAt(matcherFor(re), n) {
		out = append(out, x.t[l[0]:l[1]])
	}
	return out
}
