package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
)

// ReadJSON reads a run saved with WriteJSON, refusing other schemas.
func ReadJSON(path string) (*RunJSON, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read run: %w", err)
	}
	var r RunJSON
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read run %s: %w", path, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("read run %s: schema %q, want %q", path, r.Schema, Schema)
	}
	return &r, nil
}

// Delta is one metric in two runs.
type Delta struct {
	// Metric names the metric; A and B are its values in the two runs.
	Metric string `json:"metric"`
	A      Num    `json:"a"`
	B      Num    `json:"b"`
	// Diff is B - A.
	Diff Num `json:"diff"`
}

// Comparison contrasts two runs over the reports they share.
type Comparison struct {
	// A and B describe the runs ("backend model @ time").
	A string `json:"a"`
	B string `json:"b"`
	// Deltas lists the final decision's metrics in both runs, public
	// leaks and review load first.
	Deltas []Delta `json:"deltas"`
	// NewLeaks lists the true security reports routed publicly in B but
	// not in A; FixedLeaks the reverse.
	NewLeaks   []string `json:"new_leaks"`
	FixedLeaks []string `json:"fixed_leaks"`
	// Paired counts reports present in both runs; BothRight and BothWrong
	// the concordant ones.
	Paired    int `json:"paired"`
	BothRight int `json:"both_right"`
	BothWrong int `json:"both_wrong"`
	// RightToWrong lists reports right in A and wrong in B; WrongToRight
	// the reverse.
	RightToWrong []string `json:"right_to_wrong"`
	WrongToRight []string `json:"wrong_to_right"`
	// PValue is McNemar's exact two-sided p-value on the flips.
	PValue float64 `json:"p_value"`
	// OnlyInA and OnlyInB list reports the other run lacks.
	OnlyInA []string `json:"only_in_a"`
	OnlyInB []string `json:"only_in_b"`
}

func describe(r *RunJSON) string {
	s := r.Backend
	if r.ModelName != "" {
		s += " " + r.ModelName
	}
	if r.Folds > 0 {
		s += fmt.Sprintf(" (%d folds)", r.Folds)
	}
	return s + " @ " + r.CreatedAt.Format("2006-01-02 15:04:05Z07:00")
}

// Compare contrasts run a with run b: the change of each metric of the
// final decision, and, over the reports both runs hold, which reports
// flipped between right and wrong verdicts, with McNemar's exact test of
// whether the flips lean one way more than chance allows.
func Compare(a, b *RunJSON) *Comparison {
	c := &Comparison{A: describe(a), B: describe(b)}
	add := func(name string, x, y Num) {
		d := NaN()
		if x.Defined() && y.Defined() {
			d = y - x
		}
		c.Deltas = append(c.Deltas, Delta{Metric: name, A: x, B: y, Diff: d})
	}
	add("public leaks (share)", leakShare(a), leakShare(b))
	add("review load", reviewShare(a), reviewShare(b))
	add("accuracy", a.Final.Accuracy, b.Final.Accuracy)
	add("category accuracy", a.Final.CategoryAccuracy, b.Final.CategoryAccuracy)
	add("macro-F1", a.Final.MacroF1, b.Final.MacroF1)
	add("kappa", a.Final.Kappa, b.Final.Kappa)
	add("security recall", a.Final.SecurityRecall, b.Final.SecurityRecall)
	add("Brier", a.Final.Brier, b.Final.Brier)
	add("ECE", a.Final.ECE, b.Final.ECE)
	add("rules accuracy", a.Rules.Accuracy, b.Rules.Accuracy)

	inB := make(map[string]Row, len(b.Rows))
	for _, r := range b.Rows {
		inB[r.ID] = r
	}
	inA := make(map[string]bool, len(a.Rows))
	for _, ra := range a.Rows {
		inA[ra.ID] = true
		rb, ok := inB[ra.ID]
		if !ok {
			c.OnlyInA = append(c.OnlyInA, ra.ID)
			continue
		}
		c.Paired++
		switch {
		case ra.Correct && rb.Correct:
			c.BothRight++
		case !ra.Correct && !rb.Correct:
			c.BothWrong++
		case ra.Correct:
			c.RightToWrong = append(c.RightToWrong, ra.ID)
		default:
			c.WrongToRight = append(c.WrongToRight, ra.ID)
		}
	}
	for _, rb := range b.Rows {
		if !inA[rb.ID] {
			c.OnlyInB = append(c.OnlyInB, rb.ID)
		}
	}
	c.PValue = McNemar(len(c.RightToWrong), len(c.WrongToRight))
	c.NewLeaks, c.FixedLeaks = []string{}, []string{}
	for _, id := range b.PublicLeaks.IDs {
		if inA[id] && !slices.Contains(a.PublicLeaks.IDs, id) {
			c.NewLeaks = append(c.NewLeaks, id)
		}
	}
	for _, id := range a.PublicLeaks.IDs {
		if _, ok := inB[id]; ok && !slices.Contains(b.PublicLeaks.IDs, id) {
			c.FixedLeaks = append(c.FixedLeaks, id)
		}
	}
	return c
}

// leakShare is a run's share of security reports routed publicly;
// undefined for a run saved before leaks were counted.
func leakShare(r *RunJSON) Num {
	if r.PublicLeaks.SecurityReports == 0 {
		return NaN()
	}
	return r.PublicLeaks.Share
}

// reviewShare is a run's share of reports flagged for review; undefined
// for a run saved before the review load was counted.
func reviewShare(r *RunJSON) Num {
	if r.ReviewLoad.N == 0 {
		return NaN()
	}
	return r.ReviewLoad.Share
}

// WriteText writes the comparison for a terminal.
func (c *Comparison) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "A: %s\nB: %s\n\n", c.A, c.B)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "metric\tA\tB\tB-A\t")
	for _, d := range c.Deltas {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", d.Metric, d.A, d.B, signed(d.Diff))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\npaired reports: %d (both right %d, both wrong %d, right→wrong %d, wrong→right %d)\n",
		c.Paired, c.BothRight, c.BothWrong, len(c.RightToWrong), len(c.WrongToRight))
	fmt.Fprintf(&b, "McNemar exact p = %.4g", c.PValue)
	if c.PValue < 0.05 {
		fmt.Fprintln(&b, " (the difference in correctness is significant at 5%)")
	} else {
		fmt.Fprintln(&b, " (no significant difference at 5%)")
	}
	list := func(name string, ids []string) {
		if len(ids) > 0 {
			fmt.Fprintf(&b, "%s (%d):\n", name, len(ids))
			for _, id := range ids {
				fmt.Fprintf(&b, "  %s\n", id)
			}
		}
	}
	list("new public leaks", c.NewLeaks)
	list("leaks fixed", c.FixedLeaks)
	list("right → wrong", c.RightToWrong)
	list("wrong → right", c.WrongToRight)
	list("only in A", c.OnlyInA)
	list("only in B", c.OnlyInB)
	_, err := w.Write(b.Bytes())
	return err
}

func signed(n Num) string {
	if !n.Defined() {
		return "n/a"
	}
	return fmt.Sprintf("%+.3f", float64(n))
}
