package output

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/secscreen/secscreen/screener"
)

// textWriter prints an aligned table, one row per result as it arrives,
// and the summary at the end.
type textWriter struct {
	w      io.Writer
	opt    Options
	header bool
	err    error
	names  handles
}

func newTextWriter(w io.Writer, opt Options) *textWriter { return &textWriter{w: w, opt: opt} }

const textRow = "%-28s  %-13s  %-28s  %4s  %-6s  %s\n"

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *textWriter) Write(r screener.Result) error {
	if !t.header {
		t.header = true
		t.printf(textRow, "REPORT", "VERDICT", "CATEGORY", "CONF", "REVIEW", "SUBJECT")
	}
	verdict, category, conf, review := r.Verdict, r.Category, fmt.Sprintf("%.2f", r.Confidence), ""
	subject := r.Subject
	if r.Failed() {
		verdict, category, conf = "ERROR", "-", "-"
	}
	if r.NeedsReview {
		review = "yes"
	}
	line := fmt.Sprintf(textRow, t.names.next(r), verdict, category, conf, review, "")
	room := 0
	if t.opt.Width > 0 {
		room = max(t.opt.Width-utf8.RuneCountInString(line)+1, 10)
	}
	t.printf("%s%s\n", strings.TrimSuffix(line, "\n"), clip(Clean(subject), room))
	if r.Failed() { // the reason is the point of an error row: never clipped
		t.printf("    error: %s\n", Clean(errText(r)))
	}
	if t.opt.Verbose {
		t.printf("    source: %s  id: %s\n", Clean(r.Source), Clean(r.ID))
		if r.ReviewReason != "" {
			t.printf("    review: %s\n", Clean(r.ReviewReason))
		}
		if r.Route != "" {
			t.printf("    route: %s\n", Clean(r.Route))
		}
		if c := r.SourceCheck; c != nil && len(c.Cited) > 0 {
			found := "all found"
			if len(c.Missing) > 0 {
				found = "missing: " + c.MissingText()
			}
			t.printf("    source tree: %d cited, %s (%s)\n", len(c.Cited), Clean(found), Clean(strings.Join(c.At, ", ")))
		}
		for _, f := range r.Rules {
			t.printf("    rule %s (%s, %+.1f) at %s:%d:%d: %s\n", f.RuleID, f.Category, f.Weight,
				f.Span.Part, f.Span.Line, f.Span.Column, Clean(f.Excerpt))
		}
	}
	return t.err
}

func (t *textWriter) Close(sum screener.Summary) error {
	if !t.header {
		t.printf("no reports\n")
	}
	return t.err
}

// Handle is a short, stable name for a result's row: the last element of
// its source, which keeps an mbox, Maildir or JSONL position ("inbox.mbox:12",
// "reports.jsonl:3") and a file's name; the id when there is no source.
func Handle(r screener.Result) string {
	if r.Source == "" || r.Source == "-" {
		return r.ID
	}
	return filepath.Base(r.Source)
}

// Clean makes text from a report safe to print on a terminal: ANSI escape
// sequences are dropped, other control characters become spaces, and runs
// of white space fold into one.
func Clean(s string) string {
	var b strings.Builder
	space := false
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == 0x1b && i+1 < len(rs) && rs[i+1] == '[' {
			// Skip a CSI sequence: parameters, then one final byte.
			for i += 2; i < len(rs) && (rs[i] < 0x40 || rs[i] > 0x7e); i++ {
			}
			continue
		}
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// clip shortens s to n runes with an ellipsis (n <= 0: no limit).
func clip(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
