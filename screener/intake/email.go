package intake

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"

	"github.com/secscreen/secscreen/screener/intake/charset"
)

// go-message converts the bodies of text/* parts and the encoded words of
// headers to UTF-8 through message.CharsetReader (UTF-8 and US-ASCII it
// reads itself). charset.Reader knows the charsets (ISO-8859-*,
// windows-125x, KOI8-R, Shift_JIS, GB18030, ...) that go-message's own
// charset package did, without linking golang.org/x/text's name indexes,
// whose maps that package's imports built at every start.
func init() {
	message.CharsetReader = charset.Reader
}

// parseEmail decodes one RFC 5322 message into r, which already carries
// Source and Hash. Broken MIME degrades: what can be read is kept and the
// problem is noted in r.Notes. It fails only when nothing usable is left.
func parseEmail(data []byte, r *Report, lim Limits) error {
	r.Format = FormatEmail
	p := &partWalker{lim: lim, r: r}
	return p.message(data)
}

// message decodes data as a message into p.r.
func (p *partWalker) message(data []byte) error {
	r := p.r
	// A BOM or blank lines before the header block come from editors and
	// copy-paste; the header block starts at the first real line.
	data = bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), "\r\n")
	data = skipFromLine(data)
	rd := bytes.NewReader(data)
	br := headerReaders.Get().(*bufio.Reader)
	br.Reset(rd)
	th, err := textproto.ReadHeader(br)
	consumed := len(data) - rd.Len() - br.Buffered()
	br.Reset(nil)
	headerReaders.Put(br)
	if err != nil {
		// Not even a header block: keep the message as plain text.
		r.note("header block unreadable (%v); kept the message as plain text", err)
		return parseText(data, r)
	}
	body := data[consumed:]
	h := mail.Header{Header: message.Header{Header: th}}

	readHeaders(h, r)

	saved := p.bestEffort
	defer func() { p.bestEffort = saved }()
	ent, err := message.New(h.Header, bytes.NewReader(body))
	if err != nil {
		if ent == nil {
			r.note("message body unreadable: %v", err)
			ent = &message.Entity{Header: h.Header, Body: bytes.NewReader(body)}
		} else {
			r.note("%s; decoded as best effort", describeEntityErr(ent, err))
			p.bestEffort = true
		}
	}
	attachments := len(r.Attachments)
	res := p.entity(ent, 0, 1)
	if strings.TrimSpace(res.body) == "" && len(r.Attachments) == attachments && len(bytes.TrimSpace(body)) > 0 {
		// Decoding found nothing: fall back to the raw body.
		raw := body
		if len(raw) > int(p.lim.MaxMessageBytes) {
			raw = raw[:p.lim.MaxMessageBytes]
		}
		text, fallback := decodeText(raw)
		if fallback {
			r.note("raw body is not UTF-8; decoded as windows-1252")
		}
		r.note("no readable MIME part; kept the raw body as text")
		res.body = text
	}
	r.Body = normalizeNewlines(res.body)
	if r.Subject == "" && strings.TrimSpace(r.Body) == "" && len(r.Attachments) == 0 && r.MessageID == "" && r.From == "" {
		return errors.New("message has no subject, sender, body or attachments")
	}
	return nil
}

// headerReaders hold the buffers header blocks are read through, reused
// from one message to the next.
var headerReaders = sync.Pool{New: func() any { return bufio.NewReader(nil) }}

// skipFromLine drops an mbox "From " separator line that opens a single
// message (a saved .eml, a git format-patch file, a JSONL "raw" value).
func skipFromLine(data []byte) []byte {
	if !bytes.HasPrefix(data, []byte("From ")) {
		return data
	}
	line, ok := firstLine(data)
	if !ok || isHeaderField(line) {
		return data
	}
	return data[bytes.IndexByte(data, '\n')+1:]
}

