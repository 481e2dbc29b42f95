package eval

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"
)

// verdictIntervals returns the three 95% percentile bootstrap intervals
// Scores gives a predictor's verdicts: of accuracy (seed), of the macro F1
// over classes (seed+1) and of the recall of class security (seed+2). Each
// is the very interval the plain resample-and-recompute bootstrap (kept in
// bootstrap_test.go as the reference) computes with that statistic and
// seed: the same draws, and the statistic from the same counts with the same arithmetic.
// Only the counting differs: the pairs are numbered once, and a resample
// adds up counts by number instead of copying pairs and comparing their
// strings again (12 intervals of 1,000 resamples were a tenth of a warm
// eval's time).
func verdictIntervals(ps []Pair, classes []string, security string, resamples int, seed uint64) (acc, macro, secRecall CI) {
	cis := verdictIntervalsOf([][]Pair{ps}, classes, security, resamples, seed)[0]
	return cis[0], cis[1], cis[2]
}

// verdictIntervalsOf is verdictIntervals for several predictors at once.
// The draws depend only on the seed and the number of pairs, so
// predictors scored over the same number of reports (the final decision,
// the rules, and usually the model and the baseline) share one stream of
// draws per interval: the generator, most of the cost, runs once for them
// all. The three intervals are drawn at once, on their own goroutines.
func verdictIntervalsOf(sets [][]Pair, classes []string, security string, resamples int, seed uint64) [][3]CI {
	none := CI{Lo: NaN(), Hi: NaN(), Level: 0.95}
	out := make([][3]CI, len(sets))
	bySize := map[int][]int{} // number of pairs → the sets of that size
	coded := make([]codedPairs, len(sets))
	for s, ps := range sets {
		out[s] = [3]CI{none, none, none}
		if len(ps) == 0 || resamples <= 0 {
			continue
		}
		coded[s] = codePairs(ps, classes, security)
		bySize[len(ps)] = append(bySize[len(ps)], s)
	}
	var wg sync.WaitGroup
	for n, members := range bySize {
		for k := range 3 {
			wg.Go(func() {
				rng := newDrawer(seed + uint64(k))
				idx := make([]int, n)
				vals := make([][]float64, len(members))
				stats := make([]ClassStats, len(classes))
				for range resamples {
					for i := range idx {
						idx[i] = rng.intN(n)
					}
					for m, s := range members {
						if v := coded[s].stat(k, idx, classes, stats); v.Defined() {
							vals[m] = append(vals[m], float64(v))
						}
					}
				}
				for m, s := range members {
					out[s][k] = percentileCI(none, vals[m]) // each goroutine writes its own k
				}
			})
		}
	}
	wg.Wait()
	return out
}

// drawer draws the resamples' indexes: bootstrapRNG(seed).IntN, the same
// numbers, with the PCG source called directly rather than through
// rand.Rand's Source interface (drawing through it was 40% of an
// interval's CPU, and the intervals are computed after the last report is
// screened).
type drawer struct {
	src *rand.PCG
	rng *rand.Rand // on 32-bit platforms, where IntN takes another path
}

func newDrawer(seed uint64) drawer {
	src := bootstrapSource(seed)
	return drawer{src: src, rng: rand.New(src)}
}

// intN is rand.Rand.IntN(n) for n > 0: on 64-bit platforms, its
// uint64n, Lemire's multiply-and-reject, with the same rejections.
func (d drawer) intN(n int) int {
	if bits.UintSize == 32 {
		return d.rng.IntN(n)
	}
	u := uint64(n)
	if u&(u-1) == 0 {
		return int(d.src.Uint64() & (u - 1))
	}
	hi, lo := bits.Mul64(d.src.Uint64(), u)
	if lo < u {
		thresh := -u % u
		for lo < thresh {
			hi, lo = bits.Mul64(d.src.Uint64(), u)
		}
	}
	return int(hi)
}

// codedPairs are pairs with their labels numbered for the bootstrap.
type codedPairs []codedPair

type codedPair struct {
	correct          bool
	t, p             int // index in classes of True and Pred, -1 if not there
	secTrue, secPred bool
}

func codePairs(ps []Pair, classes []string, security string) codedPairs {
	cs := make(codedPairs, len(ps))
	for i, p := range ps {
		cs[i] = codedPair{correct: p.Correct(), t: slices.Index(classes, p.True), p: slices.Index(classes, p.Pred),
			secTrue: p.True == security, secPred: p.Pred == security}
	}
	return cs
}

// stat computes statistic k over the resample idx: 0 Accuracy, 1 the
// MacroF1 of PerClass(classes), 2 RecallOf(security). stats is scratch
// space of len(classes).
func (cs codedPairs) stat(k int, idx []int, classes []string, stats []ClassStats) Num {
	switch k {
	case 0:
		ok := 0
		for _, i := range idx {
			if cs[i].correct {
				ok++
			}
		}
		return ratio(ok, len(idx))
	case 1:
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
	default:
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
	}
}
