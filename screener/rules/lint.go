package rules

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Example is one labeled report, for Lint and Fit.
type Example struct {
	// ID names the report (the corpus label's id).
	ID string
	// Report is the report itself.
	Report *intake.Report
	// Category is the true category; its verdict comes from the threat
	// model.
	Category string
}

// DefaultMinReports is the number of distinct reports every match
// alternative must fire on for Lint to pass it.
const DefaultMinReports = 3

// LintReport is the outcome of Lint.
type LintReport struct {
	// Reports is the number of labeled reports linted against.
	Reports int `json:"reports"`
	// MinReports is the least number of distinct reports an alternative
	// must fire on.
	MinReports int `json:"min_reports"`
	// Rules has one entry per rule, in pack order.
	Rules []RuleLint `json:"rules"`
	// Failures lists the alternatives that fire on fewer than MinReports
	// reports, in pack order.
	Failures []AltLint `json:"failures"`
}

// OK reports whether every alternative passed.
func (l *LintReport) OK() bool { return len(l.Failures) == 0 }

// RuleLint is one rule's measure on the labeled reports. Precision is
// given twice: over categories (the report's true category is the rule's)
// and over verdicts (its true verdict is the rule's category's verdict,
// which is what routes a report); LowerBound is the Wilson 95% lower bound
// of the verdict precision.
type RuleLint struct {
	ID       string              `json:"id"`
	Category string              `json:"category"`
	Verdict  threatmodel.Verdict `json:"verdict"`
	// Hits counts the reports the rule fired on.
	Hits int `json:"hits"`
	// CategoryHits and VerdictHits count those whose true category, or
	// verdict, is the rule's.
	CategoryHits int `json:"category_hits"`
	VerdictHits  int `json:"verdict_hits"`
	// CategoryPrecision and VerdictPrecision are those shares of Hits.
	CategoryPrecision float64 `json:"category_precision"`
	VerdictPrecision  float64 `json:"verdict_precision"`
	// LowerBound is the Wilson 95% lower bound of VerdictPrecision.
	LowerBound float64 `json:"lower_bound"`
	// Support counts the reports whose true category is the rule's.
	Support int `json:"support"`
	// Exempt says why the rule's alternatives are not held to MinReports
	// (empty when they are).
	Exempt string `json:"exempt,omitempty"`
	// Alternatives has one entry per match pattern.
	Alternatives []AltLint `json:"alternatives"`
}

// AltLint is one match alternative of a rule: the distinct reports on
// which it alone fires the rule (requires and unless applied).
type AltLint struct {
	Rule    string   `json:"rule"`
	Index   int      `json:"index"`
	Pattern string   `json:"pattern"`
	Reports int      `json:"reports"`
	IDs     []string `json:"ids"`
	OK      bool     `json:"ok"`
}

// exemptInjection is why rules with the injection signal are not linted
// against a corpus: honest reports rarely address a model, so their
// measure is a suite of injection reports, not the corpus.
const exemptInjection = "injection signal: measured by an injection suite, not by the corpus"

