package advice

import (
	"context"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/internal/ascii"
	"github.com/secscreen/secscreen/internal/lazydfa"
	"github.com/secscreen/secscreen/internal/progtab"
	"github.com/secscreen/secscreen/screener/intake"
)

// prefiltered are the patterns with a test of their literals, by name.
var prefiltered = map[string]*pattern{
	"patch start": rePatchStart, "patch file": rePatchFile, "fixes tag": reFixesTag, "signed-off": reSignedOff,
	"mitigation": reMitigation, "speculate": reSpeculate, "tested": reTested, "ai tool": reAITool, "kasan head": reKASANHead,
	"bug kind": reBugKind,
}

// corpusReports reads every report of the bundled corpus, both splits
// (nothing is tuned on them here: they prove two ways agree).
func corpusReports(t *testing.T) []*intake.Report {
	t.Helper()
	c, err := corpus.Load("../../corpus")
	require.NoError(t, err)
	read, err := c.ReadReports(context.Background(), intake.Options{})
	require.NoError(t, err)
	var out []*intake.Report
	for _, lr := range read {
		require.NoError(t, lr.Err, lr.Label.File)
		out = append(out, lr.Report)
	}
	require.Greater(t, len(out), 400)
	return out
}

// tricky are texts made to trip the tests: matches in any case, next to
// runes outside ASCII, with the runes that fold to ASCII letters, at the
// ends of the text.
var tricky = []string{
	"AI-assisted", "found with AI", "Found With Ai.", "written by an AIs", "using the AI tool", "éAI-generated report",
	"with \u212AAI-driven", "using gpt-4o", "With The Help Of CLAUDE", "helped by GPT4", "found by Copilot",
	"the aim of this", "ai", "AIS", "maintainer", "Gemini", "with an LLMs",
	"I teſted it", "a wor\u212Aaround", "Work-Arounds exist", "BLOCKLIST it", "blac\u212Alist", "modprobe -r foo",
	"unprivileged_userns_clone = 0", "disable the module", "Disabl CONFIG_FOO", "Mitigations:",
	"could lead to", "Might Potentially Allow", "can ultimately escalate", "may be leveraged", "potentially exploitable",
	"in theory", "Theoretically", "full system compromise", "Arbitrary Code Execution", "could reſult in",
	"reproduces reliably", "Triggers every time", "confirmed", "VERIFIED",
	"diff --git a/x b/x\n", "--- a/x\n+++ b/x\n", "Index: x", "Fixes: 0123456789ab (\"x\")", "Signed-off-by: A <a@b>",
	"BUG: KASAN: use-after-free in x", "a Use-After-Free", "NULL pointer dereference", "double-free.", "out-of-bounds-ish",
	"not UTF-8: \xff could lead to \xfe, found with AI\xff tools, tested\xc3",
}

// The patterns' tests let every text with a match through: on every
// report of the corpus, the advice's test reports and the tricky texts.
func TestPrefiltersKeepEveryMatch(t *testing.T) {
	texts := append([]string(nil), tricky...)
	for _, r := range corpusReports(t) {
		texts = append(texts, reportText(r))
	}
	matched := map[string]int{}
	for _, text := range texts {
		sc := scan(text)
		for name, p := range prefiltered {
			if p.re.MatchString(text) {
				matched[name]++
				require.True(t, p.mayMatch(sc), "%s: a match in %q", name, text[:min(len(text), 200)])
			}
		}
	}
	for name := range prefiltered {
		assert.Positive(t, matched[name], "%s: no text matched, the test proves nothing", name)
	}
	// And they do rule texts out: a text without the literals is not run.
	plain := scan("A plain report about a crash in the scheduler.")
	for name, p := range prefiltered {
		assert.False(t, p.mayMatch(plain), name)
	}
}

// Every pattern answers what its regular expression answers on the whole
// text, method by method: on every report of the corpus and on the tricky
// texts, alone and joined (matches then sit next to other text).
func TestPatternsAnswerAsTheirExpressions(t *testing.T) {
	texts := append([]string(nil), tricky...)
	texts = append(texts, strings.Join(tricky, "\n"), strings.Join(tricky, ". "), strings.Join(tricky, " "))
	for _, r := range corpusReports(t) {
		texts = append(texts, reportText(r))
	}
	for name, p := range prefiltered {
		re := regexp.MustCompile(p.re.String())
		for _, text := range texts {
			sc := scan(text)
			msg := name + ": " + text[:min(len(text), 80)]
			require.Equal(t, re.MatchString(text), p.MatchString(sc), msg)
			require.Equal(t, re.FindString(text), p.FindString(sc), msg)
			require.Equal(t, re.FindStringIndex(text), p.FindStringIndex(sc), msg)
			for _, n := range []int{-1, 1, 4} {
				require.Equal(t, re.FindAllString(text, n), p.FindAllString(sc, n), msg)
				require.Equal(t, re.FindAllStringIndex(text, n), p.FindAllStringIndex(sc, n), msg)
				require.Equal(t, re.FindAllStringSubmatch(text, n), p.FindAllStringSubmatch(sc, n), msg)
			}
		}
	}
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
		bar[c] = !held[c] && !ascii.IsWordByte(byte(c))
	}
	return bar
}

