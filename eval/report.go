package eval

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the run as indented JSON (the RunJSON document).
func (r *RunJSON) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write run JSON: %w", err)
	}
	return nil
}

// column is one predictor's scores under a heading.
type column struct {
	name string
	s    *Scores
}

func (r *RunJSON) columns() []column {
	cols := []column{{"final", &r.Final}, {"rules", &r.Rules}}
	if r.Model != nil {
		cols = append(cols, column{"model", r.Model})
	}
	if r.Baseline != nil {
		cols = append(cols, column{"baseline", r.Baseline})
	}
	return cols
}

// metricRow is one line of the headline table.
type metricRow struct {
	name string
	get  func(*Scores) string
}

var headline = []metricRow{
	{"reports", func(s *Scores) string { return fmt.Sprint(s.N) }},
	{"errors", func(s *Scores) string { return fmt.Sprint(s.Errors) }},
	{"accuracy", func(s *Scores) string { return s.Accuracy.String() + " " + s.AccuracyCI.String() }},
	{"category accuracy", func(s *Scores) string { return s.CategoryAccuracy.String() }},
	{"macro-F1", func(s *Scores) string { return s.MacroF1.String() + " " + s.MacroF1CI.String() }},
	{"Cohen's kappa", func(s *Scores) string { return s.Kappa.String() }},
	{"security recall", func(s *Scores) string { return s.SecurityRecall.String() + " " + s.SecurityRecallCI.String() }},
	{"Brier score", func(s *Scores) string { return s.Brier.String() }},
	{"ECE (10 bins)", func(s *Scores) string { return s.ECE.String() }},
}

func (r *RunJSON) title() string {
	var b strings.Builder
	fmt.Fprintf(&b, "corpus %s (split %s), backend %s", r.Corpus, cmp.Or(r.Split, "all"), r.Backend)
	if r.ModelName != "" {
		fmt.Fprintf(&b, " (model %s", r.ModelName)
		if r.Prompt != "" {
			fmt.Fprintf(&b, ", prompt %s", r.Prompt)
		}
		b.WriteString(")")
	}
	if r.Folds > 0 {
		fmt.Fprintf(&b, ", %d-fold cross-validation", r.Folds)
	}
	if r.Repeat > 1 {
		fmt.Fprintf(&b, ", %d runs per report", r.Repeat)
	}
	return b.String()
}

