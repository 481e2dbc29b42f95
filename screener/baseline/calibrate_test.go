package baseline

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// heldOut predicts examples the model has not seen and returns the
// accuracy, the mean confidence and the security recall.
func heldOut(t *testing.T, m *Model, eng *rules.Engine, ex []Example) (acc, conf, secRecall float64) {
	t.Helper()
	hashes := make([]string, len(ex))
	for i, e := range ex {
		hashes[i] = ReportHash(e.Report)
	}
	require.Zero(t, m.Overlap(hashes), "held-out examples were trained on")
	right, sec, secRight := 0, 0, 0
	for _, e := range ex {
		ev := eng.Evaluate(e.Report)
		p := m.Predict(e.Report, &ev)
		conf += p.Confidence
		if p.Verdict == e.Verdict {
			right++
		}
		if e.Verdict == "security" {
			sec++
			if p.Verdict == "security" {
				secRight++
			}
		}
	}
	n := float64(len(ex))
	return float64(right) / n, conf / n, float64(secRight) / math.Max(1, float64(sec))
}

// On well separated reports the calibrated model is right and says so.
func TestCalibrationOnASeparableSet(t *testing.T) {
	eng := kernelEngine(t)
	for _, algo := range algos {
		t.Run(algo, func(t *testing.T) {
			m, err := Train(handExamples(10, 0), eng, TrainOptions{Algo: algo})
			require.NoError(t, err)
			assert.Equal(t, 1.0, m.Stats.CVVerdictAccuracy)
			assert.LessOrEqual(t, m.Stats.CVECE, 0.1)
			acc, conf, _ := heldOut(t, m, eng, handExamples(10, 10))
			assert.Equal(t, 1.0, acc)
			assert.GreaterOrEqual(t, conf, 0.85, "right every time, and confident")
		})
	}
}

// noisy returns n examples of each kind with a seeded share of the labels
// moved to another kind, so that no model can be right more often than
// about 1-share, and a calibrated one must not claim to be.
func noisy(n, offset int, share float64, seed uint64) []Example {
	ex := handExamples(n, offset)
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := range ex {
		if rng.Float64() < share {
			k := (kindOf(ex[i]) + 1 + rng.IntN(len(kinds)-1)) % len(kinds)
			ex[i].Verdict, ex[i].Category = threatmodel.Verdict(kinds[k].verdict), kinds[k].category
		}
	}
	return ex
}

func kindOf(e Example) int {
	for k, kind := range kinds {
		if kind.category == e.Category {
			return k
		}
	}
	return -1
}

// With a fifth of the labels wrong, the confidence on reports the model has
// not seen tracks its accuracy there instead of claiming certainty.
func TestCalibrationWithLabelNoise(t *testing.T) {
	eng := kernelEngine(t)
	for _, algo := range algos {
		t.Run(algo, func(t *testing.T) {
			// The noise hides security reports among the others; reaching
			// 0.95 recall of them would take calling nearly everything
			// security. This test is about the confidence.
			m, err := Train(noisy(20, 0, 0.2, 1), eng, TrainOptions{Algo: algo, TargetRecall: 0.5})
			require.NoError(t, err)
			assert.LessOrEqual(t, m.Stats.CVECE, 0.15, "60 held-out predictions in 10 bins")
			acc, conf, _ := heldOut(t, m, eng, noisy(20, 20, 0.2, 2))
			t.Logf("%s: held-out accuracy %.3f, mean confidence %.3f, temperature %g, cv ece %.3f", algo, acc, conf, m.Temperature, m.Stats.CVECE)
			assert.Greater(t, acc, 0.6)
			assert.InDelta(t, acc, conf, 0.12, "confidence tracks accuracy")
			assert.Less(t, conf, 0.95, "no false certainty")
		})
	}
}

