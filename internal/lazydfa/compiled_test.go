package lazydfa

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/secscreen/secscreen/internal/progtab"
	"github.com/stretchr/testify/require"
)

// compiledSources are the patterns the tests of compiled automata run:
// the small patterns and the Finder cases.
func compiledSources() []string {
	srcs := append([]string{}, contextPatterns...)
	for _, c := range finderCases {
		srcs = append(srcs, c.expr)
	}
	return srcs
}

func mustFinder(t *testing.T, src string) *Finder {
	t.Helper()
	tree, err := syntax.Parse(src, syntax.Perl)
	require.NoError(t, err)
	f, err := NewFinder(tree)
	require.NoError(t, err)
	return f
}

// TestRuneClassesEncoding: classes read back as they were written, the
// bytes after them left alone, and every shorter prefix of an encoding is
// refused rather than read.
func TestRuneClassesEncoding(t *testing.T) {
	for _, src := range compiledSources() {
		prog, err := progtab.Compile(src)
		require.NoError(t, err)
		cls := newRuneClasses(runeSets(prog))
		enc := string(appendRuneClasses(nil, cls))
		got, rest, ok := readRuneClasses(enc + "tail")
		require.True(t, ok, src)
		require.Equal(t, cls, got, src)
		require.Equal(t, "tail", rest, src)
		for n := range len(enc) {
			_, _, ok := readRuneClasses(enc[:n])
			require.False(t, ok, "%s: prefix of %d bytes of %d read", src, n, len(enc))
		}
	}
	// A class out of range is refused.
	cls := newRuneClasses(nil)
	cls.ascii['a'] = uint16(cls.n())
	_, _, ok := readRuneClasses(string(appendRuneClasses(nil, cls)))
	require.False(t, ok)
}

// TestFinderCompiledIsTheCompiledFinder: a Finder read from its encoding
// has the compiled Finder's programs, forward and reversed, with their
// classes and sets, and its groups, and finds what regexp finds; a
// truncated encoding is refused.
func TestFinderCompiledIsTheCompiledFinder(t *testing.T) {
	for _, src := range compiledSources() {
		want := mustFinder(t, src)
		enc := string(want.AppendCompiled(nil))
		got, err := NewFinderCompiled(enc)
		require.NoError(t, err, src)
		require.Nil(t, got.simple, src)
		require.Equal(t, want.fwd.p, got.fwd.p, src)
		require.Equal(t, want.ncap, got.ncap, src)
		require.Equal(t, want.names, got.names, src)
		require.Equal(t, want.reverse().p, got.reverse().p, src)
		require.Equal(t, enc, string(got.AppendCompiled(nil)), src)

		re := regexp.MustCompile(src)
		for _, text := range append(contextTexts, finderTexts()...) {
			if !utf8.ValidString(text) {
				continue
			}
			if m, ok := got.FindAll(text, -1, true); ok {
				require.Equal(t, re.FindAllStringSubmatchIndex(text, -1), m, "%s in %q", src, text)
			}
		}
		for n := range len(enc) {
			_, err := NewFinderCompiled(enc[:n])
			require.Error(t, err, "%s: prefix of %d bytes of %d read", src, n, len(enc))
		}
	}
}

// TestFinderCompiledReversedReadAtFirstMatch: the reversed program of a
// Finder's encoding is read when a match first needs its start, and one
// that does not read panics then, not before.
func TestFinderCompiledReversedReadAtFirstMatch(t *testing.T) {
	want := mustFinder(t, `a(b+)`)
	enc := want.AppendCompiled(nil)
	// The reversed program is the last string, before the programs'
	// CRCs: cut its last byte, and its length with it.
	rev, sums := want.revEnc, enc[len(enc)-8:]
	bad := append(progtab.AppendString(nil, want.enc), enc[len(progtab.AppendString(nil, want.enc)):len(enc)-8-len(progtab.AppendString(nil, rev))]...)
	bad = progtab.AppendString(bad, rev[:len(rev)-1])
	bad = append(bad, sums...)
	got, err := NewFinderCompiled(string(bad))
	require.NoError(t, err)
	m, ok := got.MatchString("xab")
	require.True(t, m && ok)
	require.Panics(t, func() { got.Find("xab", 0, true) })
}

// TestMatcherCompiledEqualsRegexp: a Matcher made from another's
// encoding answers as regexp on every window of the short texts, and
// encodes alike.
func TestMatcherCompiledEqualsRegexp(t *testing.T) {
	for _, src := range contextPatterns {
		re := regexp.MustCompile(src)
		enc := NewMatcher(src, nil).AppendCompiled(nil)
		d := NewMatcherCompiled(string(enc), re.MatchString)
		for _, text := range contextTexts {
			for s := 0; s <= len(text); s++ {
				for e := s; e <= len(text); e++ {
					w := text[s:e]
					require.Equal(t, re.MatchString(w), d.Match(w), "%s on %q", src, w)
				}
			}
		}
		require.Equal(t, enc, d.AppendCompiled(nil), src)
	}
}

// TestMatchProgWide: a program of more instructions than two bytes count
// is encoded with fields of four, and answers as regexp, by instructions
// past the first 1<<16 too (the last branches compile last).
func TestMatchProgWide(t *testing.T) {
	src := `(?i)` + strings.Repeat(`ab?`, 22000) + `|zz$|q\b`
	prog, err := progtab.Compile(src)
	require.NoError(t, err)
	require.Greater(t, len(prog.Inst), 1<<16)
	re := regexp.MustCompile(src)
	d := NewMatcher(src, re.MatchString)
	for _, text := range []string{"a zz", "zz z", "Q.", "qq", "abab", "", "ZZ"} {
		require.Equal(t, re.MatchString(text), d.Match(text), "%q", text)
	}
	require.True(t, d.wide)
}

// TestReadMatchProgCorrupt: an encoding cut short, or with an
// instruction that leads out of the program, does not read.
func TestReadMatchProgCorrupt(t *testing.T) {
	prog, err := progtab.Compile(`(?i)ab|c\b`)
	require.NoError(t, err)
	enc := appendMatchProg(nil, prog)
	_, err = readMatchProg(string(enc))
	require.NoError(t, err)
	for n := range len(enc) {
		_, err := readMatchProg(string(enc[:n]))
		require.ErrorIs(t, err, errCorrupt, "cut at %d", n)
	}
	p, err := readMatchProg(string(enc))
	require.NoError(t, err)
	// The ops, Outs and args are last, of 1, 2 and 2 bytes an
	// instruction: point the first Out that is followed past the end.
	pc := 0
	for op := syntax.InstOp(p.ops[pc]); op == syntax.InstMatch || op == syntax.InstFail; op = syntax.InstOp(p.ops[pc]) {
		pc++
	}
	bad := slices.Clone(enc)
	at := len(enc) - 4*p.ninst + 2*pc
	bad[at], bad[at+1] = 0xFF, 0xFF
	_, err = readMatchProg(string(bad))
	require.ErrorIs(t, err, errCorrupt)
	bad = slices.Clone(enc)
	bad[len(enc)-5*p.ninst] = 99 // an op that is none
	_, err = readMatchProg(string(bad))
	require.ErrorIs(t, err, errCorrupt)
	require.Panics(t, func() { NewMatcherCompiled(string(enc[:len(enc)-1]), nil).Match("x") })
}

// finderTexts are the Finder cases' texts.
func finderTexts() []string {
	var texts []string
	for _, c := range finderCases {
		texts = append(texts, c.text)
	}
	return texts
}
