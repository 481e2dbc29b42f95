package eval

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var verdicts = []string{"security", "not-security", "needs-info", "invalid"}

// sample is a small hand-scored set: 3 of 7 right, one error row (s3), no
// report truly invalid but one predicted invalid.
func sample() []Pair {
	return []Pair{
		{ID: "s1", True: "security", Pred: "security", Confidence: 0.9},
		{ID: "s2", True: "security", Pred: "not-security", Confidence: 0.6},
		{ID: "s3", True: "security", Pred: "", Confidence: 0},
		{ID: "n1", True: "not-security", Pred: "not-security", Confidence: 0.8},
		{ID: "n2", True: "not-security", Pred: "security", Confidence: 0.7},
		{ID: "i1", True: "needs-info", Pred: "needs-info", Confidence: 0.95},
		{ID: "i2", True: "needs-info", Pred: "invalid", Confidence: 0.3},
	}
}

func near(t *testing.T, want float64, got Num, msgAndArgs ...any) {
	t.Helper()
	require.True(t, got.Defined(), "want %v, got undefined %v", want, msgAndArgs)
	assert.InDelta(t, want, float64(got), 1e-9, msgAndArgs...)
}

func TestAccuracy(t *testing.T) {
	near(t, 3.0/7, Accuracy(sample()))
	assert.False(t, Accuracy(nil).Defined(), "no rows: undefined, not zero")
	near(t, 0, Accuracy([]Pair{{True: "security", Pred: ""}}), "an error row is wrong")
}

func TestPerClassAndMacroF1(t *testing.T) {
	st := PerClass(verdicts, sample())
	require.Len(t, st, 4)
	// security: TP s1, FN s2 s3, FP n2 -> P 1/2, R 1/3, F1 2/5.
	assert.Equal(t, ClassStats{Class: "security", Support: 3, Predicted: 2, TP: 1, FP: 1, FN: 2,
		Precision: 0.5, Recall: 0.333333333, F1: 0.4}, roundStats(st[0]))
	// not-security: TP n1, FN n2, FP s2 -> 1/2, 1/2, 1/2.
	near(t, 0.5, st[1].F1)
	// needs-info: TP i1, FN i2 -> P 1, R 1/2, F1 2/3.
	near(t, 1, st[2].Precision)
	near(t, 2.0/3, st[2].F1)
	// invalid: never true, predicted once: precision 0, recall undefined,
	// and F1 0 (a false alarm is penalised).
	near(t, 0, st[3].Precision)
	assert.False(t, st[3].Recall.Defined())
	near(t, 0, st[3].F1)
	near(t, (0.4+0.5+2.0/3+0)/4, MacroF1(st))
}

func roundStats(s ClassStats) ClassStats {
	r := func(n Num) Num { return Num(math.Round(float64(n)*1e9) / 1e9) }
	s.Precision, s.Recall, s.F1 = r(s.Precision), r(s.Recall), r(s.F1)
	return s
}

func TestPerClassZeroDenominators(t *testing.T) {
	// A class that appears nowhere has undefined precision, recall and F1
	// and does not count in the macro average.
	ps := []Pair{{True: "security", Pred: "security"}, {True: "security", Pred: "security"}}
	st := PerClass(verdicts, ps)
	near(t, 1, st[0].F1)
	for _, s := range st[1:] {
		assert.False(t, s.Precision.Defined())
		assert.False(t, s.Recall.Defined())
		assert.False(t, s.F1.Defined())
	}
	near(t, 1, MacroF1(st), "single class predicted perfectly")

	// A class present but never predicted: precision undefined, recall 0,
	// F1 0.
	st = PerClass(verdicts, []Pair{{True: "invalid", Pred: "security"}})
	assert.False(t, st[3].Precision.Defined())
	near(t, 0, st[3].Recall)
	near(t, 0, st[3].F1)
	near(t, 0, MacroF1(st))

	assert.False(t, MacroF1(PerClass(verdicts, nil)).Defined())
}

func TestConfusionAndKappa(t *testing.T) {
	m := Confusion(verdicts, sample())
	assert.Equal(t, []string{"security", "not-security", "needs-info", "invalid", NoAnswer}, m.Labels)
	assert.Equal(t, [][]int{
		{1, 1, 0, 0, 1},
		{1, 1, 0, 0, 0},
		{0, 0, 1, 1, 0},
		{0, 0, 0, 0, 0},
		{0, 0, 0, 0, 0},
	}, m.Counts)
	assert.Equal(t, 7, m.Total())
	// po = 3/7; rows (3,2,2,0,0), columns (2,2,1,1,1):
	// pe = (3·2 + 2·2 + 2·1)/49 = 12/49; kappa = (21-12)/(49-12) = 9/37.
	near(t, 9.0/37, m.Kappa())
}

