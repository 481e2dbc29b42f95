package injection

import (
	"regexp/syntax"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// A window that meets a pattern's need (need.go) usually still holds no
// match: the words are common. Go's regexp then runs its NFA over the
// whole window, starting a thread at every byte through the pattern's
// first alternation, which is what the detector's time goes to. A gate
// asks the same question more cheaply: it knows which bytes a match can
// start with (and whether it starts at a word boundary), and runs the
// pattern anchored at each such position only. An anchored run ends as
// soon as no thread is left, a few bytes on in ordinary prose.
//
// The answer is exact, not a heuristic: the pattern matches in the window
// if and only if it matches anchored at one of the positions, because
// every match starts at a position whose byte is in the first set, and
// the anchored pattern (?s:.) prefix hands the rune before the position
// to the assertions (\b, multi-line ^), so that they read as they do in
// the window. The gate only ever skips a window; a window it lets
// through is still given to the pattern as before.

// gate is a cheap exact test of whether a matcher's pattern matches a
// window; a nil gate lets every window through.
type gate struct {
	src      string
	once     sync.Once
	ok       bool                // the first bytes could be told; set by once
	first    [utf8.RuneSelf]bool // ASCII bytes a match may start with
	nonASCII bool                // a match may start with a non-ASCII rune
	boundary bool                // every match that starts with a rune of first starts at \b
	// atStart: a match may start at the window's start whatever its byte
	// (\A); atLine: at the start of any line in it (multi-line ^).
	atStart, atLine bool
	// words, when not nil, are the ASCII words (lower case) that every
	// match opens with, whole: a match starting at an ASCII word that is
	// followed by an ASCII byte or the window's end opens with one of
	// them; maxWord is the longest.
	words   map[string]bool
	maxWord int
	// at0 is the pattern anchored at the start of its input; at1 is it
	// anchored after the first rune of its input, which gives the
	// assertions their context.
	at0, at1 *lazyre.Regexp
}

// newGate returns the gate of the pattern src. The pattern is read at
// the gate's first use, as lazyre compiles it, so that start-up parses
// nothing.
func newGate(src string) *gate { return &gate{src: src} }

// init reads the pattern: g.ok is false when its first bytes cannot be
// told (a match may be empty, or start with any byte).
func (g *gate) init() {
	src := g.src
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return
	}
	rest := re
	if re.Op == syntax.OpConcat && len(re.Sub) > 1 && re.Sub[0].Op == syntax.OpWordBoundary {
		g.boundary = true
		rest = &syntax.Regexp{Op: syntax.OpConcat, Sub: re.Sub[1:]}
	}
	empty, ok := g.addFirst(rest)
	if !ok || empty {
		return
	}
	g.words, g.maxWord = openingWords(rest)
	g.at0 = lazyre.New(`\A(?:` + src + `)`)
	g.at1 = lazyre.New(`\A(?s:.)(?:` + src + `)`)
	g.ok = true
}

// addFirst adds the runes a non-empty match of re may start with to g; it
// reports whether re may match the empty string (then what follows re may
// start the match too), and false in ok when it cannot tell.
// Empty-width assertions count as empty: what follows them starts the
// match.
func (g *gate) addFirst(re *syntax.Regexp) (empty, ok bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpEndLine, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true, true
	case syntax.OpBeginText:
		// Holds only at the window's start: a match that has not
		// consumed a rune before it starts there, one that has starts
		// with a rune already added.
		g.atStart = true
		return false, true
	case syntax.OpBeginLine:
		// Likewise at the start of a line.
		g.atLine = true
		return false, true
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return true, true
		}
		g.addRune(re.Rune[0], re.Flags&syntax.FoldCase != 0)
		return false, true
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return false, false // matches nothing: leave it to the pattern
		}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
				g.addRune(r, re.Flags&syntax.FoldCase != 0)
			}
			if hi >= utf8.RuneSelf {
				g.nonASCII = true
			}
		}
		return false, true
	case syntax.OpCapture:
		return g.addFirst(re.Sub[0])
	case syntax.OpQuest, syntax.OpStar:
		_, ok := g.addFirst(re.Sub[0])
		return true, ok
	case syntax.OpPlus:
		return g.addFirst(re.Sub[0])
	case syntax.OpRepeat:
		e, ok := g.addFirst(re.Sub[0])
		return e || re.Min == 0, ok
	case syntax.OpAlternate:
		empty := false
		for _, sub := range re.Sub {
			e, ok := g.addFirst(sub)
			if !ok {
				return false, false
			}
			empty = empty || e
		}
		return empty, true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			e, ok := g.addFirst(sub)
			if !ok {
				return false, false
			}
			if !e {
				return false, true
			}
		}
		return true, true
	}
	return false, false // any character, or an operator not read here
}

