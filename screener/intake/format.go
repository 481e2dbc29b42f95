package intake

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/secscreen/secscreen/internal/enum"
)

// Format is the kind of an input. Intake detects it from the content, never
// from the file name; Options.Format overrides the detection.
type Format string

// The input formats intake reads.
const (
	// FormatAuto detects the format of each input from its first bytes.
	FormatAuto Format = "auto"
	// FormatEmail is one RFC 5322 message (an .eml file).
	FormatEmail Format = "email"
	// FormatMbox is an mbox file (mboxo or mboxrd) holding many messages.
	FormatMbox Format = "mbox"
	// FormatMaildir is a Maildir directory (cur/ and new/).
	FormatMaildir Format = "maildir"
	// FormatJSONL is one JSON object per line, each a report.
	FormatJSONL Format = "jsonl"
	// FormatText is a plain-text file that is one report.
	FormatText Format = "text"
	// FormatPublicInbox is a public-inbox repository (git, one message
	// per commit), as lore.kernel.org's mirrors keep them.
	FormatPublicInbox Format = "public-inbox"
)

// formats parses input format names, in any letter case.
var formats = enum.Set[Format]{
	What:   "input format",
	Values: []Format{FormatAuto, FormatEmail, FormatMbox, FormatMaildir, FormatJSONL, FormatText, FormatPublicInbox},
	Aliases: map[string]Format{
		"": FormatAuto, "eml": FormatEmail, "mail": FormatEmail, "rfc5322": FormatEmail, "rfc822": FormatEmail,
		"mboxo": FormatMbox, "mboxrd": FormatMbox, "ndjson": FormatJSONL, "json": FormatJSONL,
		"txt": FormatText, "plain": FormatText, "publicinbox": FormatPublicInbox, "lore": FormatPublicInbox,
	},
	FoldCase: true,
}

// ParseFormat turns a user-given name into a Format. It accepts the Format
// values case-insensitively, "" for auto, and the aliases "eml", "mail",
// "txt" and "json".
func ParseFormat(s string) (Format, error) { return formats.Parse(s) }

// sniffBytes is how much of an input detection looks at.
const sniffBytes = 16 << 10

// sniffResult is what detection found in the first bytes of an input.
type sniffResult int

const (
	sniffEmpty sniffResult = iota
	sniffBinary
	sniffGzip
	sniffFormat
)

// detect decides the format of an input from its first bytes. complete
// says head is the whole input. It returns sniffEmpty for inputs holding
// only white space, sniffBinary for content that is not text, sniffGzip for
// gzip data, and otherwise sniffFormat with the format.
func detect(head []byte, complete bool) (sniffResult, Format) {
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		return sniffGzip, ""
	}
	trimmed := bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	trimmed = bytes.TrimLeft(trimmed, "\r\n")
	if len(bytes.TrimSpace(trimmed)) == 0 {
		if complete || len(head) == 0 {
			return sniffEmpty, ""
		}
		return sniffFormat, FormatText
	}
	if !looksLikeText(head) {
		return sniffBinary, ""
	}
	switch {
	case looksLikeMbox(trimmed):
		return sniffFormat, FormatMbox
	case looksLikeJSONL(trimmed):
		return sniffFormat, FormatJSONL
	case looksLikeEmail(trimmed):
		return sniffFormat, FormatEmail
	}
	return sniffFormat, FormatText
}

// looksLikeText reports whether b is text: no NUL bytes and few control
// characters. Invalid UTF-8 still counts as text (it is read as
// windows-1252), since old mail and logs are full of it.
func looksLikeText(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	control := 0
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b {
			control++
		}
	}
	// Allow a little noise (stray escape codes in logs), not more.
	return control*100 <= len(b)*2
}

// firstLine returns b up to the first line break, without it, and whether a
// line break was found.
func firstLine(b []byte) ([]byte, bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, false
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), true
}

// looksLikeMbox reports whether b opens with an mbox "From " separator line
// followed by a header field.
func looksLikeMbox(b []byte) bool {
	line, ok := firstLine(b)
	if !ok || !bytes.HasPrefix(line, []byte("From ")) || len(bytes.Fields(line)) < 2 {
		return false
	}
	rest := b[len(line):]
	rest = bytes.TrimLeft(rest, "\r\n")
	next, _ := firstLine(rest)
	return isHeaderField(next)
}

// looksLikeJSONL reports whether b's first line is a JSON object, or at
// least starts like one when the line runs past what was sniffed.
func looksLikeJSONL(b []byte) bool {
	if b[0] != '{' {
		return false
	}
	line, complete := firstLine(b)
	if !complete && len(b) >= sniffBytes-1 {
		return true
	}
	var v map[string]json.RawMessage
	return json.Unmarshal(line, &v) == nil
}

// mailHeader reports the header names (lower case) whose presence makes a
// header-like block an email rather than text that happens to start with
// "Word: ".
func mailHeader(name string) bool {
	switch name {
	case "from", "to", "cc", "subject", "date",
		"message-id", "received", "return-path",
		"mime-version", "content-type", "delivered-to",
		"in-reply-to", "references", "reply-to", "sender",
		"list-id", "dkim-signature", "x-mailer",
		"user-agent", "content-transfer-encoding":
		return true
	}
	return false
}

// looksLikeEmail reports whether b opens with an RFC 5322 header block: every
// line up to the first empty one (or the end of what was sniffed) is a header
// field or a folded continuation, and at least one names a mail header.
func looksLikeEmail(b []byte) bool {
	known := false
	first := true
	for len(b) > 0 {
		line, complete := firstLine(b)
		if complete {
			b = b[bytes.IndexByte(b, '\n')+1:]
		} else {
			b = nil
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if first {
				return false
			}
			continue
		}
		if !complete {
			break // cut off by the sniff window; judge by what was seen
		}
		if !isHeaderField(line) {
			return false
		}
		first = false
		name, _, _ := bytes.Cut(line, []byte(":"))
		if mailHeader(strings.ToLower(string(name))) {
			known = true
		}
	}
	return known
}

// isHeaderField reports whether line is "Name: value" with a valid field
// name (printable ASCII other than ':' and space).
func isHeaderField(line []byte) bool {
	name, _, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 || len(name) > 76 {
		return false
	}
	for _, c := range name {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return utf8.Valid(name)
}
