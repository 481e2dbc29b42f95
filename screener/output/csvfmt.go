package output

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/secscreen/secscreen/screener"
)

var csvHeader = []string{"id", "source", "subject", "verdict", "category", "confidence", "route",
	"missing", "rules", "rules_verdict", "rules_category", "model_verdict", "model_category",
	"backend", "decision", "sent_to", "needs_review", "review_reason", "error"}

// csvWriter writes RFC 4180 CSV with a header row, one row per result.
type csvWriter struct {
	w      *csv.Writer
	header bool
}

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{w: csv.NewWriter(w)} }

func (c *csvWriter) Write(r screener.Result) error {
	if !c.header {
		c.header = true
		if err := c.w.Write(csvHeader); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	var mv, mc string
	if r.Model != nil {
		mv, mc = string(r.Model.Verdict), r.Model.Category
	}
	row := []string{r.ID, r.Source, csvSafe(r.Subject), string(r.Verdict), r.Category,
		strconv.FormatFloat(r.Confidence, 'f', 3, 64), r.Route,
		strings.Join(r.Missing, ";"), strings.Join(ruleIDs(r), ";"),
		string(r.RulesVerdict.Verdict), r.RulesVerdict.Category, mv, mc,
		r.Backend, string(r.Decision), r.SentTo, strconv.FormatBool(r.NeedsReview), r.ReviewReason, csvSafe(errText(r))}
	if err := c.w.Write(row); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	c.w.Flush()
	return c.w.Error()
}

func (c *csvWriter) Close(screener.Summary) error {
	if !c.header { // an empty run still gets its header
		if err := c.w.Write(csvHeader); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	c.w.Flush()
	return c.w.Error()
}

// csvSafe defuses spreadsheet formulas in text that came from a report: a
// cell starting with = + - @ is prefixed with a quote.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
