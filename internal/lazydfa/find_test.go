package lazydfa

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sameAsRegexp checks that the Finder of expr finds in s what Go's regexp
// finds: every match with its groups, every match alone, and whether there
// is one. Texts that are not valid UTF-8 are left out (callers leave them to
// Go's regexp), and so are answers the Finder leaves to Go's regexp.
func sameAsRegexp(t testing.TB, expr string, s string) {
	t.Helper()
	re, err := regexp.Compile(expr)
	if err != nil {
		return
	}
	tree, err := syntax.Parse(expr, syntax.Perl)
	require.NoError(t, err)
	m, err := NewFinder(tree)
	require.NoError(t, err)
	finderSameAsRegexp(t, m, re, s)
}

// finderSameAsRegexp checks that m, a Finder of re's pattern, finds in s
// what re finds (see sameAsRegexp).
func finderSameAsRegexp(t testing.TB, m *Finder, re *regexp.Regexp, s string) {
	t.Helper()
	expr := re.String()
	if !utf8.ValidString(s) {
		return
	}
	if got, ok := m.FindAll(s, -1, true); ok {
		assert.Equal(t, re.FindAllStringSubmatchIndex(s, -1), got, "groups of %q in %q", expr, s)
	}
	if got, ok := m.LastEnd(s); ok {
		want := -1
		if locs := re.FindAllStringIndex(s, -1); len(locs) > 0 {
			want = locs[len(locs)-1][1]
		}
		assert.Equal(t, want, got, "end of the last match of %q in %q", expr, s)
	}
	if got, ok := m.FindAll(s, 2, false); ok {
		assert.Equal(t, re.FindAllStringIndex(s, 2), got, "first two of %q in %q", expr, s)
	}
	if got, ok := m.ReplaceAll(s, "<>"); ok {
		assert.Equal(t, re.ReplaceAllString(s, "<>"), got, "%q replaced in %q", expr, s)
	}
	if got, ok := m.ReplaceAll(s, ""); ok {
		assert.Equal(t, re.ReplaceAllString(s, ""), got, "%q removed from %q", expr, s)
	}
	if got, ok := m.MatchString(s); ok {
		assert.Equal(t, re.MatchString(s), got, "%q matches %q", expr, s)
	}
}

var finderCases = []struct{ expr, text string }{
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

func TestFinderEqualsRegexpOnCases(t *testing.T) {
	for _, c := range finderCases {
		sameAsRegexp(t, c.expr, c.text)
	}
}

func FuzzFinderEqualsRegexp(f *testing.F) {
	for _, c := range finderCases {
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
