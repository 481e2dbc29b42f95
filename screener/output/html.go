package output

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/secscreen/secscreen/screener"
)

//go:embed results.html.tmpl
var resultsHTML string

var htmlPage = template.Must(template.New("results").Funcs(template.FuncMap{
	"label":   label,
	"clean":   Clean,
	"errtext": errText,
	"rules":   func(r screener.Result) string { return strings.Join(ruleIDs(r), ", ") },
	"pct":     func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
}).Parse(resultsHTML))

// htmlWriter writes one self-contained page (no external assets). It uses
// html/template, so everything that came from a report is escaped.
type htmlWriter struct {
	w io.Writer
	collector
}

func (h *htmlWriter) Close(sum screener.Summary) error {
	if err := htmlPage.Execute(h.w, struct {
		Summary screener.Summary
		Results []screener.Result
	}{sum, h.results}); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}