// hardSecurity returns clear security reports, not-security reports, and
// security reports that are copies of not-security ones but for a closing
// word of their own (too rare to be a feature): no model can tell those from the rest, so the most
// probable verdict misses them, and only a lower security threshold finds
// them.
func hardSecurity() []Example {
	var ex []Example
	for i := range 20 {
		ex = append(ex, Example{Report: handReport(0, i), Label: threatmodel.Label{Verdict: threatmodel.Verdict(kinds[0].verdict), Category: kinds[0].category}})
	}
	for i := range 40 {
		ex = append(ex, Example{Report: handReport(1, i), Label: threatmodel.Label{Verdict: threatmodel.Verdict(kinds[1].verdict), Category: kinds[1].category}})
		if i%4 == 3 {
			twin := handReport(1, i)
			twin.ID += "-twin"
			twin.Body += fmt.Sprintf("\nzz%c%c\n", 'a'+i%26, 'a'+i/26)
			ex = append(ex, Example{Report: twin, Label: threatmodel.Label{Verdict: threatmodel.Verdict(kinds[0].verdict), Category: kinds[0].category}})
		}
	}
	return ex
}

func TestThresholdReachesTheTargetRecall(t *testing.T) {
	eng := kernelEngine(t)
	ex := hardSecurity()
	for _, algo := range algos {
		t.Run(algo, func(t *testing.T) {
			m, err := Train(ex, eng, TrainOptions{Algo: algo})
			require.NoError(t, err)
			t.Logf("%s: threshold %.2f, cv security recall %.3f, precision %.3f", algo, m.SecurityThreshold, m.Stats.CVSecurityRecall, m.Stats.CVSecurityPrecision)
			assert.Less(t, m.SecurityThreshold, 0.5, "the most probable verdict misses the hidden security reports")
			assert.GreaterOrEqual(t, m.Stats.CVSecurityRecall, DefaultTargetRecall)

			// The same held-out predictions, decided by the most probable
			// verdict, miss the target: the threshold does the work.
			ts := newTrainSet(ex, eng, m.Options)
			_, oof := heldOutScores(ts)
			pvs, truth := make([][]float64, len(oof)), make([]int, len(oof))
			for i, r := range oof {
				pvs[i], _ = m.probs(r, m.Temperature)
				truth[i] = m.vOf[ts.cls[i]]
			}
			argmax, _ := securityAt(m, pvs, truth, 0.5)
			at, _ := securityAt(m, pvs, truth, m.SecurityThreshold)
			t.Logf("%s: held-out security recall %.3f by the most probable verdict, %.3f at the threshold", algo, argmax, at)
			assert.Less(t, argmax, DefaultTargetRecall)
			assert.Equal(t, m.Stats.CVSecurityRecall, round4(at))
			above, _ := securityAt(m, pvs, truth, m.SecurityThreshold+0.01)
			assert.Less(t, above, DefaultTargetRecall, "the threshold is the largest that reaches the target")

			// A stricter target gives a lower threshold, never a higher one.
			strict, err := Train(ex, eng, TrainOptions{Algo: algo, TargetRecall: 1})
			require.NoError(t, err)
			assert.LessOrEqual(t, strict.SecurityThreshold, m.SecurityThreshold)
			assert.Equal(t, 1.0, strict.Stats.CVSecurityRecall)

			// A report like the hidden ones is called security exactly
			// when its probability reaches the threshold, with that
			// calibrated probability as the confidence.
			for i := 40; i < 48; i++ {
				r := handReport(1, i)
				ev := eng.Evaluate(r)
				p := m.Predict(r, &ev)
				var psec float64
				for _, v := range p.Verdicts {
					if v.Verdict == "security" {
						psec = v.Prob
					}
				}
				if psec >= m.SecurityThreshold {
					assert.Equal(t, threatmodel.Security, p.Verdict)
					assert.Equal(t, psec, p.Confidence)
					assert.Equal(t, threatmodel.Security, p.Verdicts[0].Verdict, "the decision leads the ranking")
				} else {
					assert.Equal(t, threatmodel.NotSecurity, p.Verdict)
				}
			}
		})
	}
}
