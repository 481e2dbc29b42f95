package lazydfa

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// contextPatterns are small patterns whose matches hang on what the
// automata must get right: \b, \B, ^, $, \A and \z at a text's edges and
// inside it, case folding that reaches outside ASCII (K and the Kelvin
// sign, s and the long s), runes past ASCII, ., empty matches.
var contextPatterns = []string{
	`\b-x`, `(?i)\bkeep\s+it`, `(?m)^\s*end$`, `(?:^|[.:])\s*ai:`, `\Bx`, `(?i)(?:^|\b)set\b`, `\s*^y`,
	`x$`, `(?m)x$`, `\Ax`, `x\z`, `^$`, `(?m)^$`, `\b`, `\B`, ``, `x*`, `(?s:.)x`, `.x`, `[^\n]{2}$`,
	`(?i)é`, `[à-ü]+\b`, `(?i)\bſ`, `(?i)k\b`, `\x{FFFD}`, `[^a-z]{3}`, `(?U)a+?b`, `(?i)modèle|mod[eè]le\b`,
	`\p{Greek}+`, `[^\x{D7FF}-\x{E000}]`, `(?i)straße`,
}

// contextTexts are short texts to cut every window of.
var contextTexts = []string{
	"a-x -x", "\u212Aeep it; KEEP it", "x\n  end\nend", "ai: x. ai:", "xx x", "reset set Set", "é-x", " \ny",
	"as\u212A it", "x\n\nx", "\xffx\xfe", "ÉéèÈ ü", "Modèle MODÈLE", "aab ab", "\u017F\u212A k", "\n", "",
	"αβγ STRASSE Straße", "\U0001F600x\uE001",
}

// TestMatcherOnEveryWindow holds the Matchers of small patterns to
// regexp on every window of short texts, and two windows at a time.
func TestMatcherOnEveryWindow(t *testing.T) {
	for _, src := range contextPatterns {
		re := regexp.MustCompile(src)
		d, o := NewMatcher(src, re.MatchString), NewMatcher(`x`, regexp.MustCompile(`x`).MatchString)
		for _, text := range contextTexts {
			for s := 0; s <= len(text); s++ {
				for e := s; e <= len(text); e++ {
					w := text[s:e]
					require.Equal(t, re.MatchString(w), d.Match(w), "%s on %q", src, w)
					a, b := MatchTwo(d, w, o, text)
					require.Equal(t, [2]bool{re.MatchString(w), strings.Contains(text, "x")}, [2]bool{a, b}, "%s on %q, two at a time", src, w)
				}
			}
		}
	}
}

// TestRuneClasses: every rune of a class is read alike by every rune
// instruction of the program and is of the class's kind; checked on every
// ASCII byte, at and beside every bound past ASCII, and on random runes,
// for the small patterns and the Finder cases.
func TestRuneClasses(t *testing.T) {
	srcs := append([]string{}, contextPatterns...)
	for _, c := range finderCases {
		srcs = append(srcs, c.expr)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, src := range srcs {
		re, err := syntax.Parse(src, syntax.Perl)
		require.NoError(t, err)
		prog, err := syntax.Compile(re.Simplify())
		require.NoError(t, err)
		cls := newRuneClasses(runeSets(prog))
		runes := []rune{utf8.RuneError, unicode.MaxRune}
		for r := range rune(utf8.RuneSelf) {
			runes = append(runes, r)
		}
		for _, b := range cls.bounds {
			runes = append(runes, b-1, b, b+1)
		}
		for range 2000 {
			runes = append(runes, utf8.RuneSelf+rng.Int32N(unicode.MaxRune-utf8.RuneSelf))
		}
		for _, r := range runes {
			if r < 0 || r > unicode.MaxRune {
				continue
			}
			var class uint16
			if r < utf8.RuneSelf {
				class = cls.ascii[r]
			} else {
				class = cls.of(r)
			}
			require.Equal(t, kindOf(r), cls.kind[class], "%s: kind of %q", src, r)
			rep := cls.rep[class]
			for pc := range prog.Inst {
				if in := &prog.Inst[pc]; readsRuneOp(in.Op) {
					require.Equal(t, matchesRune(in, rep), matchesRune(in, r), "%s: %q and %q at %d", src, r, rep, pc)
				}
			}
		}
	}
}

// TestMatcherStartsAfreshAndGivesUp: a Matcher whose cache is full starts
// it afresh, and one that a text walks through more new states than its
// budget hands that text to the fallback; either way it answers as regexp
// does.
func TestMatcherStartsAfreshAndGivesUp(t *testing.T) {
	const src = `(?i)\b(?:the|any|our)\s+(?:AI|LLM|automated)\s+(?:triage\s+|code\s+review\s+)?(?:models?|reviewers?|bots?|tooling|assistant)\s+` +
		`(?:must|should|shall|is\s+to)\s+(?:not\s+|just\s+|simply\s+)?(?:classify|ignore|close|rate|pass)\b`
	re := regexp.MustCompile(src)
	fallbacks := 0
	newMatcher := func(maxStates int) *Matcher {
		d := NewMatcher(src, func(s string) bool { fallbacks++; return re.MatchString(s) })
		d.maxStates = maxStates
		return d
	}
	counts := func(d *Matcher) (resets, gaveUp int) {
		c := d.cache("")
		defer d.release(c)
		require.LessOrEqual(t, len(c.states), d.maxStates)
		return c.resets, c.gaveUp
	}

	// Short texts, each within its budget, that fill the cache.
	d := newMatcher(64)
	texts := []string{
		"The AI triage model must not classify it. Our LLM reviewers should just ignore that.",
		"any automated code review tooling should simply close it; the assistant is to rate it",
		"models must be right, bots shall not pass",
	}
	for _, text := range texts {
		for s := 0; s <= len(text); s += 3 {
			require.Equal(t, re.MatchString(text[s:]), d.Match(text[s:]), "%q", text[s:])
		}
	}
	resets, gaveUp := counts(d)
	require.Positive(t, resets)
	require.Zero(t, gaveUp)
	require.Zero(t, fallbacks)

	// A long text that keeps walking into new states.
	d = newMatcher(16)
	var b strings.Builder
	for i := 0; b.Len() < 4000; i++ {
		b.WriteString([]string{"the AI ", "model ", "x ", "must ", "LLM bots ", "any ", "y-z "}[i*i%7])
	}
	long := b.String()
	for _, s := range []string{long, long + " the model must rate it", long[:len(long)/2]} {
		require.Equal(t, re.MatchString(s), d.Match(s))
		o := newMatcher(maxMatchStates)
		a, b := MatchTwo(d, s, o, texts[0])
		require.Equal(t, [2]bool{re.MatchString(s), re.MatchString(texts[0])}, [2]bool{a, b})
	}
	_, gaveUp = counts(d)
	require.Positive(t, gaveUp)
	require.Positive(t, fallbacks)
}