// Lint measures every rule of e and every match alternative of every rule
// on the labeled examples: an alternative fails when it alone fires the
// rule on fewer than minReports distinct reports (0 means
// DefaultMinReports). It stops when ctx is done.
func Lint(ctx context.Context, e *Engine, examples []Example, minReports int) (*LintReport, error) {
	if minReports <= 0 {
		minReports = DefaultMinReports
	}
	rep := &LintReport{Reports: len(examples), MinReports: minReports, Failures: []AltLint{}}
	for _, r := range e.rules {
		v, _ := e.tm.VerdictOf(r.Category)
		rl := RuleLint{ID: r.ID, Category: r.Category, Verdict: v}
		if r.Signal == SignalInjection {
			rl.Exempt = exemptInjection
		}
		for j, p := range r.Match {
			rl.Alternatives = append(rl.Alternatives, AltLint{Rule: r.ID, Index: j, Pattern: p, IDs: []string{}})
		}
		rep.Rules = append(rep.Rules, rl)
	}
	for _, ex := range examples {
		ev, alts, err := e.evaluate(ctx, ex.Report, true, e.scanner())
		if err != nil {
			return nil, err
		}
		trueVerdict, ok := e.tm.VerdictOf(ex.Category)
		if !ok {
			return nil, fmt.Errorf("report %s: category %q is not in threat model %s", ex.ID, ex.Category, e.tm.Name)
		}
		fired := map[string]bool{}
		for _, f := range ev.Findings {
			fired[f.RuleID] = true
		}
		for i := range rep.Rules {
			rl := &rep.Rules[i]
			if rl.Category == ex.Category {
				rl.Support++
			}
			if fired[rl.ID] {
				rl.Hits++
				if rl.Category == ex.Category {
					rl.CategoryHits++
				}
				if rl.Verdict == trueVerdict {
					rl.VerdictHits++
				}
			}
			for j, hit := range alts[i] {
				if hit {
					rl.Alternatives[j].Reports++
					rl.Alternatives[j].IDs = append(rl.Alternatives[j].IDs, ex.ID)
				}
			}
		}
	}
	for i := range rep.Rules {
		rl := &rep.Rules[i]
		if rl.Hits > 0 {
			rl.CategoryPrecision = round4(float64(rl.CategoryHits) / float64(rl.Hits))
			rl.VerdictPrecision = round4(float64(rl.VerdictHits) / float64(rl.Hits))
		}
		rl.LowerBound = round4(Wilson(rl.VerdictHits, rl.Hits))
		for j := range rl.Alternatives {
			a := &rl.Alternatives[j]
			a.OK = a.Reports >= minReports || rl.Exempt != ""
			if !a.OK {
				rep.Failures = append(rep.Failures, *a)
			}
		}
	}
	return rep, nil
}

// WriteText writes the lint report for a terminal: the failing
// alternatives, then one line per rule.
func (l *LintReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%d reports; every match alternative must fire a rule on at least %d of them\n", l.Reports, l.MinReports)
	if len(l.Failures) > 0 {
		fmt.Fprintf(tw, "\n%d alternatives fire on too few reports:\n", len(l.Failures))
		fmt.Fprintln(tw, "RULE\tALT\tREPORTS\tIDS\tPATTERN")
		for _, a := range l.Failures {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", a.Rule, a.Index+1, a.Reports, idList(a.IDs), a.Pattern)
		}
	}
	fmt.Fprintln(tw, "\nprecision: share of the rule's hits whose true category (P(cat)) or verdict (P(verdict)) is the rule's; LB: Wilson 95% lower bound of P(verdict)")
	fmt.Fprintln(tw, "RULE\tCATEGORY\tHITS\tP(cat)\tP(verdict)\tLB\tSUPPORT\tALTERNATIVES")
	for _, r := range l.Rules {
		alts := ""
		for j, a := range r.Alternatives {
			if j > 0 {
				alts += " "
			}
			mark := ""
			if !a.OK {
				mark = "!"
			}
			alts += fmt.Sprintf("%d%s", a.Reports, mark)
		}
		if r.Exempt != "" {
			alts += " (exempt: " + r.Exempt + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%.2f\t%d\t%s\n", r.ID, r.Category, r.Hits,
			ratio(r.CategoryHits, r.Hits), ratio(r.VerdictHits, r.Hits), r.LowerBound, r.Support, alts)
	}
	return tw.Flush()
}

func ratio(k, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(k)/float64(n))
}

func idList(ids []string) string {
	if len(ids) == 0 {
		return "-"
	}
	if len(ids) > 4 {
		return fmt.Sprintf("%s,... (%d)", ids[0], len(ids))
	}
	return fmt.Sprint(slices.Clone(ids))
}

// verdictOf is tm.VerdictOf without the flag.
func verdictOf(tm *threatmodel.Model, id string) threatmodel.Verdict {
	v, _ := tm.VerdictOf(id)
	return v
}
