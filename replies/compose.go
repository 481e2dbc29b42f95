package replies

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/secscreen/secscreen/internal/lazyre"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/advice"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Data is what a template sees. Reporter and Subject come from the report:
// they are cleaned of control characters and shortened, but a template
// that puts them in a header would still be wrong; only the body uses them.
type Data struct {
	// Reporter is the sender's display name ("" when there is none).
	Reporter string
	// Subject is the report's subject, without "Re:" prefixes.
	Subject string
	// Verdict and Category are the decision the reply answers.
	Verdict  threatmodel.Verdict
	Category string
	// Clause is the threat model's clause for Category.
	Clause advice.Clause
	// To and Cc are where the report should go instead, when MAINTAINERS
	// named them.
	To, Cc []string
	// Contacts are the fixed addresses of the reporting rules.
	Contacts advice.Contacts
	// Missing is what a needs-info report lacks; Fixes how to improve it.
	Missing []advice.Item
	Fixes   []string
	// NotFound lists the cited code the source tree does not have, and
	// CheckedAt where it looked.
	NotFound  []string
	CheckedAt string
}

// Draft is one drafted reply.
type Draft struct {
	// ReportID is the id of the report it answers.
	ReportID string
	// Verdict and Category are the decision it answers.
	Verdict  threatmodel.Verdict
	Category string
	// File is the file name WriteDir uses.
	File string
	// Message is the whole email: headers, a blank line, the body.
	Message []byte
	// Notes say what could not be done (an unreadable reporter address
	// leaves To empty; no Message-ID leaves the reply unthreaded).
	Notes []string
}

// Skip says why a result gets no drafted reply, or "" when it gets one:
// error rows, security bugs, and reports that a voter says are security
// bugs (held private: a person decides) are not answered by a draft.
func Skip(res screener.Result) string {
	switch {
	case res.Failed():
		return "not screened"
	case res.Verdict == threatmodel.Security:
		return "a security bug: answered by people, not by a draft"
	case slices.Contains(res.ReviewFlags, screener.FlagHeldPrivate):
		return "held private: part of the screening says it is a security bug"
	case res.Verdict == "":
		return "no verdict"
	}
	return ""
}

// Options configure Compose.
type Options struct {
	// Template is the wording; nil means the latest built-in.
	Template *Template
	// Now is the reply's date; zero means time.Now().
	Now time.Time
}

// maxSubjectRunes bounds the subject kept from a report.
const maxSubjectRunes = 160

