package rules

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sameAsRegexp checks that the matcher of expr finds in s what Go's regexp
// finds: every match with its groups, every match alone, and whether there
// is one. It reports whether the matcher answered itself (it leaves texts
// that are not valid UTF-8 to the caller, and gives up past its state
// budget).
func sameAsRegexp(t testing.TB, expr string, s string) {
	t.Helper()
	re, err := regexp.Compile(expr)
	if err != nil {
		return
	}
	tree, err := syntax.Parse(expr, syntax.Perl)
	require.NoError(t, err)
	m, err := newMatcher(tree)
	require.NoError(t, err)
	if !utf8.ValidString(s) {
		return
	}
	if got, ok := m.findAll(s, -1, true); ok {
		assert.Equal(t, re.FindAllStringSubmatchIndex(s, -1), got, "groups of %q in %q", expr, s)
	}
	if got, ok := m.lastEnd(s); ok {
		want := -1
		if locs := re.FindAllStringIndex(s, -1); len(locs) > 0 {
			want = locs[len(locs)-1][1]
		}
		assert.Equal(t, want, got, "end of the last match of %q in %q", expr, s)
	}
	if got, ok := m.findAll(s, 2, false); ok {
		assert.Equal(t, re.FindAllStringIndex(s, 2), got, "first two of %q in %q", expr, s)
	}
	if got, ok := m.replaceAll(s, "<>"); ok {
		assert.Equal(t, re.ReplaceAllString(s, "<>"), got, "%q replaced in %q", expr, s)
	}
	if got, ok := m.replaceAll(s, ""); ok {
		assert.Equal(t, re.ReplaceAllString(s, ""), got, "%q removed from %q", expr, s)
	}
	if got, ok := m.matchString(s); ok {
		assert.Equal(t, re.MatchString(s), got, "%q matches %q", expr, s)
	}
}

var matcherCases = []struct{ expr, text string }{
	{`a|bc|abc`, "abc abc"},
	{`a*`, "baaab"},
	{`a*?`, "baaab"},
	{`(a*)(b*)`, "aabbxab"},
	{`\b`, "ab cd"},
	{`\B`, "ab cd"},
	{`^`, "a\nb"},
	{`(?m)^`, "a\nb\n"},
	{`(?m)$`, "a\nb\n"},
	{`$`, "a\nb\n"},
	{`(?m)^\s*$`, "a\n\n  \nb"},
	{`(?i)kelvin`, "KELVIN \u212aelvin ſ"},
	{`(?i)\bs\b`, "S s ſ"},
	{`[^a-z]+`, "abc ÄÖÜ def 日本語 €"},
	{`(?i)straße|STRASSE`, "Straße STRASSE strasse"},
	{`\p{Greek}+`, "abc αβγ def"},
	{`(?P<prefix>v|linux-)?(?P<major>\d{1,2})\.(?P<minor>\d{1,2})(?:\.(?P<patch>\d+))?`, "v6.1 and linux-5.10.3, 4.19"},
	{`x(y|z)?`, "xx xy xz"},
	{`(a|ab)(c|bcd)(d*)`, "abcd"},
	{`(?s).+`, "a\nb"},
	{`.+`, "a\nb"},
	{`(?U)a+`, "aaa"},
	{`\Aab|b\z`, "abab"},
	{`(?:)`, ""},
	{`(?:)`, "é"},
	{`x*`, "é"},
	{`\b\w+\b`, "héllo wörld"},
}

func TestMatcherEqualsRegexpOnCases(t *testing.T) {
	for _, c := range matcherCases {
		sameAsRegexp(t, c.expr, c.text)
	}
}

// Every pattern of the kernel pack finds with the matcher what it finds
// with Go's regexp, paragraph by paragraph, on a fifth of the texts of the
// corpus, the examples, the rule cases and synthetic reports (a different
// fifth for each pattern: every text is read by a fifth of the patterns).
func TestMatcherEqualsRegexpOnPack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every pattern over the corpus twice")
	}
	e := kernelEngine(t)
	pats := packPatterns(e.pack, e.rules)
	var texts []string
	for _, r := range equalityReports(t) {
		for _, p := range r.Parts() {
			texts = append(texts, p.Text)
		}
	}
	for i, m := range pats {
		re := m.regexp()
		mt := m.matcher()
		for j, s := range texts {
			if (i+j)%5 != 0 || len(s) > 1<<16 || !utf8.ValidString(s) {
				continue
			}
			x := newText(s, nil)
			for _, p := range x.paras {
				para := s[p[0]:p[1]]
				got, ok := mt.findAll(para, -1, true)
				require.True(t, ok, "pattern %s gave up", m)
				if want := re.FindAllStringSubmatchIndex(para, -1); !assert.Equal(t, want, got, "pattern %s on %q", m, para) {
					return
				}
			}
		}
	}
}

