package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// sameCI compares two intervals bit for bit (NaN equals NaN).
func sameCI(a, b CI) bool {
	return math.Float64bits(float64(a.Lo)) == math.Float64bits(float64(b.Lo)) &&
		math.Float64bits(float64(a.Hi)) == math.Float64bits(float64(b.Hi)) &&
		a.Level == b.Level && a.Resamples == b.Resamples
}

// The counted intervals are bootstrap's, bit for bit, on pair sets with
// errors (no prediction), labels outside the verdicts, missing classes and
// no security report at all.
func TestVerdictIntervalsAreBootstrapsIntervals(t *testing.T) {
	vn := verdictNames()
	sec := string(threatmodel.Security)
	macro := func(ps []Pair) Num { return MacroF1(PerClass(vn, ps)) }
	secRecall := func(ps []Pair) Num { r, _ := RecallOf(sec, ps); return r }
	labels := append(append([]string{}, vn...), "", "other")
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 40 {
		n := 1 + rng.IntN(60)
		if trial == 0 {
			n = 497
		}
		ps := make([]Pair, n)
		for i := range ps {
			tl := vn[rng.IntN(len(vn))]
			if trial%5 == 1 && tl == sec {
				tl = vn[0] // no security report: recall undefined
			}
			if trial%7 == 2 && rng.IntN(10) == 0 {
				tl = "other"
			}
			pred := tl
			if rng.IntN(3) == 0 {
				pred = labels[rng.IntN(len(labels))]
			}
			ps[i] = Pair{ID: fmt.Sprint(i), True: tl, Pred: pred, Confidence: rng.Float64()}
		}
		resamples := 1 + rng.IntN(300)
		seed := rng.Uint64()
		acc, mac, rec := verdictIntervals(ps, vn, sec, resamples, seed)
		if want := bootstrap(ps, Accuracy, resamples, seed); !sameCI(acc, want) {
			t.Errorf("trial %d: accuracy %+v, Bootstrap %+v", trial, acc, want)
		}
		if want := bootstrap(ps, macro, resamples, seed+1); !sameCI(mac, want) {
			t.Errorf("trial %d: macro F1 %+v, Bootstrap %+v", trial, mac, want)
		}
		if want := bootstrap(ps, secRecall, resamples, seed+2); !sameCI(rec, want) {
			t.Errorf("trial %d: security recall %+v, Bootstrap %+v", trial, rec, want)
		}
	}
	for _, c := range []struct {
		ps        []Pair
		resamples int
	}{{nil, 100}, {[]Pair{{True: sec, Pred: sec}}, 0}} {
		a, m, r := verdictIntervals(c.ps, vn, sec, c.resamples, 1)
		want := bootstrap(c.ps, Accuracy, c.resamples, 1)
		if !sameCI(a, want) || !sameCI(m, want) || !sameCI(r, want) {
			t.Errorf("%d pairs, %d resamples: %+v %+v %+v, want %+v", len(c.ps), c.resamples, a, m, r, want)
		}
	}
}

// Predictors scored together, some over as many reports as others, get
// each the intervals bootstrap gives it alone.
func TestVerdictIntervalsOfSeveralPredictors(t *testing.T) {
	vn := verdictNames()
	sec := string(threatmodel.Security)
	rng := rand.New(rand.NewPCG(9, 10))
	labels := append(append([]string{}, vn...), "")
	set := func(n int) []Pair {
		ps := make([]Pair, n)
		for i := range ps {
			ps[i] = Pair{ID: fmt.Sprint(i), True: vn[rng.IntN(len(vn))], Pred: labels[rng.IntN(len(labels))]}
		}
		return ps
	}
	sets := [][]Pair{set(80), set(80), set(53), nil, set(80), set(1)}
	got := verdictIntervalsOf(sets, vn, sec, 200, 77)
	require.Len(t, got, len(sets))
	for s, ps := range sets {
		a, m, r := verdictIntervals(ps, vn, sec, 200, 77)
		assert.True(t, sameCI(got[s][0], a) && sameCI(got[s][1], m) && sameCI(got[s][2], r), "set %d", s)
		assert.True(t, sameCI(got[s][0], bootstrap(ps, Accuracy, 200, 77)), "set %d", s)
	}
}

// BenchmarkVerdictIntervals is the three intervals of one predictor over
// 497 reports, as a corpus eval scores them.
func BenchmarkVerdictIntervals(b *testing.B) {
	rows := benchRows(497)
	ps := make([]Pair, len(rows))
	for i, r := range rows {
		ps[i] = Pair{ID: r.ID, True: string(r.True.Verdict), Pred: string(r.Verdict), Confidence: r.Confidence}
	}
	vn := verdictNames()
	b.ReportAllocs()
	for b.Loop() {
		verdictIntervals(ps, vn, string(threatmodel.Security), 1000, 1)
	}
}

// bootstrap is the reference the counted intervals of bootstrap.go are
// checked against, bit for bit. It estimates a 95% percentile confidence interval of stat over ps:
// it draws resamples samples of len(ps) pairs with replacement from a PCG
// generator seeded with seed (so the interval is reproducible), computes
// stat on each, and takes the 2.5% and 97.5% quantiles of the defined
// values. Undefined when ps is empty or no resample gives a defined value.
func bootstrap(ps []Pair, stat func([]Pair) Num, resamples int, seed uint64) CI {
	ci := CI{Lo: NaN(), Hi: NaN(), Level: 0.95}
	if len(ps) == 0 || resamples <= 0 {
		return ci
	}
	rng := bootstrapRNG(seed)
	sample := make([]Pair, len(ps))
	vals := make([]float64, 0, resamples)
	for range resamples {
		for i := range sample {
			sample[i] = ps[rng.IntN(len(ps))]
		}
		if v := stat(sample); v.Defined() {
			vals = append(vals, float64(v))
		}
	}
	return percentileCI(ci, vals)
}

// The drawer draws what bootstrapRNG's IntN draws, for bounds that are
// powers of two, small, the corpus's size, and large enough to be rejected
// often.
func TestDrawerIsIntN(t *testing.T) {
	for seed := range uint64(4) {
		for _, n := range []int{1, 2, 3, 5, 64, 100, 497, 1000, 1 << 20, 1<<40 + 7, 1<<62 + 12345, math.MaxInt} {
			d, rng := newDrawer(seed), bootstrapRNG(seed)
			for i := range 3000 {
				if got, want := d.intN(n), rng.IntN(n); got != want {
					t.Fatalf("seed %d, n %d, draw %d: %d, IntN %d", seed, n, i, got, want)
				}
			}
		}
	}
}
