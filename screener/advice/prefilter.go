package advice

import (
	_ "embed" // progs.bin
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/secscreen/secscreen/internal/ascii"
	"github.com/secscreen/secscreen/internal/lazydfa"
	"github.com/secscreen/secscreen/internal/lazyre"
	"github.com/secscreen/secscreen/internal/progtab"
)

// The checklists' patterns ran Go regular expressions over the whole
// report, and most reports hold no match of most of them: compiling and
// running them was ~5% of check's CPU. Each pattern therefore comes with a
// test of literals that every one of its matches holds, a few substring
// searches, and runs only on a text that passes it. The case-insensitive
// ones, which would run on nearly every report, search it segment by
// segment: between the bytes no match can hold, only the segments that
// pass the test, with a DFA finder generated at go generate time
// (progs.bin) instead of the compiled expression. The answers are the
// expression's own: TestPrefiltersKeepEveryMatch proves the tests let
// every match through on the corpus and on texts made to trip them,
// TestPatternsAnswerAsTheirExpressions that every method answers as the
// expression does on the whole text, and TestAdviceWithoutPrefilters that
// the advice on every corpus report is the same without them.

//go:generate go test -run ^TestProgsGenerated$ -args -update

// The segmented patterns' DFA finders are generated (progs.bin, which go
// generate writes; see pattern.init).
//
//go:embed progs.bin
var progsData string

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
	t := &scanned{text: text, lower: ascii.Lower(text)}
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
	// inMatch lists the ASCII bytes other than word characters that a
	// match can hold, for a segmented pattern: the text is cut at the
	// others (TestBarriers checks each list against the expression).
	inMatch string

	once     sync.Once
	barriers *[256]bool      // nil: search the whole text
	finder   *lazydfa.Finder // the generated DFA finder; nil: none
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
			for _, m := range p.findIn(text[lo:hi], n-len(dst)) {
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
	p.once.Do(p.init)
	return p.barriers
}

// init sets up a segmented pattern: its barriers and its finder.
func (p *pattern) init() {
	p.barriers = new([256]bool)
	for c := range 128 {
		p.barriers[c] = !ascii.IsWordByte(byte(c)) && !strings.ContainsRune(p.inMatch, rune(c))
	}
	// The finder reads its programs from the table instead of compiling
	// the expression, which cost more than running it on a report's few
	// segments. TestProgsGenerated fails when the table is not what
	// compiling the expressions gives today, and checks that every entry
	// reads.
	if enc, ok := progtab.New(progsData).Value(p.re.String()); ok {
		p.finder, _ = lazydfa.NewFinderCompiled(enc)
	}
}

// findIn returns up to n matches (n < 0: all) in the segment s, as
// regexp's FindAllStringIndex finds them: with the generated DFA finder,
// which finds the same matches without compiling the expression, or with
// the expression for a text the finder does not take (not valid UTF-8) or
// gives up on.
func (p *pattern) findIn(s string, n int) [][]int {
	if p.finder != nil && utf8.ValidString(s) {
		if m, ok := p.finder.FindAll(s, n, false); ok {
			return m
		}
	}
	return p.re.FindAllStringIndex(s, n)
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
		if (j == 0 || !ascii.IsWordByte(s[j-1])) && (j+2 == len(s) || !ascii.IsWordByte(s[j+2]) || s[j+2] == 's') {
			return true
		}
		i = j + 1
	}
}