func TestConfusionAppendsUnknownLabelsSorted(t *testing.T) {
	m := Confusion([]string{"a"}, []Pair{{True: "a", Pred: "z"}, {True: "c", Pred: "a"}})
	assert.Equal(t, []string{"a", "c", "z"}, m.Labels)
	assert.Equal(t, [][]int{{0, 0, 1}, {1, 0, 0}, {0, 0, 0}}, m.Counts)
}

func TestKappaEdgeCases(t *testing.T) {
	assert.False(t, Confusion(verdicts, nil).Kappa().Defined(), "empty")
	one := []Pair{{True: "security", Pred: "security"}, {True: "security", Pred: "security"}}
	assert.False(t, Confusion(verdicts, one).Kappa().Defined(), "one label on both sides: pe = 1")
	// One true class, predictions split: po = 1/2, pe = (2·1)/4 = 1/2, kappa 0.
	split := []Pair{{True: "security", Pred: "security"}, {True: "security", Pred: "invalid"}}
	near(t, 0, Confusion(verdicts, split).Kappa())
	// Perfect on two classes: kappa 1.
	perfect := []Pair{{True: "security", Pred: "security"}, {True: "invalid", Pred: "invalid"}}
	near(t, 1, Confusion(verdicts, perfect).Kappa())
}

func TestRecallOf(t *testing.T) {
	r, missed := RecallOf("security", sample())
	near(t, 1.0/3, r)
	assert.Equal(t, []string{"s2", "s3"}, missed)
	r, missed = RecallOf("invalid", sample())
	assert.False(t, r.Defined(), "no invalid report")
	assert.Empty(t, missed)
}

func TestAgree(t *testing.T) {
	g := Agree([]string{"a", "b", "c", "d"}, []string{"x", "x", "", "y"}, []string{"x", "y", "x", "y"})
	assert.Equal(t, 3, g.N, "c is left out: one side has no answer")
	assert.Equal(t, 2, g.Agree)
	near(t, 2.0/3, g.Rate)
	assert.Equal(t, []string{"b"}, g.Disagreeing)
	assert.False(t, Agree(nil, nil, nil).Rate.Defined())
}

func TestBrierAndCalibration(t *testing.T) {
	// Answered rows only (s3 is an error): squared gaps 0.01, 0.36, 0.04,
	// 0.49, 0.0025, 0.09; sum 0.9925 over 6.
	near(t, 0.9925/6, Brier(sample()))
	bins := Reliability(sample(), 10)
	require.Len(t, bins, 10)
	assert.Equal(t, 2, bins[9].N)
	near(t, 0.925, bins[9].Confidence)
	near(t, 1, bins[9].Accuracy)
	assert.Equal(t, 1, bins[3].N)
	assert.Equal(t, 0, bins[0].N)
	assert.False(t, bins[0].Accuracy.Defined())
	// ECE = (2·|1-0.925| + |0-0.6| + |1-0.8| + |0-0.7| + |0-0.3|)/6 = 1.95/6.
	near(t, 1.95/6, ECE(bins))

	assert.False(t, Brier(nil).Defined())
	assert.False(t, ECE(Reliability(nil, 10)).Defined())
	// Confidence 1 lands in the last bin, out-of-range values are clamped.
	bins = Reliability([]Pair{{True: "a", Pred: "a", Confidence: 1}, {True: "a", Pred: "b", Confidence: -2}}, 10)
	assert.Equal(t, 1, bins[9].N)
	assert.Equal(t, 1, bins[0].N)
	near(t, 0, ECE(bins), "confident and right, unconfident and wrong")
	near(t, 0, Brier([]Pair{{True: "a", Pred: "a", Confidence: 1}}))
}

func TestQuantile(t *testing.T) {
	xs := []float64{4, 1, 3, 2}
	near(t, 2.5, Quantile(xs, 0.5), "tie between ranks 2 and 3 is interpolated")
	near(t, 3.85, Quantile(xs, 0.95))
	near(t, 1, Quantile(xs, 0))
	near(t, 4, Quantile(xs, 1))
	near(t, 7, Quantile([]float64{7}, 0.95))
	assert.Equal(t, []float64{4, 1, 3, 2}, xs, "input left unsorted")
	assert.False(t, Quantile(nil, 0.5).Defined())
}

