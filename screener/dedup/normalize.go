package dedup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
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
	if !mayHaveSubjectTags(s) {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(subjectTags.ReplaceAllString(s, ""))
}

// mayHaveSubjectTags is a cheap test that subjectTags may match s: past
// the leading white space (\s: tab, line feed, form feed, carriage
// return, space), a match starts with "[", with the first letter of one
// of its prefixes in either case, or with a letter from outside ASCII
// that case folding may bring to one ("ſ" folds to "s").
func mayHaveSubjectTags(s string) bool {
	t := strings.TrimLeft(s, " \t\n\f\r")
	if t == "" {
		return false
	}
	switch lowerASCII[t[0]] {
	case '[', 'r', 'f', 'a', 's':
		return true
	}
	return t[0] >= utf8.RuneSelf
}

// Text returns the part of a report that says what it reports: the subject
// without reply prefixes and tags, the body without quoted lines, the
// attribution lines that introduce them and the signature, and the text
// attachments. Headers (sender, date, ids) are left out: the same report
// sent by two people has the same Text.
func Text(r *intake.Report) string { return text(Subject(r.Subject), r) }

// text is Text with the subject already without its tags.
func text(subject string, r *intake.Report) string {
	n := len(subject) + 1 + len(r.Body)
	for _, a := range r.Attachments {
		n += 1 + len(a.Text)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(subject)
	b.WriteByte('\n')
	writeDequoted(&b, r.Body)
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

// mayAttribute is a cheap test that attribution may match line: a match
// ends the line, but for white space (\s: tab, line feed, form feed,
// carriage return, space), with one of its verbs and a colon. The verbs
// are compared in ASCII lower case, on the letters case folding cannot
// bring from outside ASCII (the long s folds to s, so "schrieb" is
// compared as "chrieb", and "é" of "a écrit" is left out: "crit").
func mayAttribute(line string) bool {
	t := strings.TrimRight(line, " \t\n\f\r")
	if !strings.HasSuffix(t, ":") {
		return false
	}
	t = t[:len(t)-1]
	return hasSuffixLower(t, "wrote") || hasSuffixLower(t, "writes") || hasSuffixLower(t, "chrieb") ||
		hasSuffixLower(t, "crit")
}

// hasSuffixLower reports whether s with its ASCII letters in lower case
// ends with suffix, a lower-case ASCII string.
func hasSuffixLower(s, suffix string) bool {
	return len(s) >= len(suffix) && hasPrefixLower(s[len(s)-len(suffix):], suffix)
}

// hasPrefixLower reports whether s with its ASCII letters in lower case
// starts with prefix, a lower-case ASCII string.
func hasPrefixLower(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lowerByte(s[i]) != prefix[i] {
			return false
		}
	}
	return true
}

// containsLower reports whether s with its ASCII letters in lower case
// contains needle, a lower-case ASCII string, without lowering s.
func containsLower(s, needle string) bool {
	if needle == "" {
		return true
	}
	for i := 0; i+len(needle) <= len(s); i++ {
		if lowerByte(s[i]) == needle[0] && hasPrefixLower(s[i+1:], needle[1:]) {
			return true
		}
	}
	return false
}

// lowerByte is c in lower case if it is an ASCII letter.
func lowerByte(c byte) byte { return lowerASCII[c] }

// lowerASCII maps each byte to itself, but 'A' to 'Z' to 'a' to 'z': a
// lookup costs no branch on mixed-case text.
var lowerASCII = func() (t [256]byte) {
	for c := range t {
		t[c] = byte(c)
		if c >= 'A' && c <= 'Z' {
			t[c] += 'a' - 'A'
		}
	}
	return t
}()

// containsLowerAt is containsLower for long texts: it looks for
// needle[at] with strings.IndexByte (in both cases for a letter) and
// compares the needle around each one found, which is fast when that byte
// is rare in s.
func containsLowerAt(s, needle string, at int) bool {
	c := needle[at]
	for _, b := range [2]byte{c, c &^ 0x20} {
		if b != c && (c < 'a' || c > 'z') {
			break // not a letter: one case
		}
		for i := at; i < len(s); i++ {
			j := strings.IndexByte(s[i:], b)
			if j < 0 {
				break
			}
			i += j
			if hasPrefixLower(s[i-at:], needle) {
				return true
			}
		}
	}
	return false
}

// Dequote drops quoted lines (starting with '>'), the attribution line
// above a quote, and everything from the signature separator ("-- ") on.
func Dequote(body string) string {
	var b strings.Builder
	b.Grow(len(body))
	writeDequoted(&b, body)
	return b.String()
}

// writeDequoted writes Dequote(body) to b, line by line.
func writeDequoted(b *strings.Builder, body string) {
	first := true
	for rest, more := body, true; more; {
		var l string
		l, rest, more = strings.Cut(rest, "\n")
		t := strings.TrimRight(l, "\r")
		if t == "-- " {
			break
		}
		if strings.HasPrefix(strings.TrimLeft(t, " \t"), ">") {
			continue
		}
		if more && mayAttribute(t) && attribution.MatchString(t) && nextQuoted(rest) {
			continue
		}
		if !first {
			b.WriteByte('\n')
		}
		b.WriteString(t)
		first = false
	}
}

// nextQuoted reports whether the first non-blank line of text is a quote.
func nextQuoted(text string) bool {
	for rest, more := text, true; more; {
		var l string
		l, rest, more = strings.Cut(rest, "\n")
		if t := strings.TrimSpace(l); t != "" {
			return strings.HasPrefix(t, ">")
		}
	}
	return false
}

// Canonical returns text in the form exact duplicates are compared in:
// Unicode NFKC, lower case, every run of white space one space, no leading
// or trailing space.
func Canonical(text string) string {
	return string(appendCanonical(nil, text))
}

// appendCanonical appends Canonical(text) to dst.
func appendCanonical(dst []byte, text string) []byte {
	if out, ok := appendCanonicalASCII(dst, text); ok {
		return out
	}
	text = norm.NFKC.String(text)
	return append(dst, strings.Join(strings.FieldsFunc(strings.ToLower(text), unicode.IsSpace), " ")...)
}

// appendCanonicalASCII is appendCanonical in one pass for ASCII text (NFKC
// leaves it as it is); ok is false for any other text, and dst is then
// returned as it was.
func appendCanonicalASCII(dst []byte, text string) ([]byte, bool) {
	out := slices.Grow(dst, len(text))[:len(dst)+len(text)]
	j := len(dst)
	space := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch asciiClass[c] {
		case classOther:
			return dst, false
		case classSpace:
			space = j > len(dst)
			continue
		}
		if space {
			out[j] = ' '
			j++
			space = false
		}
		out[j] = lowerASCII[c]
		j++
	}
	return out[:j], true
}

