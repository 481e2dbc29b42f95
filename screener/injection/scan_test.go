package injection

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// reFlatObject is what flatObjects stands for.
var reFlatObject = regexp.MustCompile(`\{[^{}]+\}`)

// checkFlatObjects holds flatObjects(text) to reFlatObject.
func checkFlatObjects(t *testing.T, text string) {
	t.Helper()
	var want [][2]int
	for _, loc := range reFlatObject.FindAllStringIndex(text, -1) {
		want = append(want, [2]int{loc[0], loc[1]})
	}
	require.Equal(t, want, flatObjects(text), "%q", text)
}

// base64RunByByte is hasBase64Run counting every byte: the reference.
func base64RunByByte(text string) bool {
	n := 0
	for i := 0; i < len(text); i++ {
		if !isBase64Byte(text[i]) {
			n = 0
		} else if n++; n >= 24 {
			return true
		}
	}
	return false
}

// checkBase64Run holds hasBase64Run(text) to base64RunByByte, on text and
// on every suffix of its last 64 bytes, where the runs it skips over end.
func checkBase64Run(t *testing.T, text string) {
	t.Helper()
	for s := 0; s <= len(text); s++ {
		if s > 0 && s < len(text)-64 {
			s = len(text) - 64
		}
		require.Equal(t, base64RunByByte(text[s:]), hasBase64Run(text[s:]), "%q", text[s:])
	}
}

// scanTexts are the parts of the equality reports and random texts over
// a small alphabet (braces, base64 and other bytes), where runs and
// objects start and end everywhere.
func scanTexts(t *testing.T) []string {
	t.Helper()
	texts := []string{"", "{", "}", "{}", "{x}", "{{x}}", "{x{y}", "{\xff}", "a{b}c{d", strings.Repeat("A", 23), strings.Repeat("A", 24), strings.Repeat("A", 23) + " " + strings.Repeat("b", 24)}
	for _, r := range equalityReports(t) {
		for _, p := range append(r.Parts(), r.Hidden...) {
			texts = append(texts, p.Text)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "{}aZ09+/ =\n"
	for range 3000 {
		b := make([]byte, rng.IntN(80))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
			if rng.IntN(4) > 0 && i > 0 {
				b[i] = "aZ09+/"[rng.IntN(6)] // long runs of base64
			}
		}
		texts = append(texts, string(b))
	}
	return texts
}

func TestFlatObjectsEqualRegexp(t *testing.T) {
	found := 0
	for _, text := range scanTexts(t) {
		checkFlatObjects(t, text)
		found += len(flatObjects(text))
	}
	require.Greater(t, found, 1000)
}

func TestBase64RunEqualsByteCount(t *testing.T) {
	yes, no := 0, 0
	for _, text := range scanTexts(t) {
		checkBase64Run(t, text)
		if hasBase64Run(text) {
			yes++
		} else {
			no++
		}
	}
	require.Greater(t, yes, 300)
	require.Greater(t, no, 300)
}

// TestAnchorTableEqualsIndex: the anchor table finds each anchor word's
// matchers, and nothing for the other words of the equality reports.
func TestAnchorTableEqualsIndex(t *testing.T) {
	idx, table := anchorIndex(), theAnchorTable()
	for w, ms := range idx {
		require.Equal(t, ms, table.lookup([]byte(w)), w)
	}
	others := 0
	for _, text := range scanTexts(t) {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return r < 0x80 && !isWordByte(byte(r)) }) {
			if _, ok := idx[w]; !ok {
				require.Nil(t, table.lookup([]byte(w)), w)
				others++
			}
		}
	}
	require.Greater(t, others, 10000)
	for i, m := range matchers {
		require.Equal(t, leading[m.name], table.leading[i], m.name)
	}
}
