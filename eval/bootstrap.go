package eval

import (
	"slices"
	"sync"
)

// verdictIntervals returns the three bootstrap intervals ScorePairs gives a
// predictor's verdicts: of accuracy (seed), of the macro F1 over classes
// (seed+1) and of the recall of class security (seed+2). Each is the very
// interval Bootstrap computes with that statistic and seed: the same
// draws, and the statistic from the same counts with the same arithmetic.
// Only the counting differs: the pairs are numbered once, and a resample
// adds up counts by number instead of copying pairs and comparing their
// strings again (12 intervals of 1,000 resamples were a tenth of a warm
// eval's time). The three run at once.
func verdictIntervals(ps []Pair, classes []string, security string, resamples int, seed uint64) (acc, macro, secRecall CI) {
	none := CI{Lo: NaN(), Hi: NaN(), Level: 0.95}
	if len(ps) == 0 || resamples <= 0 {
		return none, none, none
	}
	type coded struct {
		correct          bool
		t, p             int // index in classes of True and Pred, -1 if not there
		secTrue, secPred bool
	}
	cs := make([]coded, len(ps))
	for i, p := range ps {
		cs[i] = coded{correct: p.Correct(), t: slices.Index(classes, p.True), p: slices.Index(classes, p.Pred),
			secTrue: p.True == security, secPred: p.Pred == security}
	}
	n := len(cs)
	draw := func(seed uint64, stat func(idx []int) Num) CI {
		rng := bootstrapRNG(seed)
		idx := make([]int, n)
		vals := make([]float64, 0, resamples)
		for range resamples {
			for i := range idx {
				idx[i] = rng.IntN(n)
			}
			if v := stat(idx); v.Defined() {
				vals = append(vals, float64(v))
			}
		}
		return percentileCI(none, vals)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		acc = draw(seed, func(idx []int) Num { // Accuracy
			ok := 0
			for _, i := range idx {
				if cs[i].correct {
					ok++
				}
			}
			return ratio(ok, len(idx))
		})
	})
	wg.Go(func() {
		stats := make([]ClassStats, len(classes))
		macro = draw(seed+1, func(idx []int) Num { // MacroF1(PerClass(classes, sample))
			for c := range stats {
				stats[c] = ClassStats{Class: classes[c]}
			}
			for _, i := range idx {
				t, p := cs[i].t, cs[i].p
				switch {
				case t >= 0 && t == p:
					stats[t].TP++
				default:
					if t >= 0 {
						stats[t].FN++
					}
					if p >= 0 {
						stats[p].FP++
					}
				}
			}
			for c := range stats {
				stats[c].fill()
			}
			return MacroF1(stats)
		})
	})
	wg.Go(func() {
		secRecall = draw(seed+2, func(idx []int) Num { // RecallOf(security, sample)
			tp, support := 0, 0
			for _, i := range idx {
				if cs[i].secTrue {
					support++
					if cs[i].secPred {
						tp++
					}
				}
			}
			return ratio(tp, support)
		})
	})
	wg.Wait()
	return acc, macro, secRecall
}