// A segmented pattern is cut only at bytes no match holds, never at a
// word character (its inMatch lists the others, as parsing its
// expression finds them), and no pattern that asserts a line's or the
// text's edge is segmented.
func TestBarriers(t *testing.T) {
	for name, p := range prefiltered {
		want := barriersOf(p.re.String())
		if !p.segment {
			continue
		}
		require.NotNil(t, want, name)
		got := p.barrierBytes()
		require.NotNil(t, got, name)
		assert.Equal(t, *want, *got, "%s: inMatch %q", name, p.inMatch)
	}
	spec := barriersOf(reSpeculate.re.String())
	require.NotNil(t, spec)
	for _, c := range []byte(".,;:()\n\t\"'/") {
		assert.True(t, spec[c], "%q", c)
	}
	for _, c := range []byte(" aZ_0\x80\xff") {
		assert.False(t, spec[c], "%q", c)
	}
	ai := barriersOf(reAITool.re.String())
	require.NotNil(t, ai)
	assert.True(t, ai['.'])
	for _, c := range []byte(" \n\t-") {
		assert.False(t, ai[c], "%q: \\s and GPT-4 hold it", c)
	}
	mit := barriersOf(reMitigation.re.String())
	require.NotNil(t, mit)
	assert.False(t, mit['='])
	assert.False(t, mit['-'])
	assert.True(t, mit['\n'])
	assert.Nil(t, barriersOf(`(?m)^x`))
	assert.Nil(t, barriersOf(`x$`))
	assert.Nil(t, barriersOf(`(`))
	dot := barriersOf(`a.b`)
	require.NotNil(t, dot)
	assert.True(t, dot['\n'])
	assert.False(t, dot['.'])
	all := barriersOf(`(?s)a.b`)
	require.NotNil(t, all)
	assert.False(t, all['\n'])
}

// claimedKinds finds, in one search, the bug classes that searching each
// line but the sanitizers' headlines finds: on every report of the corpus
// and on the tricky texts.
func TestClaimedKindsAsLineByLine(t *testing.T) {
	re := regexp.MustCompile(reBugKind.re.String())
	texts := []string{strings.Join(tricky, "\n"), "use-after-free\nBUG: KASAN: use-after-free in x\nout-of-bounds"}
	for _, r := range corpusReports(t) {
		texts = append(texts, reportText(r))
	}
	found := 0
	for _, text := range texts {
		var want []string
		for _, line := range strings.Split(text, "\n") {
			if strings.Contains(line, "BUG: KASAN") {
				continue
			}
			for _, m := range re.FindAllString(line, -1) {
				want = append(want, bugKind(m))
			}
		}
		found += len(want)
		require.Equal(t, want, claimedKinds(scan(text)), text[:min(len(text), 80)])
	}
	require.Positive(t, found)
}

// The advice on every report of the corpus, with and without the tool's
// help declared, is the same with the patterns' tests as without them.
func TestAdviceWithoutPrefilters(t *testing.T) {
	s, tm := rulesScreener(t, nil)
	for _, r := range corpusReports(t) {
		res := s.Screen(context.Background(), r)
		require.Nil(t, res.Error, r.ID)
		for _, assisted := range []bool{false, true} {
			opt := Options{ThreatModel: tm, AIAssisted: assisted}
			fast := Build(res, opt)
			prefilter = false
			slow := Build(res, opt)
			prefilter = true
			require.Equal(t, slow, fast, r.ID)
		}
	}
}

// foldsToASCII lists every rune outside ASCII that matching without case
// equates with an ASCII letter, so that the lowercased text rules out
// only what has no match.
func TestFoldsToASCIIAreAll(t *testing.T) {
	var found []string
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < 0x80 && unicode.IsLetter(f) {
				found = append(found, string(r))
				break
			}
		}
	}
	assert.ElementsMatch(t, foldsToASCII, found)
	assert.True(t, scan("a \u212A").unfolded)
	assert.False(t, scan("a k é").unfolded)
}

// TestProgsGenerated fails when progs.bin is not the DFA finders of the
// segmented patterns as compiling their expressions gives today (run go
// generate ./screener/advice); with -update it rewrites the file. Each
// finder made from the table encodes to its entry.
func TestProgsGenerated(t *testing.T) {
	var table progtab.Builder
	for _, p := range prefiltered {
		if p.segment {
			table.Add(p.re.String(), compiledFinder(t, p.re.String()).AppendCompiled(nil))
		}
	}
	if err := progtab.WriteOrCheck("progs.bin", table.Bytes(), *update); err != nil {
		t.Fatalf("%v: run go generate ./screener/advice", err)
	}
	if *update {
		return
	}
	for name, p := range prefiltered {
		if !p.segment {
			continue
		}
		p.barrierBytes() // sets the finder up
		require.NotNil(t, p.finder, name)
		assert.Equal(t, string(compiledFinder(t, p.re.String()).AppendCompiled(nil)), string(p.finder.AppendCompiled(nil)), name)
	}
}

// compiledFinder compiles the expression as go generate does.
func compiledFinder(t *testing.T, expr string) *lazydfa.Finder {
	t.Helper()
	tree, err := syntax.Parse(expr, syntax.Perl)
	require.NoError(t, err)
	f, err := lazydfa.NewFinder(tree)
	require.NoError(t, err)
	return f
}
