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
	var buf [24]byte
	for w, ms := range idx {
		require.Equal(t, ms, table.find(w, 0, len(w), &buf), w)
		upper := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r - 'a' + 'A'
			}
			return r
		}, w)
		require.Equal(t, ms, table.find(upper, 0, len(upper), &buf), upper)
	}
	others := 0
	for _, text := range scanTexts(t) {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return r < 0x80 && !isWordByte(byte(r)) }) {
			if _, ok := idx[w]; !ok {
				require.Nil(t, table.find(w, 0, len(w), &buf), w)
				others++
			}
		}
	}
	require.Greater(t, others, 10000)
	for i, m := range matchers {
		require.Equal(t, leading[m.name], table.leading[i], m.name)
	}
}

// TestByteSets: the byte sets hold the bytes they are said to.
func TestByteSets(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		base64 := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '+' || b == '/'
		require.Equal(t, base64, base64Bytes.has(b), "base64: %q", b)
	}
}

// anchorWindowsByMap is anchorWindows as it was first written, with a map
// of the anchor words and a list of windows per matcher: the reference
// the table and the one list are held to.
func anchorWindowsByMap(t string) []window {
	idx := anchorIndex()
	per := make([][][2]int, len(matchers))
	for i := 0; i < len(t); {
		if !isWordByte(t[i]) {
			i++
			continue
		}
		j := i
		for j < len(t) && isWordByte(t[j]) {
			j++
		}
		if j-i <= 24 {
			for _, m := range idx[asciiLower(t[i:j])] {
				s, e := max(0, i-windowBefore), min(len(t), j+windowAfter)
				if leading[matchers[m].name] {
					s, e = i, min(len(t), i+leadingReach)
				}
				if ws := per[m]; len(ws) > 0 && ws[len(ws)-1][1] >= s {
					ws[len(ws)-1][1] = max(ws[len(ws)-1][1], e)
				} else {
					per[m] = append(per[m], [2]int{s, e})
				}
			}
		}
		i = j
	}
	var out []window
	for m := range per {
		for _, w := range per[m] {
			if !leading[matchers[m].name] {
				w = widenByByte(t, w)
			} else {
				for w[1] < len(t) && isWordByte(t[w[1]]) {
					w[1]++
				}
			}
			out = append(out, window{m: m, s: w[0], e: w[1]})
		}
	}
	return out
}

// widenByByte is widen a byte at a time, as it was first written.
func widenByByte(t string, w [2]int) [2]int {
	s, e := w[0], w[1]
	lo := max(0, s-lineReach)
	for s > lo && t[s-1] != '\n' {
		s--
	}
	if s > 0 && t[s-1] != '\n' {
		for s < w[0] && t[s] != ' ' && t[s] != '\t' {
			s++
		}
	}
	hi := min(len(t), e+lineReach)
	for e < hi && t[e] != '\n' {
		e++
	}
	return [2]int{s, e}
}

// TestAnchorWindowsEqualByMap: the windows are those the map of anchor
// words gives, on every part of the equality reports and on texts dense
// with anchors in any case.
func TestAnchorWindowsEqualByMap(t *testing.T) {
	texts := scanTexts(t)
	var dense strings.Builder
	for w := range anchorIndex() {
		dense.WriteString(w + " x. " + strings.ToUpper(w) + "\n")
	}
	texts = append(texts, dense.String(), strings.Repeat("mark it as set ", 200), strings.Repeat("the model must file ", 500))
	n := 0
	for _, text := range texts {
		norm := newView(text).norm
		want := anchorWindowsByMap(norm)
		require.Equal(t, want, anchorWindows(norm), "%q", text)
		n += len(want)
	}
	require.Greater(t, n, 5000)
}