// readHeaders fills the header-derived fields of r. Each header that fails
// to decode falls back to its raw value, with a note.
func readHeaders(h mail.Header, r *Report) {
	subj, err := h.Subject()
	if err != nil {
		r.note("Subject: %v; kept undecoded", err)
		subj = h.Get("Subject")
	}
	r.Subject = oneLine(subj)
	from, err := h.Text("From")
	if err != nil {
		r.note("From: %v; kept undecoded", err)
		from = h.Get("From")
	}
	r.From = oneLine(from)
	if h.Has("Date") {
		if d, err := parseDate(h); err == nil {
			r.Date = d
		} else {
			r.note("Date %q unparseable; left zero", h.Get("Date"))
		}
	}
	if id, err := h.MessageID(); err == nil {
		r.MessageID = id
	} else {
		r.MessageID = looseMsgID(h.Get("Message-Id"))
	}
	if ids := msgIDList(h, "In-Reply-To"); len(ids) > 0 {
		r.InReplyTo = ids[0]
	}
	r.References = msgIDList(h, "References")
	for f := h.Fields(); f.Next(); {
		if !decodedHeader(f.Key()) && !strings.HasPrefix(f.Key(), "Arc-") {
			r.Hidden = append(r.Hidden, Part{Name: "header:" + f.Key(), Text: oneLine(decodeWords(f.Value()))})
		}
	}
}

// commonDate is the layout most mailers write the Date header in.
const commonDate = "Mon, 2 Jan 2006 15:04:05 -0700"

// parseDate is h.Date(), which is net/mail.ParseDate: that tries its
// layouts in order and fails through the 24 without a day of the week
// (an error value each) before commonDate. A date commonDate reads whole
// is one every earlier layout rejects (they start with a digit, it with a
// letter), so reading it first gives the same time, without the errors.
func parseDate(h mail.Header) (time.Time, error) {
	if t, err := time.Parse(commonDate, h.Get("Date")); err == nil {
		return t, nil
	}
	return h.Date()
}

// decodedHeader reports the header fields that readHeaders decodes into a
// Report's fields, or that describe transport and MIME structure rather
// than carry a sender's text; the others are kept in Report.Hidden. (A
// switch, not a map: nothing to build at start.)
func decodedHeader(key string) bool {
	switch key {
	case "Subject", "From", "Date", "Message-Id", "In-Reply-To", "References",
		"Mime-Version", "Content-Type", "Content-Transfer-Encoding",
		"Received", "Return-Path", "Dkim-Signature", "Authentication-Results", "Received-Spf":
		return true
	}
	return false
}

