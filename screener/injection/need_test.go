package injection

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
)

// needTexts are texts to check the needs on: the normalised parts of the
// suite's reports and of the corpus, and the same texts with their letters
// in other cases (the patterns read any case).
func needTexts(t *testing.T) []string {
	t.Helper()
	var texts []string
	for it := range intake.Read(context.Background(), needInputs(), intake.Options{}) {
		if it.Err != nil || it.Report == nil {
			continue
		}
		for _, p := range append(it.Report.Parts(), it.Report.Hidden...) {
			texts = append(texts, newView(p.Text).norm)
		}
	}
	require.NotEmpty(t, texts)
	rng := rand.New(rand.NewPCG(7, 8))
	n := len(texts)
	for _, s := range texts[:n] {
		b := []byte(s)
		for i, c := range b {
			if rng.IntN(3) == 0 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				b[i] = c ^ 0x20
			}
		}
		texts = append(texts, string(b))
	}
	return texts
}

// Every match of every matcher holds its need: a window without it can be
// skipped without losing a finding.
func TestNeedsHoldForEveryMatch(t *testing.T) {
	setNeeds()
	texts := needTexts(t)
	matched := 0
	for _, m := range matchers {
		for _, s := range texts {
			for _, loc := range m.re.FindAllStringIndex(s, -1) {
				matched++
				match := s[loc[0]:loc[1]]
				require.True(t, m.need.met(asciiLower(match)), "%s: %q", m.name, match)
				if isASCII(match) {
					require.True(t, m.needASCII.met(asciiLower(match)), "%s (ASCII): %q", m.name, match)
				}
			}
		}
	}
	assert.Greater(t, matched, 200, "the texts exercise the patterns")
}

func TestNeedOf(t *testing.T) {
	for _, c := range []struct {
		re   string
		want need
	}{
		{`(?i)ignore\s+previous\s+instructions`, need{{"truction"}, {"previou"}, {"ignore"}}},
		{`(?i)\b(?:foo|barbaz)\s+x?qux`, need{{"foo", "barbaz"}, {"qux"}}},
		{`(?i)(?:foo|b?ar)`, need{{"foo", "ar"}}},
		{`(?i)(?:foo|x*)`, nil},                  // a branch needs nothing
		{`(?i)a+b*`, need{{"a"}}},                // a plus needs its operand, a star nothing
		{`(?i)(?:ok|yes){2}`, need{{"o", "ye"}}}, // k and s fold outside ASCII
		{`(?i)modèle`, need{{"mod"}}},
	} {
		got := needOf(c.re, false)
		assert.Equal(t, c.want, got, c.re)
	}
	assert.Equal(t, need{{"ignore previous instructions"}}, needOf(`(?i)ignore previous instructions`, true),
		"in ASCII text, s and k match only themselves")
	assert.True(t, need{{"ab", "cd"}, {"x"}}.met("..cd..x"))
	assert.False(t, need{{"ab", "cd"}, {"x"}}.met("..cd.."))
	assert.True(t, need(nil).met(""))
}

// needInputs are the suite and the examples, and the corpus too unless
// -short (it takes most of the time).
func needInputs() []string {
	if testing.Short() {
		return []string{"testdata/suite", "../../examples"}
	}
	return []string{"testdata/suite", "../../examples", "../../corpus/reports"}
}
