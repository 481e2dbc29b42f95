package advice

import (
	"fmt"
	"io"
	"strings"

	"github.com/secscreen/secscreen/screener/output"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// verdictWords says a verdict for a person.
var verdictWords = map[threatmodel.Verdict]string{
	threatmodel.Security:    "a security bug",
	threatmodel.NotSecurity: "not a security bug",
	threatmodel.NeedsInfo:   "cannot be decided yet",
	threatmodel.Invalid:     "not a bug",
}

// width is the text output's line width.
const width = 78

// WriteText writes the advice for a person. Everything that came from the
// report (subject, names, excerpts) is cleaned of control characters and
// terminal escapes.
func WriteText(w io.Writer, a Advice) error {
	p := &printer{w: w}
	p.wrap("secscreen check: ", orDash(a.Subject))
	p.blank()
	p.field("Verdict", fmt.Sprintf("%s (%s, confidence %.2f)", orDash(verdictWords[a.Verdict]), a.Verdict, a.Confidence))
	if a.Clause.ID != "" {
		p.field("Clause", a.Clause.ID+": "+a.Clause.Title)
		p.field("", a.Clause.Summary)
	}
	if a.Uncertain != "" {
		p.field("Uncertain", a.Uncertain)
	}
	p.blank()

	p.line("What to do")
	p.wrap("  ", a.Headline)
	s := a.Send
	p.field("  Where", s.Where)
	if len(s.To) > 0 {
		p.field("  To", strings.Join(s.To, ", "))
	}
	if len(s.Cc) > 0 {
		p.field("  Cc", strings.Join(s.Cc, ", "))
	}
	if len(s.NotTo) > 0 {
		p.field("  Not to", strings.Join(s.NotTo, ", "))
	}
	for _, sec := range a.Sections {
		if a.Action == DoNotSend {
			break
		}
		by := sec.By
		if sec.Status != "" {
			by += ", " + sec.Status
		}
		p.field("  Section", sec.Name+" ("+by+")")
	}
	for _, n := range s.Notes {
		p.wrap("  - ", n)
	}
	p.blank()

	if len(a.Missing) > 0 {
		var what []string
		for _, m := range a.Missing {
			what = append(what, m.What)
		}
		p.wrap("Missing     ", strings.Join(what, ", "))
		p.blank()
	}
	if len(a.Fixes) > 0 {
		p.line("How to fix the report")
		for i, f := range a.Fixes {
			p.wrap(fmt.Sprintf("  %d. ", i+1), f)
		}
		p.blank()
	}

	p.line("Completeness (the reporting rules: required, then desirable)")
	p.items(a.Completeness)
	p.blank()
	head := "AI-assisted report checklist"
	switch {
	case a.AIAssisted:
		head += " (a tool helped, as the report or you say)"
	case len(a.AIStyle) > 0:
		head += " (the report reads like tool output: " + strings.Join(a.AIStyle, ", ") + ")"
	default:
		head += " (applies if a tool helped)"
	}
	p.line(head)
	p.items(a.AIChecklist)
	if c := a.SourceCheck; c != nil {
		p.blank()
		if len(c.At) == 0 {
			p.field("Source tree", c.Tree+": the report cites nothing to look up")
		} else {
			p.field("Source tree", fmt.Sprintf("%s at %s: %d cited, %d missing", c.Tree, strings.Join(c.At, ", "), len(c.Cited), len(c.Missing)))
		}
		for _, n := range c.Notes {
			p.wrap("  - ", n)
		}
	}
	return p.err
}

// items prints a checklist, one item per line: status, what, detail.
func (p *printer) items(items []Item) {
	for _, it := range items {
		text := it.What
		if it.Detail != "" {
			text += ": " + it.Detail
		}
		p.wrap(fmt.Sprintf("  %-10s", "["+string(it.Status)+"]"), text)
	}
}

// printer writes cleaned, wrapped lines and keeps the first error.
type printer struct {
	w   io.Writer
	err error
}

// line prints s as it is: callers clean what came from a report (wrap
// does).
func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, strings.TrimRight(s, " "))
	}
}

func (p *printer) blank() {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w)
	}
}

// field prints "Name        value", the value wrapped under itself.
func (p *printer) field(name, value string) {
	p.wrap(fmt.Sprintf("%-12s", name), value)
}

// wrap prints text after prefix, wrapped at width, continuation lines
// indented to the prefix's width.
func (p *printer) wrap(prefix, text string) {
	indent := strings.Repeat(" ", len(prefix))
	words := strings.Fields(output.Clean(text))
	cur := prefix
	empty := true
	for _, w := range words {
		if !empty && len(cur)+1+len(w) > width {
			p.line(cur)
			cur, empty = indent, true
		}
		if !empty {
			cur += " "
		}
		cur += w
		empty = false
	}
	p.line(cur)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