// msgIDList parses a list of message ids, falling back to splitting on
// white space when the strict parser fails.
func msgIDList(h mail.Header, key string) []string {
	ids, err := h.MsgIDList(key)
	if err == nil {
		return ids
	}
	var out []string
	for _, f := range strings.Fields(h.Get(key)) {
		if id := looseMsgID(f); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// looseMsgID trims white space and angle brackets from a malformed id.
func looseMsgID(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	return strings.TrimSpace(strings.Trim(s, "<>"))
}

// describeEntityErr words the error go-message returns with a readable
// entity: an unknown charset or transfer encoding.
func describeEntityErr(e *message.Entity, err error) string {
	_, params, _ := e.Header.ContentType()
	switch {
	case message.IsUnknownCharset(err):
		return fmt.Sprintf("unknown charset %q", params["charset"])
	case message.IsUnknownEncoding(err):
		return fmt.Sprintf("unknown Content-Transfer-Encoding %q", e.Header.Get("Content-Transfer-Encoding"))
	}
	return err.Error()
}

// oneLine unfolds a header value into one trimmed line.
func oneLine(s string) string {
	// A header's encoded words can decode to bytes that are not UTF-8
	// ("=?utf-8?B?////?="); they become U+FFFD like any other bad text.
	return strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
}

// bodyKind ranks where a body came from, for multipart/alternative.
type bodyKind int

const (
	bodyNone bodyKind = iota
	bodyEmpty
	bodyHTML
	bodyPlain
)

// rank is r's kind, demoted when its text is blank: some mailers send an
// empty text/plain beside the real HTML.
func (r partResult) rank() bodyKind {
	if r.kind != bodyNone && strings.TrimSpace(r.body) == "" {
		return bodyEmpty
	}
	return r.kind
}

// partResult is what walking one entity produced.
type partResult struct {
	body string
	kind bodyKind
}

// partWalker walks a MIME tree, filling the Report's attachments and notes.
type partWalker struct {
	lim        Limits
	r          *Report
	parts      int
	depth      int // message/rfc822 nesting
	bestEffort bool
	overParts  bool
}

// maxDepth bounds multipart nesting.
const maxDepth = 32

// entity walks one entity. index is its 1-based position in its parent,
// used to name unnamed attachments.
func (p *partWalker) entity(e *message.Entity, depth, index int) partResult {
	p.parts++
	if p.parts > p.lim.MaxParts {
		if !p.overParts {
			p.overParts = true
			p.r.note("message has more than %d MIME parts (MaxParts); the rest were not decoded", p.lim.MaxParts)
		}
		return partResult{}
	}
	mt, params, err := e.Header.ContentType()
	converted := err == nil // go-message applied the charset of text/*
	if err != nil {
		raw := e.Header.Get("Content-Type")
		mt, params = lenientParams(raw)
		if mt == "" || !strings.Contains(mt, "/") {
			mt = "text/plain"
		}
		p.r.note("Content-Type %q is malformed; read as %s", raw, mt)
	}
	if params == nil {
		params = map[string]string{}
	}
	if mr := e.MultipartReader(); mr != nil {
		if depth >= maxDepth {
			p.r.note("multipart nesting deeper than %d; inner parts skipped", maxDepth)
			return partResult{}
		}
		return p.multipart(mr, mt, depth)
	}
	return p.leaf(e, mt, params, index, converted)
}

// multipart walks a multipart entity. For multipart/alternative it keeps
// the best body (text/plain, else HTML as text); otherwise bodies of inline
// text parts are joined in order.
func (p *partWalker) multipart(mr message.MultipartReader, mt string, depth int) partResult {
	defer mr.Close()
	alt := mt == "multipart/alternative"
	var res partResult
	n := 0
	for {
		part, err := mr.NextPart()
		if err != nil && part == nil {
			if !errors.Is(err, io.EOF) && n > 0 {
				p.r.note("%s broken after %d part(s): %v", mt, n, err)
			}
			break
		}
		if err != nil {
			p.r.note("part %d: %s; decoded as best effort", n+1, describeEntityErr(part, err))
		}
		n++
		sub := p.entity(part, depth+1, n)
		switch {
		case sub.kind == bodyNone:
		case alt:
			if sub.rank() > res.rank() {
				res = sub
			}
		case res.body == "":
			res = sub
		default:
			res.body = strings.TrimRight(res.body, "\n") + "\n\n" + sub.body
		}
	}
	if n == 0 {
		p.r.note("%s holds no readable part (bad or missing boundary?)", mt)
	}
	return res
}

// leaf reads a single-part entity as the body or as an attachment.
func (p *partWalker) leaf(e *message.Entity, mt string, params map[string]string, index int, converted bool) partResult {
	disp, dparams, err := e.Header.ContentDisposition()
	if err != nil && e.Header.Has("Content-Disposition") {
		disp, dparams = lenientParams(e.Header.Get("Content-Disposition"))
	}
	name := decodeWords(dparams["filename"])
	if name == "" {
		name = decodeWords(params["name"])
	}
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" {
		name = ""
	}
	isBody := disp != "attachment" && name == "" &&
		(mt == "text/plain" || mt == "text/html" || mt == "")

	// Body text may be as long as a message; kept attachment text is
	// bounded more tightly. Either way the message itself is bounded.
	limit, limitName := p.lim.MaxAttachmentBytes, "MaxAttachmentBytes"
	if isBody {
		limit, limitName = p.lim.MaxMessageBytes, "MaxMessageBytes"
	}
	buf := partBuffers.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= maxKeptPart {
			partBuffers.Put(buf)
		}
	}()
	data, size, readErr := readUpTo(e.Body, limit, (*buf)[:0])
	*buf = data
	if readErr != nil {
		p.r.note("part %d (%s): read stopped early: %v", index, mt, readErr)
	}
	truncated := size > int64(len(data))

	// go-message converts text/* with a known charset when it could parse
	// the Content-Type. Other cases that name a charset are converted
	// here; unknown charsets fall back to decodeText.
	cs := strings.ToLower(params["charset"])
	done := converted && strings.HasPrefix(mt, "text/")
	if cs != "" && !done && cs != "utf-8" && cs != "us-ascii" {
		if conv, err := charset.Reader(cs, bytes.NewReader(data)); err == nil {
			if out, err := io.ReadAll(conv); err == nil {
				data = out
			}
		}
	}

	if isBody {
		text, fallback := decodeText(data)
		if fallback && !p.bestEffort {
			p.r.note("body part %d is not valid UTF-8; decoded as windows-1252", index)
		}
		if truncated {
			p.r.note("body part %d is %d bytes; kept the first %d (%s)", index, size, limit, limitName)
		}
		if mt == "text/html" {
			for _, c := range htmlComments(text) {
				p.r.Hidden = append(p.r.Hidden, Part{Name: "html-comment", Text: c})
			}
			return partResult{body: htmlToText(text), kind: bodyHTML}
		}
		return partResult{body: text, kind: bodyPlain}
	}

	if name == "" {
		name = fmt.Sprintf("part%d%s", index, extensionFor(mt))
	}
	a := Attachment{Name: name, ContentType: mt, Size: size}
	if mt == "message/rfc822" && !truncated {
		// A forwarded message: keep it readable, decoded like the outer one.
		// It goes in first so that its own attachments follow it.
		idx := len(p.r.Attachments)
		p.r.Attachments = append(p.r.Attachments, a)
		text := p.forwarded(data)
		p.r.Attachments[idx].Text = text
		return partResult{}
	}
	if isTextAttachment(mt, name, data) {
		text, _ := decodeText(data)
		a.Text = normalizeNewlines(text)
		if truncated {
			a.Truncated = true
			p.r.note("attachment %q is %d bytes; kept the first %d (MaxAttachmentBytes)", name, size, limit)
		}
	} else {
		a.Binary = true
	}
	p.r.Attachments = append(p.r.Attachments, a)
	return partResult{}
}

