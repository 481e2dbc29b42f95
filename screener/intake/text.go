package intake

import (
	"bytes"
	"html"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// maxSubjectRunes bounds the subject taken from a plain-text report.
const maxSubjectRunes = 200

// decodeText turns bytes of unknown encoding into UTF-8: valid UTF-8 (with
// a leading BOM dropped) is kept, anything else is read as windows-1252,
// which maps every byte. The bool says whether the fallback was used.
func decodeText(b []byte) (string, bool) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if utf8.Valid(b) {
		return string(b), false
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD"), true
	}
	return string(out), true
}

// textSubject returns the first non-empty line of s, trimmed and cut to
// maxSubjectRunes runes.
func textSubject(s string) string {
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if utf8.RuneCountInString(line) > maxSubjectRunes {
			r := []rune(line)
			line = strings.TrimSpace(string(r[:maxSubjectRunes]))
		}
		return line
	}
	return ""
}

// normalizeNewlines turns CRLF and lone CR line ends into LF, so that
// Bodies read the same whatever mailer or mbox reader produced them.
func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

var (
	htmlDropRe  = lazyre.New(`(?is)<(script|style|head|title)\b[^>]*>.*?</(script|style|head|title)\s*>|<!--.*?-->`)
	htmlBreakRe = lazyre.New(`(?i)<\s*(br|/p|p|/div|/li|li|/tr|/h[1-6]|/pre|/blockquote|hr)\b[^>]*>`)
	htmlTagRe   = lazyre.New(`(?s)<[^>]*>`)
	blankRunRe  = lazyre.New(`\n[ \t]*(\n[ \t]*){2,}`)
	spaceRunRe  = lazyre.New(`[ \t]+\n`)
)

// htmlCommentRe finds HTML comments.
var htmlCommentRe = lazyre.New(`(?s)<!--(.*?)-->`)

// htmlComments returns the non-blank comments of an HTML text, trimmed,
// with their line breaks normalised.
func htmlComments(s string) []string {
	var out []string
	for _, m := range htmlCommentRe.FindAllStringSubmatch(s, -1) {
		if c := strings.TrimSpace(normalizeNewlines(m[1])); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// htmlToText reduces an HTML body to readable text: scripts, styles and
// comments go, block ends become line breaks, tags go, entities are
// decoded and runs of blank lines shrink to one.
func htmlToText(s string) string {
	s = normalizeNewlines(s)
	s = htmlDropRe.ReplaceAllString(s, "")
	s = htmlBreakRe.ReplaceAllString(s, "\n")
	s = htmlTagRe.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = strings.ReplaceAll(s, "\u00a0", " ")
	s = spaceRunRe.ReplaceAllString(s, "\n")
	s = blankRunRe.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s) + "\n"
}