func TestBootstrap(t *testing.T) {
	ps := sample()
	a := bootstrap(ps, Accuracy, 1000, 7)
	b := bootstrap(ps, Accuracy, 1000, 7)
	assert.Equal(t, a, b, "same seed, same interval")
	assert.Equal(t, 1000, a.Resamples)
	assert.LessOrEqual(t, float64(a.Lo), 3.0/7)
	assert.GreaterOrEqual(t, float64(a.Hi), 3.0/7)
	assert.Less(t, float64(a.Lo), float64(a.Hi))
	assert.GreaterOrEqual(t, float64(a.Lo), 0.0)
	assert.LessOrEqual(t, float64(a.Hi), 1.0)
	c := bootstrap(ps, Accuracy, 1000, 8)
	assert.NotEqual(t, a, c, "another seed draws other resamples")

	allRight := []Pair{{True: "a", Pred: "a"}, {True: "b", Pred: "b"}}
	ci := bootstrap(allRight, Accuracy, 200, 1)
	near(t, 1, ci.Lo)
	near(t, 1, ci.Hi)

	// Resamples with an undefined statistic are skipped: security recall
	// is undefined in resamples that hold no security report.
	rec := func(ps []Pair) Num { r, _ := RecallOf("security", ps); return r }
	ci = bootstrap([]Pair{{True: "security", Pred: "security"}, {True: "x", Pred: "x"}}, rec, 500, 3)
	assert.Less(t, ci.Resamples, 500)
	assert.Greater(t, ci.Resamples, 0)
	near(t, 1, ci.Lo)

	empty := bootstrap(nil, Accuracy, 100, 1)
	assert.False(t, empty.Lo.Defined())
	assert.False(t, empty.Hi.Defined())
}

func TestMcNemar(t *testing.T) {
	// b=1, c=6: n=7, P[X<=1] = (C(7,0)+C(7,1))/2^7 = 8/128, p = 2·8/128 = 0.125.
	assert.InDelta(t, 0.125, McNemar(1, 6), 1e-12)
	assert.InDelta(t, 0.125, McNemar(6, 1), 1e-12, "symmetric")
	// b=2, c=10: n=12, P[X<=2] = (1+12+66)/4096 = 79/4096, p = 158/4096.
	assert.InDelta(t, 158.0/4096, McNemar(2, 10), 1e-12)
	// b=0, c=5: p = 2/32.
	assert.InDelta(t, 2.0/32, McNemar(0, 5), 1e-12)
	// Balanced flips: 2·P[X<=5] with n=10 exceeds 1, so p is capped at 1.
	assert.Equal(t, 1.0, McNemar(5, 5))
	assert.Equal(t, 1.0, McNemar(0, 0), "no discordant pairs")
	// Large n stays finite and tiny.
	p := McNemar(0, 2000)
	assert.False(t, math.IsNaN(p))
	assert.Less(t, p, 1e-300)
}

func TestRuleStats(t *testing.T) {
	st := RuleStats([]RuleHit{
		{Rule: "uaf", Category: "isolation.memory", TrueCategory: "isolation.memory"},
		{Rule: "uaf", Category: "isolation.memory", TrueCategory: "privilege.root"},
		{Rule: "uaf", Category: "isolation.memory", TrueCategory: "isolation.memory"},
		{Rule: "root", Category: "privilege.root", TrueCategory: "privilege.root"},
		{Rule: "kasan", Category: "config.debug-feature", TrueCategory: "info.missing"},
	})
	require.Len(t, st, 3)
	assert.Equal(t, "uaf", st[0].Rule)
	assert.Equal(t, 3, st[0].Hits)
	assert.Equal(t, 2, st[0].Correct)
	near(t, 2.0/3, st[0].Precision)
	assert.Equal(t, map[string]int{"isolation.memory": 2, "privilege.root": 1}, st[0].ByTrue)
	// Ties on hits are ordered by rule id.
	assert.Equal(t, "kasan", st[1].Rule)
	near(t, 0, st[1].Precision)
	assert.Equal(t, "root", st[2].Rule)
	near(t, 1, st[2].Precision)
	assert.Empty(t, RuleStats(nil))
}

func TestNumJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		A Num `json:"a"`
		B Num `json:"b"`
	}{0.25, NaN()})
	require.NoError(t, err)
	assert.JSONEq(t, `{"a":0.25,"b":null}`, string(b))
	var back struct {
		A Num `json:"a"`
		B Num `json:"b"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, Num(0.25), back.A)
	assert.False(t, back.B.Defined())
	assert.Equal(t, "n/a", back.B.String())
	assert.Equal(t, "0.250", back.A.String())
	assert.Error(t, json.Unmarshal([]byte(`{"a":"x"}`), &back))
}