// The classes of bytes for appendCanonicalASCII.
const (
	classKept  = iota // written, in lower case
	classSpace        // white space: runs become one space
	classOther        // not ASCII
)

var asciiClass = func() (t [256]byte) {
	for c := range t {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = classOther
		case c == ' ' || c >= '\t' && c <= '\r':
			t[c] = classSpace
		}
	}
	return t
}()

// ContentHash is the hex SHA-256 of a report's canonical Text: two reports
// with the same hash say the same thing in the same words, whoever sent
// them and whatever they quoted.
func ContentHash(r *intake.Report) string {
	s := getScratch()
	defer s.put()
	s.canon = appendCanonical(s.canon[:0], Text(r))
	return hashCanonical(s.canon)
}

func hashCanonical(canon []byte) string {
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:])
}

// Tokens splits canonical text into the words shingles are made of. Tokens
// that differ between two runs of the same crash are masked: hexadecimal
// addresses and offsets become "0x#", long hex strings "#h", and the
// timestamps of a kernel log ("[ 12.345678]") are dropped.
func Tokens(canonical string) []string {
	var out []string
	canon := []byte(canonical)
	for w, i := nextToken(canon, 0); w != nil; w, i = nextToken(canon, i) {
		out = append(out, string(w))
	}
	return out
}

// nextToken returns the first token of canonical text from byte i on (see
// Tokens), and where the next one is looked for from; nil when there is
// none. The token is canon's bytes or a mask, never empty.
func nextToken(canon []byte, i int) ([]byte, int) {
	for i < len(canon) {
		// A run of word characters, then the character that ends it.
		start := i
		for i < len(canon) {
			if c := canon[i]; c < utf8.RuneSelf {
				if !wordByte[c] {
					break
				}
				i++
			} else if r, size := utf8.DecodeRune(canon[i:]); isWordRune(r) {
				i += size
			} else {
				break
			}
		}
		w := canon[start:i]
		if i < len(canon) {
			if canon[i] < utf8.RuneSelf {
				i++
			} else {
				_, size := utf8.DecodeRune(canon[i:])
				i += size
			}
		}
		if len(w) > 0 {
			// Masked, trimmed, and kept unless nothing is left or it is
			// a kernel log timestamp.
			if w = trimPunct(maskToken(w)); len(w) > 0 && !isTimestamp(w) {
				return w, i
			}
		}
	}
	return nil, i
}

// wordByte says which ASCII bytes are word characters of a token (see
// isWordRune), so that ASCII text needs no rune decoding.
var wordByte = func() (w [utf8.RuneSelf]bool) {
	for c := range w {
		w[c] = isWordRune(rune(c))
	}
	return w
}()

// isWordRune reports whether c belongs to a token: a letter, a digit, or
// one of "_./-" (paths, versions, symbols stay whole).
func isWordRune(c rune) bool {
	return c == '_' || c == '.' || c == '/' || c == '-' || unicode.IsLetter(c) || unicode.IsDigit(c)
}

// The masks of the tokens that vary between crashes.
var (
	maskAddr = []byte("0x#")
	maskHex  = []byte("#h")
)

// trimPunct is bytes.Trim(t, ".-/").
func trimPunct(t []byte) []byte {
	punct := func(c byte) bool { return c == '.' || c == '-' || c == '/' }
	for len(t) > 0 && punct(t[0]) {
		t = t[1:]
	}
	for len(t) > 0 && punct(t[len(t)-1]) {
		t = t[:len(t)-1]
	}
	return t
}

// maskToken masks the parts of a token that vary between crashes.
func maskToken(t []byte) []byte {
	if bytes.HasPrefix(t, maskAddr[:2]) && len(t) > 2 && isHex(t[2:]) {
		return maskAddr
	}
	if len(t) >= 8 && isHex(t) && bytes.ContainsAny(t, "0123456789") {
		return maskHex
	}
	// func+0x12/0x30 has been split at '+': the offset pair is one token.
	if bytes.HasPrefix(t, maskAddr[:2]) && bytes.Contains(t, []byte("/0x")) {
		return maskAddr
	}
	return t
}

// isTimestamp reports whether t is a kernel log timestamp such as 12.345678.
func isTimestamp(t []byte) bool {
	if len(t) < 8 || t[len(t)-7] != '.' {
		return false // the first '.' is not 6 digits from the end
	}
	dot := bytes.IndexByte(t, '.')
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

// isHex reports whether s is lower-case hexadecimal digits, at least one.
func isHex(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
