package baseline

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/benchsupport"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
)

// extractReference is extract as it was written first, kept to prove that
// the faster one gives the same features in the same order.
func extractReference(r *intake.Report, ev *rules.Evaluation, maxText, ruleWeight, charN int) []feature {
	seen := map[string]bool{}
	var out []feature
	add := func(name string, w int) bool {
		if seen[name] {
			return false
		}
		seen[name] = true
		out = append(out, feature{name: name, weight: w})
		return true
	}
	for _, name := range ruleFeatures(ev) {
		add(name, ruleWeight)
	}
	n := 0
	for _, p := range r.Parts() {
		if n >= maxText {
			break
		}
		prev := ""
		for tok := range tokens(p.Text) {
			if add(tok, 1) {
				n++
			}
			if prev != "" && n < maxText && add(prev+" "+tok, 1) {
				n++
			}
			if n >= maxText {
				break
			}
			prev = tok
		}
	}
	if charN > 0 {
		n = 0
		for _, p := range r.Parts() {
			for tok := range tokens(p.Text) {
				rs := []rune("<" + tok + ">")
				if len(rs) < charN+1 {
					continue
				}
				for i := 0; i+charN <= len(rs); i++ {
					if n >= maxText {
						return out
					}
					if add(string(rs[i:i+charN]), 1) {
						n++
					}
				}
			}
		}
	}
	return out
}

// extract gives the features extractReference gives, for every report of
// the bundled corpus, the examples and synthetic reports, with the rules'
// features, under several caps and gram lengths (small caps stop midway).
func TestExtractEqualsReference(t *testing.T) {
	eng := kernelEngine(t)
	var reports []*intake.Report
	for it := range intake.Read(context.Background(), []string{"../../corpus/reports", "../../examples", "../injection/testdata/suite"}, intake.Options{}) {
		if it.Report != nil {
			reports = append(reports, it.Report)
		}
	}
	reports = append(reports, benchsupport.SynthReports(t, 100, 5)...)
	reports = append(reports, benchReport(), &intake.Report{Subject: "ÉTÉ Ünïcode Straße", Body: "日本語 テキスト ǅemal ﬁle İstanbul ΣΊΣΥΦΟΣ x_y_z CONFIG_KASAN 0xdeadbeef 1234 ab a"})
	require.Greater(t, len(reports), 300)
	for _, r := range reports {
		ev := eng.Evaluate(r)
		for _, c := range []struct{ max, w, n int }{{4000, 3, 4}, {4000, 2, 0}, {50, 2, 4}, {7, 1, 3}, {4000, 3, 5}} {
			want := extractReference(r, &ev, c.max, c.w, c.n)
			got := extract(r, &ev, c.max, c.w, c.n)
			require.Equal(t, want, got, "%s, caps %+v", r.Source, c)
		}
	}
}

// BenchmarkExtract is the features of one synthetic report with the
// defaults' caps (words, pairs, 4-grams).
func BenchmarkExtract(b *testing.B) {
	reports := benchsupport.SynthReports(b, 200, 1)
	eng := kernelEngine(b)
	evs := make([]rules.Evaluation, len(reports))
	for i, r := range reports {
		evs[i] = eng.Evaluate(r)
	}
	b.ReportAllocs()
	defer benchsupport.ReportCPU(b, benchsupport.CPUTime())
	i := 0
	for b.Loop() {
		extract(reports[i%len(reports)], &evs[i%len(evs)], DefaultMaxFeatures, 3, DefaultCharGrams)
		i++
	}
}

// strongest keeps what sorting every contribution and keeping the first
// MaxEvidence kept: random contributions, weights often tied, any count.
func TestStrongestIsTheSortedHead(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 2000 {
		n := rng.IntN(40)
		var all []Contribution
		var top strongest
		for i := range n {
			c := Contribution{Feature: fmt.Sprintf("f%d", rng.IntN(1000)*100+i), Weight: float64(rng.IntN(5)) / 4}
			all = append(all, c)
			top.offer(c)
		}
		slices.SortStableFunc(all, func(a, b Contribution) int {
			return cmp.Or(cmp.Compare(b.Weight, a.Weight), cmp.Compare(a.Feature, b.Feature))
		})
		require.Equal(t, all[:min(len(all), MaxEvidence)], top.list)
	}
}

// BenchmarkPredictSynth is the prediction of the built-in model on one
// synthetic report, its features and the rules' given; one op is one
// report.
func BenchmarkPredictSynth(b *testing.B) {
	m := Embedded()
	reports := benchsupport.SynthReports(b, 200, 1)
	eng := kernelEngine(b)
	evs := make([]rules.Evaluation, len(reports))
	for i, r := range reports {
		evs[i] = eng.Evaluate(r)
	}
	b.ReportAllocs()
	defer benchsupport.ReportCPU(b, benchsupport.CPUTime())
	i := 0
	for b.Loop() {
		m.Predict(reports[i%len(reports)], &evs[i%len(evs)])
		i++
	}
}
