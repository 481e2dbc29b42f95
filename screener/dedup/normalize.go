package dedup

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/secscreen/secscreen/internal/lazyre"
	"github.com/secscreen/secscreen/screener/intake"
)

// subjectTags strips what mailers and tools put before a subject: Re:,
// Fwd:, AW:, and bracketed tags such as [PATCH v2 1/3] or [syzbot].
var subjectTags = lazyre.New(`(?i)^\s*(?:(?:re|fwd?|aw|sv|antw)\s*(?:\[\d+\])?\s*:\s*|\[[^\]]{0,60}\]\s*)+`)

// Subject returns a subject without its reply prefixes and bracketed tags.
func Subject(s string) string {
	return strings.TrimSpace(subjectTags.ReplaceAllString(s, ""))
}

// Text returns the part of a report that says what it reports: the subject
// without reply prefixes and tags, the body without quoted lines, the
// attribution lines that introduce them and the signature, and the text
// attachments. Headers (sender, date, ids) are left out: the same report
// sent by two people has the same Text.
func Text(r *intake.Report) string {
	var b strings.Builder
	b.WriteString(Subject(r.Subject))
	b.WriteByte('\n')
	b.WriteString(Dequote(r.Body))
	for _, a := range r.Attachments {
		if !a.Binary && a.Text != "" {
			b.WriteByte('\n')
			b.WriteString(a.Text)
		}
	}
	return b.String()
}

// attribution matches the line a mailer writes above a quote.
var attribution = lazyre.New(`(?i)^\s*(?:on\b.{0,200}\bwrote:|.{0,120}\b(?:wrote|writes|schrieb|a écrit):)\s*$`)

// mayAttribute is a cheap test that attribution may match line: it needs
// a colon and one of its verbs. The verbs are checked in ASCII lower case,
// on the letters case folding cannot bring from outside ASCII (the long s
// folds to s, so "schrieb" is checked as "chrieb").
func mayAttribute(line string) bool {
	if strings.IndexByte(line, ':') < 0 {
		return false
	}
	l := asciiLower(line)
	return strings.Contains(l, "wrote") || strings.Contains(l, "write") || strings.Contains(l, "chrieb") || strings.Contains(l, "crit")
}

// asciiLower lowers the ASCII letters of s (the length stays the same).
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for k := i; k < len(b); k++ {
				if c := b[k]; c >= 'A' && c <= 'Z' {
					b[k] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Dequote drops quoted lines (starting with '>'), the attribution line
// above a quote, and everything from the signature separator ("-- ") on.
func Dequote(body string) string {
	lines := strings.Split(body, "\n")
	out := make([]string, 0, len(lines))
	for i, l := range lines {
		t := strings.TrimRight(l, "\r")
		if t == "-- " {
			break
		}
		if strings.HasPrefix(strings.TrimLeft(t, " \t"), ">") {
			continue
		}
		if mayAttribute(t) && attribution.MatchString(t) && nextQuoted(lines[i+1:]) {
			continue
		}
		out = append(out, t)
	}
	return strings.Join(out, "\n")
}

// nextQuoted reports whether the first non-blank line is a quote.
func nextQuoted(lines []string) bool {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		return strings.HasPrefix(t, ">")
	}
	return false
}

// Canonical returns text in the form exact duplicates are compared in:
// Unicode NFKC, lower case, every run of white space one space, no leading
// or trailing space.
func Canonical(text string) string {
	if s, ok := canonicalASCII(text); ok {
		return s
	}
	text = norm.NFKC.String(text)
	return strings.Join(strings.FieldsFunc(strings.ToLower(text), unicode.IsSpace), " ")
}

// canonicalASCII is Canonical in one pass for ASCII text (NFKC leaves it
// as it is); ok is false for any other text.
func canonicalASCII(text string) (string, bool) {
	b := make([]byte, 0, len(text))
	space := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= utf8.RuneSelf:
			return "", false
		case c == ' ' || c >= '\t' && c <= '\r':
			space = len(b) > 0
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	return string(b), true
}

// ContentHash is the hex SHA-256 of a report's canonical Text: two reports
// with the same hash say the same thing in the same words, whoever sent
// them and whatever they quoted.
func ContentHash(r *intake.Report) string {
	return hashCanonical(Canonical(Text(r)))
}

func hashCanonical(canon string) string {
	sum := sha256.Sum256([]byte(canon))
	return hex.EncodeToString(sum[:])
}

// Tokens splits canonical text into the words shingles are made of. Tokens
// that differ between two runs of the same crash are masked: hexadecimal
// addresses and offsets become "0x#", long hex strings "#h", and the
// timestamps of a kernel log ("[ 12.345678]") are dropped.
func Tokens(canonical string) []string {
	var toks []string
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		toks = append(toks, maskToken(canonical[start:end]))
		start = -1
	}
	for i, c := range canonical {
		word := c == '_' || c == '.' || c == '/' || c == '-' || unicode.IsLetter(c) || unicode.IsDigit(c)
		if word {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(canonical))
	out := toks[:0]
	for _, t := range toks {
		t = strings.Trim(t, ".-/")
		if t == "" || isTimestamp(t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// maskToken masks the parts of a token that vary between crashes.
func maskToken(t string) string {
	if strings.HasPrefix(t, "0x") && len(t) > 2 && isHex(t[2:]) {
		return "0x#"
	}
	if len(t) >= 8 && isHex(t) && strings.ContainsAny(t, "0123456789") {
		return "#h"
	}
	// func+0x12/0x30 has been split at '+': the offset pair is one token.
	if strings.HasPrefix(t, "0x") && strings.Contains(t, "/0x") {
		return "0x#"
	}
	return t
}

// isTimestamp reports whether t is a kernel log timestamp such as 12.345678.
func isTimestamp(t string) bool {
	dot := strings.IndexByte(t, '.')
	if dot < 1 || len(t)-dot-1 != 6 {
		return false
	}
	for i, c := range t {
		if i != dot && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
