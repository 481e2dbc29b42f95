package intake

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCharsetNamesAsGoMessage: the charsets of headers' encoded words,
// text parts and attachments, spelled as mail spells them (other cases,
// white space, IANA's "cs" aliases, HTML's labels, go-message's own
// names), decode as they did through go-message's charset package, and an
// unknown charset is noted in the same words and falls back the same way.
// The expected values were taken from that package (intake before
// screener/intake/charset); screener/intake/charset proves the lookup on
// every name.
func TestCharsetNamesAsGoMessage(t *testing.T) {
	part := func(ct, body string) string {
		return "--b\r\nContent-Type: " + ct + "\r\n\r\n" + body + "\r\n"
	}
	msg := "From: =?x-bogus?Q?Ivan?= <ivan@example.org>\r\n" +
		"Subject: =?KOI8-r?Q?=F0=D2=C9=D7=C5=D4?= =?Iso-8859-15?Q?=A4?=\r\n" +
		"Message-ID: <cs@example.org>\r\n" +
		"X-Note: =?cp1251?B?zvjo4erg?=\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		part(`text/plain; charset="ASCII"`, "caf\xe9") +
		part("text/plain; charset=x-utf_8j", "\xc3\xa9t\xc3\xa9") +
		part("text/plain; charset=KOI8R", "\xf0\xd2\xc9\xd7\xc5\xd4") +
		part(`text/plain; charset=" gb18030 "`, "\xc2\xa9\xb6\xb4") +
		part("text/plain; charset=x-mac-cyrillic", "\x8f\xe0") +
		part("text/plain; charset=utf-16\r\nContent-Transfer-Encoding: base64", "//5oAOkA") +
		part("text/plain; charset=Shift_JIS", "\x83\x65\x83\x58\x83\x67") +
		part("text/plain; charset=x-bogus", "caf\xe9") +
		"--b\r\nContent-Type: application/octet-stream; charset=windows-1251;\r\n" +
		" name=\"=?iso-2022-jp?B?GyRCJDMkcyRLJEEkTxsoQg==?=.txt\"\r\n" +
		"Content-Disposition: attachment\r\n\r\n\xce\xf8\xe8\xe1\xea\xe0\r\n--b--\r\n"
	r := readOne(t, writeFile(t, t.TempDir(), "cs.eml", []byte(msg)), Options{})
	assert.Equal(t, "Привет€", r.Subject)
	assert.Equal(t, "=?x-bogus?Q?Ivan?= <ivan@example.org>", r.From)
	assert.Equal(t, strings.Join([]string{"caf\ufffd", "été", "Привет", "漏洞", "Па", "hé", "テスト", "café"}, "\n\n"), r.Body)
	assert.Equal(t, []string{
		`From: unknown charset: charset "x-bogus": htmlindex: invalid encoding name; kept undecoded`,
		`part 8: unknown charset "x-bogus"; decoded as best effort`,
		"body part 8 is not valid UTF-8; decoded as windows-1252",
	}, r.Notes)
	require.Len(t, r.Attachments, 1)
	assert.Equal(t, "こんにちは.txt", r.Attachments[0].Name)
	assert.Equal(t, "Ошибка", r.Attachments[0].Text)
	var note string
	for _, h := range r.Hidden {
		if h.Name == "header:X-Note" {
			note = h.Text
		}
	}
	assert.Equal(t, "Ошибка", note)
}
