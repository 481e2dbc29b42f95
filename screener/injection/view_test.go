package injection

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// viewByRune is the view read line by line and rune by rune, with the
// offsets always kept: the reference that newView, which copies runs of
// plain ASCII at once and works the offsets out only when a span asks,
// is held to.
func viewByRune(orig string) *view {
	var b strings.Builder
	var off []int
	emit := func(s string, at int) {
		b.WriteString(s)
		for range len(s) {
			off = append(off, at)
		}
	}
	start := 0
	for _, line := range strings.SplitAfter(orig, "\n") {
		end := start + len(line)
		for i := skipLineDecoration(orig[:end], start, emit); i < end; {
			r, size := utf8.DecodeRuneInString(orig[i:end])
			normRune(orig[i:i+size], r, i, emit)
			i += size
		}
		start = end
	}
	return &view{orig: orig, norm: b.String(), off: append(off, len(orig))}
}

// checkView holds newView(text) to viewByRune(text): the same text, and
// the same way back to the original once a span asks.
func checkView(t *testing.T, text string) {
	t.Helper()
	want, got := viewByRune(text), newView(text)
	require.Equal(t, want.norm, got.norm, "%q", text)
	require.Nil(t, got.off, "offsets worked out before a span asked")
	got.span(0, 0)
	require.Equal(t, want.off, got.off, "%q", text)
}

func TestViewEqualsByRune(t *testing.T) {
	texts := []string{
		"", "\n", "*", "**bold** text\n> quoted *line*\n  + diff\n// comment\n/* c */ x\n- item\n• bullet\n#! sh",
		"Ig\u200bnore \U000E0049\U000E0067 \u202eesrever\u202c ｆｕｌｌ \u0430\u0435 “quote” — dash\u00a0nbsp",
		"\xff\xfe broken \x00 bytes\r\n\tand tabs", "ﬁ ligature, ℌ, ① and \u212A",
	}
	for _, r := range equalityReports(t) {
		for _, p := range append(r.Parts(), r.Hidden...) {
			texts = append(texts, p.Text)
		}
	}
	for _, text := range texts {
		checkView(t, text)
	}
}
