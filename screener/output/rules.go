package output

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
)

// ListedRule is a rule in force as `secscreen rules list` shows it.
type ListedRule struct {
	rules.Rule
	// Fitted is the rule's fitted weight towards its own category (null
	// when no fitted weight applies).
	Fitted *float64 `json:"fitted_weight"`
	// Decisive says whether its fitted record makes it decisive.
	Decisive bool `json:"decisive"`
}

// ListRules returns the rules in force in eng with their fitted weights.
func ListRules(eng *rules.Engine) []ListedRule {
	var list []ListedRule
	for _, r := range eng.Rules() {
		l := ListedRule{Rule: r, Decisive: eng.Decisive(r.ID)}
		if w, ok := eng.FittedWeight(r.ID, r.Category); ok {
			l.Fitted = &w
		}
		list = append(list, l)
	}
	return list
}

// WriteRules writes list as an aligned table: id, category, hand and
// fitted weight, decisive, description.
func WriteRules(w io.Writer, list []ListedRule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCATEGORY\tWEIGHT\tFITTED\tDECISIVE\tDESCRIPTION")
	for _, l := range list {
		fitted := "-"
		if l.Fitted != nil {
			fitted = fmt.Sprintf("%+.2f", *l.Fitted)
		}
		fmt.Fprintf(tw, "%s\t%s\t%+.1f\t%s\t%t\t%s\n", l.ID, l.Category, l.Weight, fitted, l.Decisive, l.Description)
	}
	return tw.Flush()
}

// WriteRuleList writes the rules in force in eng (ListRules): as a table
// (WriteRules) or as JSON. A format other than text or json is a usage
// error.
func WriteRuleList(w io.Writer, eng *rules.Engine, f docformat.Format) error {
	f, err := docformat.Parse(string(f))
	if err != nil {
		return exit.Usagef("rules list: %w", err)
	}
	list := ListRules(eng)
	return docformat.Write(w, f, list, func(w io.Writer) error { return WriteRules(w, list) })
}

// Explain reads the reports of inputs and writes what eng makes of each
// (WriteExplanation), or why it could not be read. Inputs that could not
// be read are an error after all were written (exit code 3, as for
// screen); a cancelled ctx is an interrupted run.
func Explain(ctx context.Context, w io.Writer, eng *rules.Engine, inputs []string, opt intake.Options) error {
	failed := 0
	for it := range intake.Read(ctx, inputs, opt) {
		var ev *rules.Evaluation
		if it.Err != nil {
			failed++
		} else {
			e := eng.Evaluate(it.Report)
			ev = &e
		}
		if err := WriteExplanation(w, it.Source, ev, it.Err); err != nil {
			return fmt.Errorf("rules explain: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return exit.With(exit.Interrupted, fmt.Errorf("interrupted: %w", err))
	}
	if failed > 0 {
		return exit.With(exit.InputErrors, fmt.Errorf("%d inputs could not be read", failed))
	}
	return nil
}

// WriteExplanation writes what the rules made of one report read from
// source: their verdict, what is missing, what was read only in part, the
// facts, and every rule that fired with its span and excerpt. A report
// that could not be read (err) gets its error instead.
func WriteExplanation(out io.Writer, source string, ev *rules.Evaluation, err error) error {
	w := &stickyWriter{w: out}
	fmt.Fprintf(w, "== %s\n", Clean(source))
	if err != nil {
		fmt.Fprintf(w, "   error: %v\n", err)
		return w.err
	}
	fmt.Fprintf(w, "   rules verdict: %s/%s (score %.1f, confidence %.2f, decisive %t)\n",
		ev.Verdict, ev.Category, ev.Score, ev.Confidence, ev.Decisive)
	if len(ev.Missing) > 0 {
		fmt.Fprintf(w, "   missing: %v\n", ev.Missing)
	}
	for _, tr := range ev.Truncated {
		fmt.Fprintf(w, "   truncated: read the first %d of %d bytes of %s\n", tr.Scanned, tr.Size, Clean(tr.Part))
	}
	facts, _ := json.Marshal(ev.Facts)
	fmt.Fprintf(w, "   facts: %s\n", facts)
	for _, f := range ev.Findings {
		fmt.Fprintf(w, "   %-28s %-26s %+5.1f  %s:%d:%d  %s\n", f.RuleID, f.Category, f.Weight,
			f.Span.Part, f.Span.Line, f.Span.Column, Clean(f.Excerpt))
	}
	return w.err
}

// stickyWriter remembers the first write error and writes nothing after it.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.err = err
	return n, err
}
