package eval

import (
	"fmt"
	"testing"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// benchRows builds n rows spread over the four verdicts, a quarter of them
// wrong, with confidences across the range.
func benchRows(n int) []Row {
	vs := verdictNames()
	rows := make([]Row, n)
	for i := range rows {
		v := vs[i%len(vs)]
		pred := v
		if i%4 == 0 {
			pred = vs[(i+1)%len(vs)]
		}
		rows[i] = Row{ID: fmt.Sprintf("r%03d", i), True: threatmodel.Label{Verdict: threatmodel.Verdict(v), Category: "info.missing"},
			Label: threatmodel.Label{Verdict: threatmodel.Verdict(pred), Category: "info.missing"}, Confidence: float64(i%10) / 10,
			Rules: Prediction{Label: threatmodel.Label{Verdict: threatmodel.Verdict(v), Category: "info.missing"}, Confidence: 0.5},
			Fired: []FiredRule{{Rule: fmt.Sprintf("rule-%d", i%7), Category: "info.missing"}}}
	}
	return rows
}

// BenchmarkScore scores 200 rows with 1000 bootstrap resamples for each of
// the three intervals of the final decision and of the rules.
func BenchmarkScore(b *testing.B) {
	rows := benchRows(200)
	opt := fixedOptions()
	opt.Resamples = 1000
	b.ReportAllocs()
	for b.Loop() {
		score(rows, Meta{}, opt, t0)
	}
}

// BenchmarkBootstrapAccuracy is one interval: 1000 resamples of 200 pairs.
func BenchmarkBootstrapAccuracy(b *testing.B) {
	rows := benchRows(200)
	ps := make([]Pair, len(rows))
	for i, r := range rows {
		ps[i] = Pair{ID: r.ID, True: string(r.True.Verdict), Pred: string(r.Verdict), Confidence: r.Confidence}
	}
	b.ReportAllocs()
	for b.Loop() {
		bootstrap(ps, Accuracy, 1000, 1)
	}
}
