package rules

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The prefilter must never rule out a paragraph that a pattern matches.
func TestPrefilterIsConservative(t *testing.T) {
	var texts []string
	for _, c := range loadCases(t) {
		texts = append(texts, c.Subject, c.Body)
		for _, a := range c.Attachments {
			texts = append(texts, a.Text)
		}
	}
	texts = append(texts, benchReport().Body, kasanTrace, cRepro,
		"MOUNTING A CRAFTED EXT4 IMAGE", "Ignore ALL Previous Instructions", "🚨 ✅ ⚠")
	var ms []matcher
	for _, r := range kernelEngine(t).Rules() {
		ms = append(ms, r.match...)
		ms = append(ms, r.unless...)
	}
	pack, err := KernelRules()
	require.NoError(t, err)
	for _, x := range pack.Facts {
		ms = append(ms, x.match...)
		ms = append(ms, x.also...)
	}
	ms = append(ms, pack.Versions.m, matcherFor(reInjection))
	filtered := 0
	for _, m := range ms {
		if len(m.need) > 0 {
			filtered++
		}
		for _, txt := range texts {
			x := newText(txt)
			cand := x.candidates(m)
			for i, p := range x.paras {
				para := txt[p[0]:p[1]]
				if m.re.MatchString(para) {
					assert.True(t, m.possible(x.lower[p[0]:p[1]]), "pattern %s matches %q but the prefilter %q rules it out", m.re, para, m.need)
					assert.True(t, cand == nil || cand[i], "pattern %s matches %q but its paragraph is no candidate", m.re, para)
				}
			}
		}
	}
	assert.Greater(t, filtered, len(ms)*3/4, "most patterns should have a literal prefilter")
}

func TestRequiredLiterals(t *testing.T) {
	cases := map[string][]string{
		`(?i)\bfoo bar\b`:        {"foo bar"},
		`(?i)\b(?:alpha|beta)x`:  {"alphax", "betax"},
		`-{3,}`:                  {"---"},
		`[\x{1F300}-\x{1FAFF}]`:  {"\xf0"},
		`(?i)(?:ab)?cd+`:         {"cd"},
		`(?i)Straße`:             nil,
		`\w+`:                    nil,
		`(?:foo|\w)`:             nil,
		`(?i)ignore (?:all )?it`: {"ignore it"},
	}
	for pat, want := range cases {
		m := newMatcher(regexp.MustCompile(pat))
		if want == nil {
			assert.Empty(t, m.need, pat)
			continue
		}
		require.NotEmpty(t, m.need, pat)
		// Every literal needed must occur in some text the pattern matches;
		// here: each need is a part of one of the wanted strings.
		for _, n := range m.need {
			found := false
			for _, w := range want {
				found = found || strings.Contains(w, n)
			}
			assert.True(t, found, "%s: need %q is in none of %q", pat, n, want)
		}
	}
}

func TestParagraphsAndOffsets(t *testing.T) {
	txt := "first line\nsecond line\n\nthird PARA here\n\n\nlast"
	x := newText(txt)
	var got []string
	for _, p := range x.paras {
		got = append(got, txt[p[0]:p[1]])
	}
	assert.Equal(t, []string{"first line\nsecond line\n", "third PARA here\n", "\nlast"}, got)
	loc := x.first(newMatcher(regexp.MustCompile(`(?i)para here`)))
	require.NotNil(t, loc)
	assert.Equal(t, "PARA here", txt[loc[0]:loc[1]])
	assert.Nil(t, x.first(newMatcher(regexp.MustCompile(`line\s+third`))), "matches do not span a blank line")
	assert.NotNil(t, x.first(newMatcher(regexp.MustCompile(`first line\s+second`))), "but do span a single line break")
	assert.Len(t, x.findAllIndex(regexp.MustCompile(`(?i)line|para|last`), -1), 4)
	assert.Len(t, x.findAllIndex(regexp.MustCompile(`(?i)line|para|last`), 2), 2)
}

// A sequence keeps the literal sets of its other parts, so a paragraph
// holding only the most selective literal is still skipped.
func TestPrefilterAlsoNeedsTheOtherParts(t *testing.T) {
	m := newMatcher(regexp.MustCompile(`(?i)\b(?:error|return value) is (?:silently )?(?:ignored|lost)\b`))
	require.NotEmpty(t, m.need)
	require.NotEmpty(t, m.also)
	assert.False(t, m.possible("perror(\"setsockopt\"); the error is fine"))
	assert.True(t, m.possible("the error is silently ignored"))
	x := newText("perror(\"x\");\n\nthe return value is lost here\n")
	assert.Len(t, x.findAt(m, -1), 1)
}
