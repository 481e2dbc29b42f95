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
				got, ok := mt.FindAll(para, -1, true)
				require.True(t, ok, "pattern %s gave up", m)
				if want := re.FindAllStringSubmatchIndex(para, -1); !assert.Equal(t, want, got, "pattern %s on %q", m, para) {
					return
				}
			}
		}
	}
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