// WriteText writes a summary for a terminal: the headline metrics of each
// predictor with 95% bootstrap intervals, per-verdict scores and the
// confusion matrix of the final decision, the security reports missed, and
// errors, agreement, consistency, rules and usage.
func (r *RunJSON) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "secscreen eval: %s\n", r.title())
	fmt.Fprintf(&b, "%d reports; intervals are 95%% bootstrap (%d resamples, seed %d)\n\n", len(r.Rows), r.Resamples, r.Seed)

	fmt.Fprintf(&b, "public leaks (true security reports routed publicly): %s\n", r.leaksLine())
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "cross-check value\treports\taccuracy\tsecurity recall\tpublic leaks alone")
	for _, l := range r.CrossCheck {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\n", r.predictorName(l.Predictor), l.N, l.Accuracy, l.SecurityRecall, l.PublicLeaks)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "review load: %s\n\n", r.reviewLine())

	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	cols := r.columns()
	fmt.Fprint(tw, "metric")
	for _, c := range cols {
		fmt.Fprintf(tw, "\t%s", c.name)
	}
	fmt.Fprintln(tw)
	for _, m := range headline {
		fmt.Fprint(tw, m.name)
		for _, c := range cols {
			fmt.Fprintf(tw, "\t%s", m.get(c.s))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintln(tw, "\nverdict (final)\tsupport\tpredicted\tprecision\trecall\tF1")
	for _, s := range r.Final.PerVerdict {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", s.Class, s.Support, s.Predicted, s.Precision, s.Recall, s.F1)
	}
	fmt.Fprintln(tw, "\ntrue \\ predicted (final)\t"+strings.Join(r.Final.VerdictConfusion.Labels, "\t"))
	for _, i := range displayRows(r.Final.VerdictConfusion) {
		fmt.Fprint(tw, r.Final.VerdictConfusion.Labels[i])
		for _, n := range r.Final.VerdictConfusion.Counts[i] {
			fmt.Fprintf(tw, "\t%d", n)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(&b, "\nmissed security reports (final): %s\n", listOrNone(r.Final.MissedSecurity))
	if r.Agreement != nil {
		fmt.Fprintf(&b, "rules/model verdict agreement: %s over %d reports; disagreeing: %s\n",
			r.Agreement.Rate, r.Agreement.N, listUpTo(r.Agreement.Disagreeing, 20))
	}
	if c := r.Consistency; c != nil {
		fmt.Fprintf(&b, "consistency over %d runs: %s (%d of %d); inconsistent: %s\n",
			c.Runs, c.Rate, c.Consistent, c.N, listUpTo(c.Inconsistent, 20))
	}
	if u := r.Usage; u.Calls > 0 {
		fmt.Fprintf(&b, "model calls: %d (%d cached, %d failed); tokens %d in, %d out; latency p50 %s ms, p95 %s ms; cost %s\n",
			u.Calls, u.Cached, u.Failures, u.PromptTokens, u.CompletionTokens, u.LatencyP50MS, u.LatencyP95MS, u.Cost)
	}
	fmt.Fprintf(&b, "wall time: %.1f s\n", r.WallSeconds)

	var errs []Row
	for _, row := range r.Rows {
		if row.Error != "" {
			errs = append(errs, row)
		}
	}
	if len(errs) > 0 {
		fmt.Fprintf(&b, "\nerrors (%d, counted as wrong):\n", len(errs))
		for _, row := range errs {
			fmt.Fprintf(&b, "  %s: %s\n", row.ID, row.Error)
		}
	}

	if len(r.RuleStats) > 0 {
		fmt.Fprintln(&b)
		tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "rule\tcategory\thits\tprecision\ttrue categories hit")
		for _, s := range r.RuleStats {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", s.Rule, s.Category, s.Hits, s.Precision, byTrue(s.ByTrue, 4))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// leaksLine says how many true security reports went public, and which.
func (r *RunJSON) leaksLine() string {
	l := r.PublicLeaks
	return fmt.Sprintf("%d of %d (%s): %s", l.Count, l.SecurityReports, l.Share, listOrNone(l.IDs))
}

// reviewLine says how many reports were flagged, and why.
func (r *RunJSON) reviewLine() string {
	rl := r.ReviewLoad
	s := fmt.Sprintf("%d of %d flagged for review (%s)", rl.Flagged, rl.N, rl.Share)
	var parts []string
	for _, f := range flagNames(rl.ByFlag) {
		parts = append(parts, fmt.Sprintf("%s %d", f, rl.ByFlag[f]))
	}
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s
}

// predictorName names a cross-check line, with the backend for the model.
func (r *RunJSON) predictorName(p string) string {
	if p == "model" && r.Backend != "" {
		return "model alone (" + r.Backend + ")"
	}
	if p == "final" {
		return "final"
	}
	return p + " alone"
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// listUpTo lists at most limit ids and counts the rest.
func listUpTo(ids []string, limit int) string {
	if len(ids) <= limit {
		return listOrNone(ids)
	}
	return fmt.Sprintf("%s (+%d more)", strings.Join(ids[:limit], ", "), len(ids)-limit)
}

// byTrue formats a rule's hits per true category, most first; limit > 0
// keeps that many and counts the rest.
func byTrue(m map[string]int, limit int) string {
	type kv struct {
		k string
		v int
	}
	var kvs []kv
	for k, v := range m {
		kvs = append(kvs, kv{k, v})
	}
	slices.SortFunc(kvs, func(a, b kv) int {
		if a.v != b.v {
			return b.v - a.v
		}
		return strings.Compare(a.k, b.k)
	})
	var parts []string
	for i, e := range kvs {
		if limit > 0 && i == limit {
			parts = append(parts, fmt.Sprintf("(+%d more)", len(kvs)-limit))
			break
		}
		parts = append(parts, fmt.Sprintf("%s:%d", e.k, e.v))
	}
	return strings.Join(parts, " ")
}

// mdEscape makes text safe inside a Markdown table cell.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

// WriteMarkdown writes the run as a Markdown document: headline metrics,
// per-verdict scores, the verdict confusion matrix, missed security reports,
// rules and every wrong or failed report.
func (r *RunJSON) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# secscreen evaluation\n\n%s. %d reports; intervals are 95%% bootstrap (%d resamples, seed %d).\n\n",
		mdEscape(r.title()), len(r.Rows), r.Resamples, r.Seed)
	fmt.Fprintf(&b, "**Public leaks** (true security reports routed publicly): %s\n\n", mdEscape(r.leaksLine()))
	b.WriteString("## Cross-check value\n\n| predictor | reports | accuracy | security recall | public leaks alone |\n|---|---|---|---|---|\n")
	for _, l := range r.CrossCheck {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %d |\n", mdEscape(r.predictorName(l.Predictor)), l.N, l.Accuracy, l.SecurityRecall, l.PublicLeaks)
	}
	fmt.Fprintf(&b, "\n**Review load**: %s.\n\n## Metrics\n\n", mdEscape(r.reviewLine()))
	cols := r.columns()
	b.WriteString("| metric |")
	for _, c := range cols {
		fmt.Fprintf(&b, " %s |", c.name)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(cols)) + "\n")
	for _, m := range headline {
		fmt.Fprintf(&b, "| %s |", m.name)
		for _, c := range cols {
			fmt.Fprintf(&b, " %s |", m.get(c.s))
		}
		b.WriteString("\n")
	}

	b.WriteString("\n## Per verdict (final)\n\n| verdict | support | predicted | precision | recall | F1 |\n|---|---|---|---|---|---|\n")
	for _, s := range r.Final.PerVerdict {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s |\n", s.Class, s.Support, s.Predicted, s.Precision, s.Recall, s.F1)
	}

	m := r.Final.VerdictConfusion
	b.WriteString("\n## Confusion (final; rows true, columns predicted)\n\n| |")
	for _, l := range m.Labels {
		fmt.Fprintf(&b, " %s |", mdEscape(l))
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(m.Labels)) + "\n")
	for _, i := range displayRows(m) {
		fmt.Fprintf(&b, "| **%s** |", mdEscape(m.Labels[i]))
		for _, n := range m.Counts[i] {
			fmt.Fprintf(&b, " %d |", n)
		}
		b.WriteString("\n")
	}

	b.WriteString("\n## Per category (final)\n\n| category | support | predicted | precision | recall |\n|---|---|---|---|---|\n")
	for _, s := range r.Final.PerCategory {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s |\n", mdEscape(s.Class), s.Support, s.Predicted, s.Precision, s.Recall)
	}

	b.WriteString("\n## Missed security reports\n\n")
	if len(r.Final.MissedSecurity) == 0 {
		b.WriteString("None.\n")
	}
	for _, id := range r.Final.MissedSecurity {
		fmt.Fprintf(&b, "- %s\n", mdEscape(id))
	}
	if r.Agreement != nil {
		fmt.Fprintf(&b, "\nRules/model verdict agreement: %s over %d reports.\n", r.Agreement.Rate, r.Agreement.N)
	}
	if c := r.Consistency; c != nil {
		fmt.Fprintf(&b, "\nConsistency over %d runs: %s (%d of %d reports).\n", c.Runs, c.Rate, c.Consistent, c.N)
	}
	if u := r.Usage; u.Calls > 0 {
		fmt.Fprintf(&b, "\nModel calls: %d (%d cached, %d failed); tokens %d in, %d out; latency p50 %s ms, p95 %s ms; cost %s.\n",
			u.Calls, u.Cached, u.Failures, u.PromptTokens, u.CompletionTokens, u.LatencyP50MS, u.LatencyP95MS, u.Cost)
	}

	if len(r.RuleStats) > 0 {
		b.WriteString("\n## Rules\n\n| rule | category | hits | precision | true categories hit |\n|---|---|---|---|---|\n")
		for _, s := range r.RuleStats {
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s |\n", mdEscape(s.Rule), mdEscape(s.Category), s.Hits, s.Precision, mdEscape(byTrue(s.ByTrue, 0)))
		}
	}

	b.WriteString("\n## Wrong or failed reports\n\n")
	wrong := 0
	for _, row := range r.Rows {
		if row.Correct && row.CategoryCorrect {
			continue
		}
		if wrong == 0 {
			b.WriteString("| id | subject | label | final | rules | model | error |\n|---|---|---|---|---|---|---|\n")
		}
		wrong++
		model := ""
		if row.Model != nil {
			model = string(row.Model.Verdict) + " / " + row.Model.Category
		}
		fmt.Fprintf(&b, "| %s | %s | %s / %s | %s / %s | %s / %s | %s | %s |\n",
			mdEscape(row.ID), mdEscape(row.Subject), row.True.Verdict, mdEscape(row.True.Category),
			mdEscape(string(row.Verdict)), mdEscape(row.Category), mdEscape(string(row.Rules.Verdict)), mdEscape(row.Rules.Category),
			mdEscape(model), mdEscape(row.Error))
	}
	if wrong == 0 {
		b.WriteString("None.\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}
