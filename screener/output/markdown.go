package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/secscreen/secscreen/screener"
)

// markdownWriter writes a summary and a GitHub-flavoured table.
type markdownWriter struct {
	w io.Writer
	collector
}

func (m *markdownWriter) Close(sum screener.Summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# secscreen results\n\n%d inputs: %d screened, %d errors, %d need review (backend: %s).\n\n",
		sum.Inputs, sum.Results, sum.Errors, sum.NeedsReview, mdEscape(sum.Backend))
	b.WriteString("| id | subject | verdict | category | confidence | review | rules |\n|---|---|---|---|---|---|---|\n")
	for _, r := range m.results {
		verdict, category := r.Verdict, r.Category
		if r.Failed() {
			verdict, category = "error", mdEscape(errText(r))
		}
		review := ""
		if r.NeedsReview {
			review = "yes: " + mdEscape(r.ReviewReason)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2f | %s | %s |\n", mdEscape(r.ID), mdEscape(r.Subject),
			verdict, category, r.Confidence, review, mdEscape(strings.Join(ruleIDs(r), ", ")))
	}
	_, err := io.WriteString(m.w, b.String())
	if err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

// mdEscape keeps report text inert inside a Markdown table cell: no
// markup, no HTML, no line breaks, no cell breaks.
func mdEscape(s string) string {
	s = Clean(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '|', '\\', '`', '*', '_', '[', ']', '#', '!', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