// forwarded decodes an attached message/rfc822 into text: its main
// headers, a blank line and its body. Its own attachments join the outer
// report's, after it.
func (p *partWalker) forwarded(data []byte) string {
	inner := &Report{}
	if p.depth >= maxDepth {
		text, _ := decodeText(data)
		return normalizeNewlines(text)
	}
	saved := p.r
	p.r = inner
	p.depth++
	err := p.message(data)
	p.depth--
	p.r = saved
	if err != nil {
		text, _ := decodeText(data)
		return normalizeNewlines(text)
	}
	var b strings.Builder
	for _, h := range [][2]string{{"From", inner.From}, {"Subject", inner.Subject}, {"Message-ID", inner.MessageID}} {
		if h[1] != "" {
			fmt.Fprintf(&b, "%s: %s\n", h[0], h[1])
		}
	}
	if !inner.Date.IsZero() {
		fmt.Fprintf(&b, "Date: %s\n", inner.Date.Format(time.RFC1123Z))
	}
	b.WriteString("\n")
	b.WriteString(inner.Body)
	for _, n := range inner.Notes {
		p.r.note("forwarded message: %s", n)
	}
	p.r.Attachments = append(p.r.Attachments, inner.Attachments...)
	p.r.Hidden = append(p.r.Hidden, inner.Hidden...)
	return b.String()
}

