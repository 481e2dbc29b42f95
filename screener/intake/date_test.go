package intake

import (
	"bufio"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	gotextproto "github.com/emersion/go-message/textproto"
	"github.com/stretchr/testify/require"
)

// parseDate reads a date as go-message's Header.Date (net/mail.ParseDate)
// does, to the zone's name and offset, on the corpus's Date headers and on
// variants of them: comments, obsolete zones, two-digit years, missing
// seconds, odd spacing, bad day names, garbage.
func TestParseDateIsHeaderDate(t *testing.T) {
	dates := []string{"", " ", "Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 02 Jan 2006 15:04:05 +0000", "2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 06 15:04 -0700", "Mon, 2 Jan 2006 15:04:05 GMT", "Mon, 2 Jan 2006 15:04:05 UT", "Mon, 2 Jan 2006 15:04:05 -0700 (MST)",
		"Foo, 2 Jan 2006 15:04:05 -0700", "mon, 2 Jan 2006 15:04:05 -0700", "Mon,  2 Jan 2006 15:04:05 -0700", " Mon, 2 Jan 2006 15:04:05 -0700",
		"Mon, 2 Jan 2006 15:04:05 -0700 trailing", "Mon, 31 Feb 2006 15:04:05 -0700", "Mon, 2 Jan 2006 25:04:05 -0700",
		"Tue, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 +9999", "Mon, 2 Jan 2006 15:04:05 -07", "Mon, 2 Jan 2006 15:04:05\r\n -0700",
		"Mon, 2 Jan 2006 15:04:05 -0700\r", "Monday, 2 Jan 2006 15:04:05 -0700", "Mon, 2 January 2006 15:04:05 -0700", "Thu, 20 Nov 1997 09:55:06 MDT"}
	files, err := filepath.Glob(filepath.Join("..", "..", "corpus", "reports", "*"))
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for l := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(l, "Date: "); ok {
				dates = append(dates, strings.TrimSpace(v))
			}
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, d := range dates[:len(dates):len(dates)] {
		for range 5 {
			b := []byte(d)
			if len(b) > 0 {
				switch i := rng.IntN(len(b)); rng.IntN(3) {
				case 0:
					b = append(b[:i], b[i+1:]...)
				case 1:
					b[i] = " +-0123456789:,()aZ"[rng.IntN(19)]
				default:
					b = append(b[:i], append([]byte{" 0-"[rng.IntN(3)]}, b[i:]...)...)
				}
			}
			dates = append(dates, string(b))
		}
	}
	for _, d := range dates {
		th, err := gotextproto.ReadHeader(bufio.NewReader(strings.NewReader("Date: " + d + "\r\n\r\n")))
		if err != nil {
			continue
		}
		h := mail.Header{Header: message.Header{Header: th}}
		want, werr := h.Date()
		got, gerr := parseDate(h)
		require.Equal(t, werr == nil, gerr == nil, "%q: %v / %v", d, werr, gerr)
		wn, wo := want.Zone()
		gn, gof := got.Zone()
		require.True(t, want.Equal(got) && wn == gn && wo == gof && want.Format(time.RFC3339Nano) == got.Format(time.RFC3339Nano),
			"%q: %v, want %v", d, got, want)
	}
}
