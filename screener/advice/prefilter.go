package advice

import (
	"regexp/syntax"
	"strings"
	"sync"
	"unicode"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// The checklists' patterns run Go regular expressions over the whole
// report, and most reports hold no match of most of them: running them
// (and compiling them first) was ~5% of check's CPU. Each pattern
// therefore comes with a test of the literals every one of its matches
// holds, a few substring searches, and the expression runs only on a
// text that passes it: the answers are the expression's own, and a text
// without the literals has no match to lose. TestPrefiltersKeepEveryMatch
// proves the tests let every match through on the corpus and on texts
// made to trip them, and TestAdviceWithoutPrefilters that the advice on
// every corpus report is the same without them.

// scanned is a report's text as the patterns read it.
type scanned struct {
	// text is the report's text (reportText).
	text string
	// lower is text with its ASCII letters lowercased, byte for byte.
	lower string
	// unfolded says that text holds a rune that matching without case
	// equates with an ASCII letter (foldsToASCII) and lower keeps as it
	// is: then lower cannot rule out a case-insensitive match.
	unfolded bool
}

// foldsToASCII are the runes outside ASCII that a case-insensitive
// expression equates with an ASCII letter: the Kelvin sign with k, the
// long s with s (TestFoldsToASCIIAreAll checks the list).
var foldsToASCII = []string{"\u212A", "\u017F"}

// scan prepares text for the patterns.
func scan(text string) *scanned {
	lower := make([]byte, len(text))
	for i := 0; i < len(text); i++ {
		c := text[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	t := &scanned{text: text, lower: string(lower)}
	for _, r := range foldsToASCII {
		t.unfolded = t.unfolded || strings.Contains(text, r)
	}
	return t
}

// pattern is a regular expression that runs only on texts that may hold a
// match of it.
type pattern struct {
	re *lazyre.Regexp
	// fold says the expression ignores case: may then reads the text's
	// lowercased copy, and its literals are lowercase.
	fold bool
	// may reports whether a text can hold a match: false only when no
	// match can be in it (it lacks literals that every match holds).
	may func(s string) bool
	// segment says to search the text segment by segment: between the
	// bytes that no match holds (see barriersOf), only the segments that
	// may holds a match of, each as a text of its own. A match lies
	// within a segment, and the edges of a segment read as the bytes
	// beside it do, so the matches are the same; the expression runs on a
	// few short segments instead of the whole text.
	segment bool

	barriersOnce sync.Once
	barriers     *[256]bool // nil: search the whole text
}

// prefilter switches the patterns' tests and segments on; the tests switch
// it off to compare.
var prefilter = true

// mayMatch reports whether t's text may hold a match.
func (p *pattern) mayMatch(t *scanned) bool { return p.mayIn(t, 0, len(t.text)) }

// mayIn reports whether t's text from lo to hi may hold a match.
func (p *pattern) mayIn(t *scanned, lo, hi int) bool {
	switch {
	case !prefilter:
		return true
	case p.fold:
		return t.unfolded || p.may(t.lower[lo:hi])
	}
	return p.may(t.text[lo:hi])
}

// find appends to dst the offsets of up to n matches (n < 0: all) in t's
// text, as regexp's FindAllStringIndex finds them.
func (p *pattern) find(dst [][]int, t *scanned, n int) [][]int {
	if !p.mayMatch(t) || n == 0 {
		return dst
	}
	bar := p.barrierBytes()
	if bar == nil || !prefilter {
		return append(dst, p.re.FindAllStringIndex(t.text, n)...)
	}
	text := t.text
	for lo := 0; lo < len(text); {
		hi := lo
		for hi < len(text) && !bar[text[hi]] {
			hi++
		}
		if hi > lo && p.mayIn(t, lo, hi) {
			for _, m := range p.re.FindAllStringIndex(text[lo:hi], n-len(dst)) {
				dst = append(dst, []int{lo + m[0], lo + m[1]})
			}
			if n > 0 && len(dst) >= n {
				return dst
			}
		}
		lo = hi + 1
	}
	return dst
}

// barrierBytes returns the bytes the text is cut at (nil: none).
func (p *pattern) barrierBytes() *[256]bool {
	if !p.segment {
		return nil
	}
	p.barriersOnce.Do(func() { p.barriers = barriersOf(p.re.String()) })
	return p.barriers
}

// barriersOf returns the ASCII bytes that are not word characters and
// that no match of the expression src holds (Go's \b takes text edges and
// such bytes alike for non-word), or nil when src asserts a line's or the
// text's edge (a segment's edge is neither) or does not parse.
func barriersOf(src string) *[256]bool {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil
	}
	var held [128]bool
	anchored := false
	var walk func(*syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		switch re.Op {
		case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText:
			anchored = true
		case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			for c := range held {
				held[c] = held[c] || c != '\n' || re.Op == syntax.OpAnyChar
			}
		case syntax.OpLiteral:
			for _, r := range re.Rune {
				for f := r; ; {
					if f < 128 {
						held[f] = true
					}
					if re.Flags&syntax.FoldCase == 0 {
						break
					}
					if f = unicode.SimpleFold(f); f == r {
						break
					}
				}
			}
		case syntax.OpCharClass:
			for i := 0; i+1 < len(re.Rune); i += 2 {
				for c := max(re.Rune[i], 0); c <= re.Rune[i+1] && c < 128; c++ {
					held[c] = true
				}
			}
		}
		for _, sub := range re.Sub {
			walk(sub)
		}
	}
	walk(re)
	if anchored {
		return nil
	}
	bar := new([256]bool)
	for c := range held {
		bar[c] = !held[c] && !isWordByte(byte(c))
	}
	return bar
}

// MatchString is regexp's MatchString of t's text.
func (p *pattern) MatchString(t *scanned) bool { return p.FindStringIndex(t) != nil }

// FindString is regexp's FindString of t's text.
func (p *pattern) FindString(t *scanned) string {
	if m := p.FindStringIndex(t); m != nil {
		return t.text[m[0]:m[1]]
	}
	return ""
}

// FindStringIndex is regexp's FindStringIndex of t's text.
func (p *pattern) FindStringIndex(t *scanned) []int {
	if m := p.find(nil, t, 1); len(m) > 0 {
		return m[0]
	}
	return nil
}

// FindAllString is regexp's FindAllString of t's text.
func (p *pattern) FindAllString(t *scanned, n int) []string {
	var out []string
	for _, m := range p.find(nil, t, n) {
		out = append(out, t.text[m[0]:m[1]])
	}
	return out
}

// FindAllStringIndex is regexp's FindAllStringIndex of t's text.
func (p *pattern) FindAllStringIndex(t *scanned, n int) [][]int { return p.find(nil, t, n) }

// FindAllStringSubmatch is regexp's FindAllStringSubmatch of t's text,
// searched as a whole.
func (p *pattern) FindAllStringSubmatch(t *scanned, n int) [][]string {
	if !p.mayMatch(t) {
		return nil
	}
	return p.re.FindAllStringSubmatch(t.text, n)
}

// holding returns a test that a text holds one of the literals.
func holding(literals ...string) func(string) bool {
	return func(s string) bool {
		for _, l := range literals {
			if strings.Contains(s, l) {
				return true
			}
		}
		return false
	}
}

// holdsAIWord reports whether the lowercased text s holds "ai" as a word
// or the start of one of "ais" (a word start: after no ASCII word
// character; then the end, a character that is not one, or "s"), as
// every match of reAITool that names no other tool does.
func holdsAIWord(s string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], "ai")
		if j < 0 {
			return false
		}
		j += i
		if (j == 0 || !isWordByte(s[j-1])) && (j+2 == len(s) || !isWordByte(s[j+2]) || s[j+2] == 's') {
			return true
		}
		i = j + 1
	}
}

// isWordByte reports whether c is an ASCII word character, as \b reads
// them.
func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
