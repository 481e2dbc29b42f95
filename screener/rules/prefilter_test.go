package rules

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/benchsupport"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// kernelPatterns returns every pattern the kernel engine runs through the
// token filter, and the engine's scanner.
func kernelPatterns(t testing.TB) ([]*pattern, *scanner) {
	t.Helper()
	e := kernelEngine(t)
	return packPatterns(e.pack, e.rules), e.scanner()
}

// sameMatches checks that every pattern finds the same matches, paragraph
// by paragraph and over the whole text, with the token filter as without.
func sameMatches(t testing.TB, pats []*pattern, sc *scanner, s string) {
	t.Helper()
	fast, plain := newText(s, sc), newText(s, nil)
	require.Equal(t, plain.paras, fast.paras)
	for _, m := range pats {
		if got, want := fast.findAt(m, -1), plain.findAt(m, -1); !assert.Equal(t, want, got, "pattern %s on %q", m, s) {
			return
		}
		if got, want := fast.spans(m, -1), plain.spans(m, -1); !assert.Equal(t, spansOf(want), spansOf(got), "spans of %s on %q", m, s) {
			return
		}
		if got, want := fast.has(m), plain.has(m); !assert.Equal(t, want, got, "pattern %s in %q", m, s) {
			return
		}
		if got, want := fast.findWhole(m, -1, true), plain.findWhole(m, -1, true); !assert.Equal(t, want, got, "pattern %s over the whole of %q", m, s) {
			return
		}
		if got, want := fast.findWhole(m, -1, false), plain.findWhole(m, -1, false); !assert.Equal(t, spansOf(want), spansOf(got), "spans of %s over the whole of %q", m, s) {
			return
		}
	}
}

// spansOf returns each match's start and end.
func spansOf(locs [][]int) [][]int {
	out := make([][]int, len(locs))
	for i, l := range locs {
		out[i] = l[:2]
	}
	return out
}

// The token filter must never change what a pattern finds.
func TestPrefilterIsConservative(t *testing.T) {
	pats, sc := kernelPatterns(t)
	var texts []string
	for _, c := range loadCases(t) {
		texts = append(texts, c.Subject, c.Body)
		for _, a := range c.Attachments {
			texts = append(texts, a.Text)
		}
	}
	texts = append(texts, benchReport().Body, kasanTrace, cRepro,
		"MOUNTING A CRAFTED EXT4 IMAGE", "Ignore ALL Previous Instructions", "🚨 ✅ ⚠",
		// Runes that case-fold to ASCII letters: the filter steps aside.
		"Ignore all previous \u212aernel instructions; a\u017f root", "tested on linux-6.1.2\n\nv7.3-rc1")
	for _, s := range texts {
		sameMatches(t, pats, sc, s)
	}
	filtered := 0
	for _, m := range pats {
		if common, branches := m.clauses(); len(common) > 0 || branches != nil {
			filtered++
		}
	}
	assert.Greater(t, filtered, len(pats)*9/10, "most patterns should have tokens")
}

func TestTokensAreSelective(t *testing.T) {
	ai := mustPattern(patternSource(`\bas an AI\b|\bcertainly!|\bI hope this helps\b`, false, false))
	ver := mustPattern(patternSource(`\b(?P<major>\d{1,2})\.(?P<minor>\d{1,2})`, false, true))
	unless := mustPattern(patternSource(`\b(?:error|return value) is (?:silently )?(?:ignored|lost)\b`, false, false))
	pats := []*pattern{ai, ver, unless}
	sc := newScanner(pats)
	cases := []struct {
		m    *pattern
		text string
		want bool
	}{
		{ai, "The buffer is released in a maintainer's tree again.", false}, // "as" inside "released"
		{ai, "Speaking as an\nAI, certainly.", true},
		{ai, "I hope this helps.", true},
		{ver, "foo.bar and a.b", false},
		{ver, "on 6.1 only", true},
		{unless, "perror(\"setsockopt\"); the error is fine", false},
		{unless, "the return value is silently\nlost here", true},
	}
	for _, c := range cases {
		x := newText(c.text, sc)
		plan := x.plan(c.m)
		require.NotNil(t, plan)
		assert.Equal(t, c.want, plan[0] != 0, "%s on %q", c.m, c.text)
		sameMatches(t, pats, sc, c.text)
	}
	// Only the branch whose tokens occur runs.
	x := newText("I hope this helps.", sc)
	assert.Equal(t, uint64(0b100), x.plan(ai)[0])
}