// lenientParams reads a malformed "value; key=val; ..." header field as
// well as it can: the standard parser first (it returns the value even when
// a parameter is bad), then a plain split on ';' and '='. Keys are
// lower-cased, quotes around values dropped.
func lenientParams(raw string) (string, map[string]string) {
	v, params, err := mime.ParseMediaType(raw)
	if err == nil {
		return v, params
	}
	fields := strings.Split(raw, ";")
	if v == "" {
		v = strings.ToLower(strings.TrimSpace(fields[0]))
	}
	params = map[string]string{}
	for _, f := range fields[1:] {
		k, val, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if k != "" {
			params[k] = strings.Trim(strings.TrimSpace(val), `"'`)
		}
	}
	return v, params
}

// partBuffers hold the buffers a part's bytes are read into: what a part
// keeps (its text, an attachment's) is converted to strings, so the buffer
// serves the next part. A forwarded message's parts, read while its own
// bytes are in use, take other buffers.
var partBuffers = sync.Pool{New: func() any { return new([]byte) }}

// maxKeptPart bounds the buffers kept for the next part.
const maxKeptPart = 1 << 20

// readUpTo reads at most limit bytes of r and counts (by discarding) the
// rest, returning the kept bytes, the total size and any read error. The
// bytes go into buf's room when they fit in it; a longer part is read on
// with io.ReadAll (which grows in chunks and copies once), so that a large
// part costs no more than it did before buf was reused.
func readUpTo(r io.Reader, limit int64, buf []byte) ([]byte, int64, error) {
	lr := io.LimitReader(r, limit)
	n := 0
	var err error
	for n < cap(buf) && err == nil {
		var k int
		k, err = lr.Read(buf[n:cap(buf)])
		n += k
	}
	data := buf[:n]
	switch {
	case err == io.EOF: //nolint:errorlint // io.ReadAll's test: Read returns io.EOF itself
		err = nil
	case err == nil: // buf is full: read on
		data, err = io.ReadAll(io.MultiReader(bytes.NewReader(data), lr))
	}
	if err != nil {
		return data, int64(len(data)), err
	}
	rest, err := io.Copy(io.Discard, r)
	return data, int64(len(data)) + rest, err
}

// decodeWords decodes RFC 2047 encoded words in a parameter value, keeping
// the raw value when decoding fails.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	dec := mime.WordDecoder{CharsetReader: charset.Reader}
	if out, err := dec.DecodeHeader(s); err == nil {
		return out
	}
	return s
}

// extensionFor picks a file extension for an unnamed part.
func extensionFor(mt string) string {
	switch mt {
	case "text/x-diff", "text/x-patch", "application/x-patch", "application/x-diff":
		return ".diff"
	case "text/html":
		return ".html"
	case "message/rfc822":
		return ".eml"
	}
	if strings.HasPrefix(mt, "text/") {
		return ".txt"
	}
	return ".bin"
}

// binaryPrefixes are media type families never read as text.
var binaryPrefixes = []string{"image/", "audio/", "video/", "font/", "model/"}

// binaryType reports the application types that are binary whatever they
// contain.
func binaryType(mt string) bool {
	switch mt {
	case "application/pdf", "application/zip", "application/gzip",
		"application/x-gzip", "application/x-tar", "application/x-xz",
		"application/x-bzip2", "application/x-7z-compressed",
		"application/vnd.ms-excel", "application/msword",
		"application/x-executable", "application/x-sharedlib",
		"application/zstd", "application/x-rar-compressed":
		return true
	}
	return false
}

// isTextAttachment decides whether an attachment is kept as text, by media
// type and name first, then by sniffing the content. Content with NUL bytes
// or many control characters is binary whatever the headers claim.
func isTextAttachment(mt, name string, data []byte) bool {
	sample := data
	if len(sample) > sniffBytes {
		sample = sample[:sniffBytes]
	}
	if !looksLikeText(sample) {
		return false
	}
	if binaryType(mt) {
		return false
	}
	for _, p := range binaryPrefixes {
		if strings.HasPrefix(mt, p) {
			return false
		}
	}
	// text/*, known text types, known text file names, and anything else
	// (application/octet-stream and friends) that sniffed as text.
	return true
}