// openingWords returns the words every match of re (read after a \b)
// opens with, when re opens with one of a few ASCII words (in ASCII text,
// see exact) and what follows cannot start with an ASCII word byte: then
// the word is the whole run of word bytes at the match's start. It
// returns nil otherwise.
func openingWords(re *syntax.Regexp) (map[string]bool, int) {
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return nil, 0
	}
	set := exact(re.Sub[0], true)
	if len(set) == 0 {
		return nil, 0
	}
	var next gate
	if empty, ok := next.addFirst(&syntax.Regexp{Op: syntax.OpConcat, Sub: re.Sub[1:]}); empty || !ok || next.atStart || next.atLine {
		return nil, 0
	}
	for c := range next.first {
		if next.first[c] && isASCIIWord(byte(c)) {
			return nil, 0
		}
	}
	words, longest := map[string]bool{}, 0
	for _, w := range set {
		if w == "" {
			return nil, 0
		}
		for i := 0; i < len(w); i++ {
			if !isASCIIWord(w[i]) {
				return nil, 0
			}
		}
		words[w] = true
		longest = max(longest, len(w))
	}
	return words, longest
}

// addRune adds r, and when fold its case variants, to the first set.
func (g *gate) addRune(r rune, fold bool) {
	add := func(r rune) {
		if r < utf8.RuneSelf {
			g.first[r] = true
		} else {
			g.nonASCII = true
		}
	}
	add(r)
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			add(f)
		}
	}
}

// mayMatch reports whether the gate's pattern matches t[s:e]; it is true
// for a nil gate, and for one whose first bytes cannot be told.
func (g *gate) mayMatch(t string, s, e int) bool {
	if g == nil {
		return true
	}
	if g.once.Do(g.init); !g.ok {
		return true
	}
	for q := s; q <= e; q++ {
		if !(g.atStart && q == s || g.atLine && (q == s || t[q-1] == '\n')) {
			if q == e {
				break
			}
			c := t[q]
			if c < utf8.RuneSelf && !g.first[c] || c >= utf8.RuneSelf && !g.nonASCII {
				continue
			}
			if g.boundary && (q > s && isASCIIWord(t[q-1])) == isASCIIWord(c) {
				continue // no word boundary at q
			}
			if g.words != nil && g.boundary && isASCIIWord(c) && !g.opensWithWord(t[q:e]) {
				continue
			}
		}
		if q == s {
			if g.at0.MatchString(t[q:e]) {
				return true
			}
			continue
		}
		_, n := utf8.DecodeLastRuneInString(t[s:q])
		if g.at1.MatchString(t[q-n : e]) {
			return true
		}
	}
	return false
}

// isASCIIWord reports whether c is a word character to \b: an ASCII
// letter, digit or underscore (any other byte is not).
func isASCIIWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// opensWithWord reports whether a match may start at the start of t, an
// ASCII word byte, by the gate's opening words: false when the run of
// ASCII word bytes there, followed by an ASCII byte or the end of t, is
// not one of them.
func (g *gate) opensWithWord(t string) bool {
	var buf [32]byte
	j := 0
	for j < len(t) && isASCIIWord(t[j]) {
		j++
	}
	if j < len(t) && t[j] >= utf8.RuneSelf {
		return true // the word may go on in a rune that folds to ASCII
	}
	if j > g.maxWord || j > len(buf) {
		return false
	}
	for i := range j {
		c := t[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return g.words[string(buf[:j])]
}