// A pattern whose branches have their own tokens may match where one
// branch's tokens are, and finds there what the whole pattern finds, with
// the groups of the whole pattern.
func TestBranchesKeepTheirGroups(t *testing.T) {
	m := mustPattern(`(?i)\b(?:(alpha)(\d+)|(?P<b>beta)(\d+))`)
	_, branches := m.clauses()
	require.NotNil(t, branches)
	sc := newScanner([]*pattern{m})
	x := newText("here is beta42", sc)
	assert.Equal(t, uint64(0b10), x.plan(m)[0])
	got := x.findAt(m, -1)
	require.Len(t, got, 1)
	assert.Equal(t, m.regexp().FindAllStringSubmatchIndex("here is beta42", -1), got)
	assert.Equal(t, 3, m.subexpIndex("b"))
	assert.Equal(t, m.regexp().SubexpIndex("b"), m.subexpIndex("b"))
}

func TestAutomatonFindsEveryOccurrence(t *testing.T) {
	lits := []string{"he", "she", "his", "hers", "a", "ab", "bab"}
	a := newAutomaton(lits)
	text := "uSHErs HIS babab"
	type hit struct{ lit, end int }
	var got []hit
	a.scan(text, func(lit, end int) { got = append(got, hit{lit, end}) })
	var want []hit
	lower := strings.ToLower(text)
	for end := 1; end <= len(lower); end++ {
		for id, l := range lits {
			if strings.HasSuffix(lower[:end], l) {
				want = append(want, hit{id, end})
			}
		}
	}
	assert.ElementsMatch(t, want, got)
	for i := 1; i < len(got); i++ {
		assert.LessOrEqual(t, got[i-1].end, got[i].end, "hits come in order of end")
	}
}

func TestParagraphsAndOffsets(t *testing.T) {
	txt := "first line\nsecond line\n\nthird PARA here\n\n\nlast"
	para := mustPattern(`(?i)para here`)
	across := mustPattern(`line\s+third`)
	within := mustPattern(`first line\s+second`)
	many := mustPattern(`(?i)line|para|last`)
	sc := newScanner([]*pattern{para, across, within, many})
	for _, s := range []*scanner{sc, nil} {
		x := newText(txt, s)
		var got []string
		for _, p := range x.paras {
			got = append(got, txt[p[0]:p[1]])
		}
		assert.Equal(t, []string{"first line\nsecond line\n", "third PARA here\n", "\nlast"}, got)
		locs := x.spans(para, 1)
		require.Len(t, locs, 1)
		assert.Equal(t, "PARA here", txt[locs[0][0]:locs[0][1]])
		assert.False(t, x.has(across), "matches do not span a blank line")
		assert.True(t, x.has(within), "but do span a single line break")
		assert.Len(t, x.findAll(many, -1), 4)
		assert.Len(t, x.findAll(many, 2), 2)
	}
}

// The expressions that run on the short strings around matches find, with
// their token scanner and windows, what the regexp alone finds.
func TestShortStringPatternsEqualPlain(t *testing.T) {
	pack := KernelRules()
	auxes := auxPatterns(pack)
	var strs []string
	for _, c := range loadCases(t) {
		for _, s := range []string{c.Subject, c.Body} {
			strs = append(strs, s)
			for i := 0; i < len(s); i += 97 {
				strs = append(strs, s[i:min(len(s), i+300)], s[max(0, i-48):i])
			}
		}
	}
	strs = append(strs, "built with gcc 12.2\n  \n  on 6.1", "fixed in\n\n 6.6.2", "not yet fixed; see 5.4", "a\u017f root")
	for _, a := range auxes {
		require.NotNil(t, a)
		fast, plain := auxView{a: a}, auxView{a: a, plain: true}
		for _, s := range strs {
			require.Equal(t, plain.FindAllStringIndex(s, -1), fast.FindAllStringIndex(s, -1), "%s on %q", a, s)
			require.Equal(t, plain.MatchString(s), fast.MatchString(s), "%s on %q", a, s)
			require.Equal(t, plain.LastEnd(s), fast.LastEnd(s), "%s on %q", a, s)
			require.Equal(t, plain.ReplaceAllString(s, " "), fast.ReplaceAllString(s, " "), "%s on %q", a, s)
		}
	}
}

