package output

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/rules"
)

//go:embed results.html.tmpl
var resultsHTML string

//go:embed triage.js
var triageJS string

//go:embed triage.css
var triageCSS string

// contentSecurityPolicy lets the page run its own script and style, and
// nothing else: no other script (inline or not), no network, no form, no
// frame, no base URL. The script and the style are allowed by their
// SHA-256, so text from a report that somehow became markup still could
// not run. It and the page's template are made on first use: a run that
// writes no page pays nothing for them.
var contentSecurityPolicy = sync.OnceValue(func() string {
	return fmt.Sprintf(
		"default-src 'none'; script-src '%s'; style-src '%s'; img-src 'none'; connect-src 'none'; "+
			"font-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'",
		cspHash(triageJS), cspHash(triageCSS))
})

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var htmlPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("results").Funcs(template.FuncMap{
		"label":   label,
		"clean":   Clean,
		"errtext": errText,
		"pct":     func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"conf":    func(f float64) string { return fmt.Sprintf("%.3f", f) },
		"join":    strings.Join,
	}).Parse(resultsHTML))
})

// Limits of the triage page, so that one huge report cannot make the page
// unusable: each part's text is cut at maxPageText bytes.
const maxPageText = 200 << 10

// htmlWriter writes the triage page: one self-contained file (inline
// style and script, allowed by hash in a Content-Security-Policy; no
// external asset, no network) with a table that sorts and filters by
// verdict, category, review flag, route and confidence, each row
// expanding to the report's text with the rules' spans highlighted, the
// model's rationale, what is missing, the route and the thread's replies.
// It uses html/template, so everything that came from a report is
// escaped; the script reads data attributes and never builds markup.
type htmlWriter struct {
	w    io.Writer
	rows []pageRow
}

// pageRow is what the page shows of one result.
type pageRow struct {
	N       int
	R       screener.Result
	Flags   string // review flags, space-separated, or "none"
	Parts   []pagePart
	Rules   []pageRule
	Replies []string
}

// pagePart is one part of a report's text, cut into highlighted and plain
// segments.
type pagePart struct {
	Name      string
	Segments  []segment
	Truncated bool
}

type segment struct {
	Text  string
	Rules string // the rules whose span covers this text; "" when none
}

type pageRule struct {
	rules.Finding
	Where string
}

func (h *htmlWriter) Write(r screener.Result) error {
	row := pageRow{N: len(h.rows) + 1, Replies: r.Replies, Flags: "none"}
	switch {
	case len(r.ReviewFlags) > 0:
		row.Flags = strings.Join(r.ReviewFlags, " ")
	case r.NeedsReview:
		row.Flags = "review"
	}
	if rep := r.Report(); rep != nil {
		// The injection detector's spans are marked like the rules'.
		marks := slices.Clone(r.Rules)
		for _, sp := range r.Injection {
			marks = append(marks, rules.Finding{RuleID: "injection:" + string(sp.Kind),
				Span: rules.Span{Part: sp.Part, Start: sp.Start, End: sp.End}})
		}
		for _, p := range rep.Parts() {
			row.Parts = append(row.Parts, highlight(p.Name, p.Text, marks))
		}
	}
	for _, f := range r.Rules {
		row.Rules = append(row.Rules, pageRule{f, fmt.Sprintf("%s:%d:%d", f.Span.Part, f.Span.Line, f.Span.Column)})
	}
	r.DropReport() // what the page needs was copied
	row.R = r
	h.rows = append(h.rows, row)
	return nil
}

func (h *htmlWriter) Close(sum screener.Summary) error {
	values := func(get func(pageRow) []string) []string {
		set := map[string]bool{}
		for _, r := range h.rows {
			for _, v := range get(r) {
				if v != "" {
					set[v] = true
				}
			}
		}
		return slices.Sorted(maps.Keys(set))
	}
	data := struct {
		Summary    screener.Summary
		Rows       []pageRow
		CSP        string
		Script     template.JS
		Style      template.CSS
		Verdicts   []string
		Categories []string
		Flags      []string
		Routes     []string
	}{
		Summary: sum, Rows: h.rows, CSP: contentSecurityPolicy(),
		Script: template.JS(triageJS), Style: template.CSS(triageCSS),
		Verdicts:   values(func(r pageRow) []string { return []string{verdictOf(r.R)} }),
		Categories: values(func(r pageRow) []string { return []string{r.R.Category} }),
		Flags:      values(func(r pageRow) []string { return r.R.ReviewFlags }),
		Routes:     values(func(r pageRow) []string { return []string{r.R.Route} }),
	}
	if err := htmlPage().Execute(h.w, data); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

// verdictOf is the verdict, or "error" for an error row.
func verdictOf(r screener.Result) string {
	if r.Failed() {
		return "error"
	}
	return string(r.Verdict)
}

// highlight cuts a part's text into segments, marking the bytes that the
// findings' spans in this part cover with the ids of those rules.
func highlight(name, text string, findings []rules.Finding) pagePart {
	p := pagePart{Name: name}
	if len(text) > maxPageText {
		cut := maxPageText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text, p.Truncated = text[:cut], true
	}
	type edge struct {
		at    int
		rule  string
		start bool
	}
	var edges []edge
	for _, f := range findings {
		s := f.Span
		if s.Part != name || s.Start < 0 || s.End <= s.Start || s.Start >= len(text) {
			continue
		}
		end := min(s.End, len(text))
		edges = append(edges, edge{s.Start, f.RuleID, true}, edge{end, f.RuleID, false})
	}
	if len(edges) == 0 {
		p.Segments = []segment{{Text: text}}
		return p
	}
	sort.SliceStable(edges, func(i, j int) bool { return edges[i].at < edges[j].at })
	active := map[string]int{}
	pos := 0
	emit := func(to int) {
		if to <= pos {
			return
		}
		var ids []string
		for id, n := range active {
			if n > 0 {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		p.Segments = append(p.Segments, segment{Text: text[pos:to], Rules: strings.Join(ids, ", ")})
		pos = to
	}
	for _, e := range edges {
		emit(e.at)
		if e.start {
			active[e.rule]++
		} else {
			active[e.rule]--
		}
	}
	emit(len(text))
	return p
}
