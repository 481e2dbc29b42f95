package baseline

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// vocabIndex answers as a map from feature to index does: every feature
// of the vocabulary at its index, nothing else.
func TestVocabIndexIsAMap(t *testing.T) {
	m := Embedded()
	eng := kernelEngine(t)
	var probes []string
	for _, e := range bundledExamples(t)[:60] {
		ev := eng.Evaluate(e.Report)
		for _, f := range extract(e.Report, &ev, m.Options.MaxFeatures, m.Options.RuleWeight, m.Options.CharGrams) {
			probes = append(probes, f.name)
		}
	}
	small := func(n int) []string {
		v := make([]string, n)
		for i := range v {
			v[i] = fmt.Sprintf("f%04d", i)
		}
		return v
	}
	for _, vocab := range [][]string{nil, {"a"}, {"", "a"}, small(3), small(1000), m.Vocabulary} {
		want := make(map[string]int, len(vocab))
		for i, s := range vocab {
			want[s] = i
		}
		x := newVocabIndex(vocab)
		check := func(s string) {
			i, ok := x.lookup(s)
			j, wantOK := want[s]
			require.Equal(t, wantOK, ok, "%q in a vocabulary of %d", s, len(vocab))
			require.Equal(t, j, i, "%q", s)
		}
		for _, s := range slices.Concat(vocab, probes, small(1200), []string{"", "zzz", "f", "a\x00"}) {
			check(s)
		}
	}
}