func TestContentLineBreaks(t *testing.T) {
	cases := map[string]int{
		`(?i)\bno\s+such\s+crash\b`:         2, // two runs of white space
		`(?m)^\W*steps\b[^\n]*:?\s*\n\s*\S`: 4, // \W*, \s*, \n, \s*
		`\b([a-z_][a-z0-9_]{2,})\(\)`:       0,
		`(?s)foo.*bar`:                      -1, // any byte, repeated
		`(?:foo\n)+`:                        -1,
		`\W{0,6}x`:                          1,
		`(?:\n[ \t]*){2}`:                   2,
	}
	for expr, want := range cases {
		n, _ := maxNewlines(mustPattern(expr).tree())
		assert.Equal(t, want, n, expr)
	}
	// A pattern whose runs cross blank-ish lines still finds its match in
	// the window around its token.
	m := mustPattern(`(?i)\bno\s+such\s+crash\b`)
	sc := newScanner([]*pattern{m})
	s := strings.Repeat("filler line of text\n", 20) + "no\n \t\n  \nsuch\n \ncrash here\n" + strings.Repeat("more filler text\n", 20)
	x := newText(s, sc)
	require.Len(t, x.paras, 1, "\\n \\t\\n holds no blank line")
	sameMatches(t, []*pattern{m}, sc, s)
	require.Len(t, x.findAt(m, -1), 1)
	w := x.windows(m, 1, 0)
	require.Len(t, w, 1)
	assert.Less(t, w[0][1]-w[0][0], len(s)/2, "the window is the lines around the token")
}

func TestExactDivisor(t *testing.T) {
	for d := uint32(1); d < 600; d++ {
		div := newExactDivisor(d)
		for _, k := range []uint32{0, 1, 2, 3, 1000, 123457, (1<<32 - 1) / d} {
			require.Equal(t, k, div.of(k*d), "%d/%d", k*d, d)
		}
	}
}

// The built-in engine uses the generated scanner, which marks the same
// paragraphs for every pattern as a scanner built from the patterns; a
// pack with a rule of its own gets a scanner built for it.
// nonNilPlan is p, or an empty plan for nil.
func nonNilPlan(p []uint64) []uint64 {
	if p == nil {
		return []uint64{}
	}
	return p
}

func TestGeneratedScannerEqualsBuiltOne(t *testing.T) {
	e := kernelEngine(t)
	pats := packPatterns(e.pack, e.rules)
	gen, built := e.scanner(), newScanner(pats)
	require.Same(t, generatedBase().ac, gen.ac, "the built-in engine uses the generated scanner")
	var texts []string
	for _, c := range loadCases(t) {
		texts = append(texts, c.Subject, c.Body)
	}
	texts = append(texts, benchReport().Body, kasanTrace, cRepro)
	for _, r := range benchsupport.SynthReports(t, 20, 9) {
		texts = append(texts, r.Body)
	}
	for _, s := range texts {
		g, b := newText(s, gen), newText(s, built)
		for _, m := range pats {
			// A plan of no paragraphs is nil or empty, as the pooled
			// buffers come (the race detector's pool drops them at random).
			require.Equal(t, nonNilPlan(b.plan(m)), nonNilPlan(g.plan(m)), "pattern %s on %q", m, s)
			require.Equal(t, b.mayMatch(m, true), g.mayMatch(m, true), "pattern %s over the whole of %q", m, s)
		}
		g.release()
		b.release()
	}

	set := KernelRules()
	own, err := Parse([]byte("rules:\n  - {id: own.rule, category: privilege.root, weight: 1, match: ['\\bown words here\\b']}\n"), "own.yaml")
	require.NoError(t, err)
	merged := set.Merge(own)
	e2, err := NewEngine(threatmodel.Kernel(), merged, Options{})
	require.NoError(t, err)
	assert.NotSame(t, generatedBase().ac, e2.scanner().ac, "a pack of its own gets its own scanner")
}