// Compose drafts the reply to one screened report from the advice about it
// (advice.Build). It fails for a result Skip refuses.
func Compose(res screener.Result, a advice.Advice, opt Options) (Draft, error) {
	if why := Skip(res); why != "" {
		return Draft{}, fmt.Errorf("no reply for %s: %s", res.ID, why)
	}
	t := opt.Template
	if t == nil {
		var err error
		if t, err = Load(""); err != nil {
			return Draft{}, err
		}
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	d := Draft{ReportID: res.ID, Verdict: res.Verdict, Category: res.Category}

	data := Data{
		Subject: shorten(stripReplyPrefixes(cleanText(res.Subject)), maxSubjectRunes),
		Verdict: res.Verdict, Category: res.Category, Clause: a.Clause,
		To: a.Send.To, Cc: a.Send.Cc, Missing: a.Missing, Fixes: a.Fixes,
		Contacts: advice.KernelContacts(),
	}
	to, toOK := reporterAddress(res.From)
	if toOK {
		data.Reporter = to.Name
	} else {
		d.Notes = append(d.Notes, "the reporter's address could not be read: To is left empty")
	}
	if c := a.SourceCheck; c != nil && len(c.Missing) > 0 {
		for _, m := range c.Missing {
			data.NotFound = append(data.NotFound, cleanText(m.String()))
		}
		data.CheckedAt = strings.Join(c.At, ", ")
	}

	body, ok, err := t.block(res.Category, data)
	if err == nil && !ok {
		body, ok, err = t.block(string(res.Verdict), data)
	}
	if err != nil {
		return Draft{}, err
	}
	if !ok {
		return Draft{}, fmt.Errorf("reply template %s has no block for %s or %s", t.ID(), res.Category, res.Verdict)
	}
	fromText, _, err := t.block("from", data)
	if err != nil {
		return Draft{}, err
	}
	from, err := mail.ParseAddress(strings.TrimSpace(fromText))
	if err != nil {
		return Draft{}, fmt.Errorf("reply template %s: from %q: %w", t.ID(), strings.TrimSpace(fromText), err)
	}
	var cc []*mail.Address
	if ccText, ok, err := t.block("cc", data); err != nil {
		return Draft{}, err
	} else if ok && strings.TrimSpace(ccText) != "" {
		if cc, err = mail.ParseAddressList(strings.TrimSpace(ccText)); err != nil {
			return Draft{}, fmt.Errorf("reply template %s: cc: %w", t.ID(), err)
		}
	}

	var h headers
	h.add("From", from.String())
	if toOK {
		h.add("To", to.String())
	}
	if len(cc) > 0 {
		list := make([]string, len(cc))
		for i, c := range cc {
			list[i] = c.String()
		}
		h.add("Cc", strings.Join(list, ", "))
	}
	h.add("Subject", encodeWords("Re: "+data.Subject))
	h.add("Date", now.Format(time.RFC1123Z))
	h.add("Message-ID", "<"+replyID(res.ID, res.Category, t.ID(), from.Address)+">")
	var parentID string
	var parentRefs []string
	if r := res.Report(); r != nil {
		parentID, parentRefs = r.MessageID, r.References
	}
	if parent, ok := msgID(parentID); ok {
		refs := []string{}
		for _, ref := range parentRefs {
			if id, ok := msgID(ref); ok && id != parent && !slices.Contains(refs, id) {
				refs = append(refs, id)
			}
		}
		if len(refs) > maxReferences-1 {
			refs = append(refs[:1], refs[len(refs)-(maxReferences-2):]...)
		}
		refs = append(refs, parent)
		h.add("In-Reply-To", "<"+parent+">")
		h.add("References", "<"+strings.Join(refs, "> <")+">")
	} else {
		d.Notes = append(d.Notes, "the report has no usable Message-ID: the reply is not threaded")
	}
	h.add("MIME-Version", "1.0")
	h.add("Content-Type", "text/plain; charset=utf-8")

	text := wrapBody(tidy(body), 72)
	enc := "7bit"
	for _, r := range text {
		if r >= utf8.RuneSelf {
			enc = "8bit"
			break
		}
	}
	var msg bytes.Buffer
	if longestLine(text) > 900 {
		enc = "quoted-printable"
	}
	h.add("Content-Transfer-Encoding", enc)
	msg.WriteString(h.String())
	msg.WriteString("\n")
	if enc == "quoted-printable" {
		w := quotedprintable.NewWriter(&msg)
		_, _ = w.Write([]byte(text))
		_ = w.Close()
	} else {
		msg.WriteString(text)
	}
	d.Message = msg.Bytes()
	d.File = FileName(res.ID)
	return d, nil
}

// maxReferences bounds the References header (the first and the latest
// ids are kept, as RFC 5322 suggests when trimming).
const maxReferences = 12

// WriteDir writes the draft into dir (created, readable only by its
// owner, like the drafts: they may quote an embargoed report) and returns
// the file's path.
func WriteDir(dir string, d Draft) (string, error) {
	if d.File == "" || strings.ContainsAny(d.File, `/\`) || strings.HasPrefix(d.File, ".") {
		return "", errors.New("write reply: bad file name")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("write reply: %w", err)
	}
	path := filepath.Join(dir, d.File)
	if err := os.WriteFile(path, d.Message, 0o600); err != nil {
		return "", fmt.Errorf("write reply: %w", err)
	}
	return path, nil
}

var reUnsafeName = lazyre.New(`[^A-Za-z0-9._@+-]+`)

// FileName is a safe, stable file name for the reply to report id: its
// readable characters and a hash of the whole id, so that two ids never
// share a file and no id can name a path.
func FileName(id string) string {
	sum := sha256.Sum256([]byte(id))
	base := strings.Trim(reUnsafeName.ReplaceAllString(id, "_"), "._-")
	if len(base) > 60 {
		base = base[:60]
	}
	if base == "" {
		base = "report"
	}
	return "reply-" + base + "-" + hex.EncodeToString(sum[:4]) + ".eml"
}

// headers builds a header block; every value is checked to hold no line
// break or other control character (folding adds its own).
type headers struct{ lines []string }

func (h *headers) add(name, value string) {
	value = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, value)
	h.lines = append(h.lines, fold(name+": "+value, 78))
}

func (h *headers) String() string { return strings.Join(h.lines, "\n") + "\n" }

// fold breaks a header line at spaces so that lines stay under width where
// a space allows it; continuation lines start with a space.
func fold(line string, width int) string {
	if len(line) <= width {
		return line
	}
	var b strings.Builder
	cur := 0
	for i, w := range strings.Split(line, " ") {
		if i > 0 {
			if cur+1+len(w) > width && cur > 0 {
				b.WriteString("\n ")
				cur = 1
			} else {
				b.WriteByte(' ')
				cur++
			}
		}
		b.WriteString(w)
		cur += len(w)
	}
	return b.String()
}

// encodeWords writes a header text as RFC 2047 encoded words when it is not
// printable ASCII.
func encodeWords(s string) string {
	for _, r := range s {
		if r >= utf8.RuneSelf || r < ' ' {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	return s
}

// cleanText replaces control characters (CR and LF included) and runs of
// white space with one space.
func cleanText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

var reReplyPrefix = lazyre.New(`(?i)^(?:(?:re|aw|sv|antw)\s*(?:\[\d+\])?\s*:\s*)+`)

func stripReplyPrefixes(s string) string {
	return strings.TrimSpace(reReplyPrefix.ReplaceAllString(s, ""))
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// reMsgID is an RFC 5322 msg-id's inside, in its common dot-atom form.
var reMsgID = lazyre.New(`^[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~.-]{1,200}@[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~.\[\]:-]{1,120}$`)

// msgID returns id, without angle brackets, when it is a usable message id.
func msgID(id string) (string, bool) {
	id = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">"))
	return id, reMsgID.MatchString(id)
}

// reAddr is a plain addr-spec, checked before it is written back.
var reAddr = lazyre.New(`^[A-Za-z0-9!#$%&'*+/=?^_` + "`" + `{|}~.-]{1,64}@[A-Za-z0-9.-]{1,253}$`)

// reporterAddress parses the report's From for the reply's To.
func reporterAddress(from string) (*mail.Address, bool) {
	a, err := mail.ParseAddress(strings.TrimSpace(from))
	if err != nil || !reAddr.MatchString(a.Address) {
		return nil, false
	}
	return &mail.Address{Name: shorten(cleanText(a.Name), 80), Address: a.Address}, true
}

// replyID is the reply's own Message-ID: stable for one report, decision
// and template, under the sender's domain.
func replyID(reportID, category, template, from string) string {
	sum := sha256.Sum256([]byte(reportID + "\x00" + category + "\x00" + template))
	domain := "secscreen.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	return "secscreen-" + hex.EncodeToString(sum[:10]) + "@" + domain
}

// tidy trims the rendered body: no blank lines at either end, at most one
// blank line in a row, no trailing spaces, a final newline.
func tidy(s string) string {
	var out []string
	blank := true
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n") + "\n"
}

// reListMarker is the start of a list item or an indented line, which
// continuation lines are indented under.
var reListMarker = lazyre.New(`^(\s*(?:[-*]|\d+\.|(?:To|Cc):)?\s*)`)

// wrapBody wraps lines longer than width at spaces, indenting continuation
// lines under the line's text.
func wrapBody(s string, width int) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		nl := strings.HasSuffix(l, "\n")
		l = strings.TrimSuffix(l, "\n")
		if utf8.RuneCountInString(l) <= width {
			b.WriteString(l)
		} else {
			indent := strings.Repeat(" ", utf8.RuneCountInString(reListMarker.FindString(l)))
			cur := 0
			for i, w := range strings.Fields(l) {
				n := utf8.RuneCountInString(w)
				switch {
				case i == 0:
					lead := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
					b.WriteString(lead)
					cur = utf8.RuneCountInString(lead)
				case cur+1+n > width:
					b.WriteString("\n" + indent)
					cur = len(indent)
				default:
					b.WriteByte(' ')
					cur++
				}
				b.WriteString(w)
				cur += n
			}
		}
		if nl {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func longestLine(s string) int {
	m := 0
	for _, l := range strings.Split(s, "\n") {
		m = max(m, len(l))
	}
	return m
}

var reFromLine = lazyre.New(`(?m)^(>*From )`)

// WriteMbox appends the draft to w as one mboxrd message: a "From " line
// with the draft's date, the message with its "From " lines quoted, and a
// blank line.
func WriteMbox(w io.Writer, d Draft, date time.Time) error {
	msg := reFromLine.ReplaceAll(d.Message, []byte(">$1"))
	if !bytes.HasSuffix(msg, []byte("\n")) {
		msg = append(msg, '\n')
	}
	_, err := fmt.Fprintf(w, "From secscreen %s\n%s\n", date.UTC().Format("Mon Jan _2 15:04:05 2006"), msg)
	return err
}