func FuzzMatcherEqualsRegexp(f *testing.F) {
	for _, c := range matcherCases {
		f.Add(c.expr, c.text)
	}
	f.Add(`(?i)\b(?:requires?|needs?) CAP_(?:SYS_ADMIN|NET_ADMIN)\b`, "It requires CAP_NET_ADMIN.\nneeds cap_sys_admin")
	f.Fuzz(func(t *testing.T, expr, s string) {
		if len(expr) > 200 || strings.Count(expr, "{") > 4 {
			return
		}
		sameAsRegexp(t, expr, s)
	})
}

// expandTemplate expands a value template as regexp.Regexp.ExpandString
// does.
func sameExpansion(t testing.TB, expr, tpl, s string) {
	t.Helper()
	re, err := regexp.Compile(expr)
	if err != nil {
		return
	}
	loc := re.FindStringSubmatchIndex(s)
	if loc == nil {
		return
	}
	tree, err := syntax.Parse(expr, syntax.Perl)
	require.NoError(t, err)
	assert.Equal(t, string(re.ExpandString(nil, tpl, s, loc)), string(expandTemplate(nil, tpl, tree.CapNames(), s, loc)),
		"template %q of %q on %q", tpl, expr, s)
}

func TestExpandTemplateEqualsRegexp(t *testing.T) {
	for _, tpl := range []string{"$0", "$1", "$1$2", "sysctl:$1", "${major}.${minor}", "$major", "$$1", "$", "x$", "${1}x", "$1x",
		"${", "${}", "${1", "$01", "$00", "$9999999999", "$10", "$a_b", "$é", "${name}", "$2$1$0", "$-1"} {
		sameExpansion(t, `(?P<a_b>a)(b)?(?P<major>\d)\.(?P<minor>\d)`, tpl, "xa1.2y")
		sameExpansion(t, `(?P<name>x)|(?P<name>y)`, tpl, "y")
		sameExpansion(t, `(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)`, tpl, "abcdefghijk")
	}
}

func FuzzExpandTemplate(f *testing.F) {
	f.Add(`(?P<a>x)(y)?`, "$1${a}$2$$", "xx")
	f.Fuzz(func(t *testing.T, expr, tpl, s string) {
		sameExpansion(t, expr, tpl, s)
	})
}

func TestCountFieldsEqualsStringsFields(t *testing.T) {
	for _, s := range []string{"", " ", "a", " a b  c ", "a\u00a0b\u2003c", "\xffa \x80", "tab\tand\nline\v\f\r end"} {
		assert.Equal(t, len(strings.Fields(s)), countFields(s), "%q", s)
	}
}

func FuzzCountFields(f *testing.F) {
	f.Add("a b\u00a0c")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := countFields(s), len(strings.Fields(s)); got != want {
			t.Fatalf("countFields(%q) = %d, strings.Fields gives %d", s, got, want)
		}
	})
}

// The reversed program of every pattern of the built-in pack has the
// forward program's rune sets, so that the two DFAs share their classes.
func TestReversedProgramsShareRuneSets(t *testing.T) {
	e := kernelEngine(t)
	key := func(set []rune) string { return string(set) }
	pats := packPatterns(e.pack, e.rules)
	for _, a := range auxPatterns(e.pack) {
		pats = append(pats, a.p)
	}
	for _, p := range pats {
		m := p.matcher()
		rprog := m.reverse().prog
		fwd := map[string]bool{}
		for _, s := range runeSets(m.prog) {
			fwd[key(s)] = true
		}
		for _, s := range runeSets(rprog) {
			assert.True(t, fwd[key(s)], "pattern %s: reversed program has rune set %q", p, s)
		}
	}
}

// auxPatterns returns the short-string patterns of the engine: the
// package's own, the versions section's and the extractors'.
func auxPatterns(pack *RuleSet) []*auxRe {
	v := pack.Versions
	auxes := []*auxRe{reRuleNegation, reNoPrivilege, reNegation, reSentenceEnd,
		v.context, v.notAfter, v.skipLine, v.vendor, v.introduced, v.fixed, v.running}
	for _, x := range pack.Facts {
		if x.notAfter != nil {
			auxes = append(auxes, x.notAfter)
		}
		if x.section != nil {
			auxes = append(auxes, x.section)
		}
	}
	return auxes
}
