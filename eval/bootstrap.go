package eval

import (
	"encoding/binary"
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
// draws per interval: the generator runs once for them all. The three
// intervals are drawn at once, on their own goroutines.
//
// A resample is counted once for all the predictors that share its draws:
// each pair has a joint outcome (what statistic k needs of it, for every
// one of them: see jointOutcomes), a resample counts how many times it
// drew each joint outcome, and each predictor's statistic is computed
// from those few counts (k's counts, the same integers as counting pair by
// pair): counting every drawn pair once per predictor was the larger part
// of the intervals' CPU, after the last report is screened.
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
				sets := make([]codedPairs, len(members))
				for m, s := range members {
					sets[m] = coded[s]
				}
				ids, outcomes := jointOutcomes(sets, k)
				rng := newDrawer(seed + uint64(k))
				counts := make([]int, len(outcomes))
				vals := make([][]float64, len(members))
				stats := make([]ClassStats, len(classes))
				for range resamples {
					clear(counts)
					for range n {
						counts[ids[rng.intN(n)]]++
					}
					for m := range members {
						if v := outcomeStat(k, n, counts, outcomes, m, classes, stats); v.Defined() {
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

// jointOutcomes numbers the joint outcomes of the pairs of sets (all of
// one length) for statistic k: the pairs whose coded pairs agree in what k
// reads of them, in every set, share a number. It returns each pair's
// number and, by number, the outcome's pair in each set.
func jointOutcomes(sets []codedPairs, k int) (ids []int, outcomes [][]codedPair) {
	n := len(sets[0])
	ids = make([]int, n)
	seen := map[string]int{}
	key := make([]byte, 0, 16*len(sets))
	for i := range n {
		key = key[:0]
		for _, cs := range sets {
			key = cs[i].outcome(k).appendKey(key)
		}
		id, ok := seen[string(key)]
		if !ok {
			id = len(outcomes)
			seen[string(key)] = id
			joint := make([]codedPair, len(sets))
			for m, cs := range sets {
				joint[m] = cs[i].outcome(k)
			}
			outcomes = append(outcomes, joint)
		}
		ids[i] = id
	}
	return ids, outcomes
}

// outcome is what statistic k reads of p: correct (0), the classes (1),
// whether truth and prediction are the security class (2).
func (p codedPair) outcome(k int) codedPair {
	switch k {
	case 0:
		return codedPair{correct: p.correct}
	case 1:
		return codedPair{t: p.t, p: p.p}
	default:
		return codedPair{secTrue: p.secTrue, secPred: p.secPred}
	}
}

// appendKey appends p's fields to key, telling every two outcomes apart.
func (p codedPair) appendKey(key []byte) []byte {
	flags := byte(0)
	for bit, set := range []bool{p.correct, p.secTrue, p.secPred} {
		if set {
			flags |= 1 << bit
		}
	}
	key = binary.AppendVarint(key, int64(p.t))
	key = binary.AppendVarint(key, int64(p.p))
	return append(key, flags)
}

// outcomeStat computes statistic k (0 Accuracy, 1 the MacroF1 of
// PerClass(classes), 2 RecallOf(security)) of set m over a
// resample of n pairs that drew joint outcome j counts[j] times: the same
// counts as counting the drawn pairs one by one, and the same arithmetic.
func outcomeStat(k, n int, counts []int, outcomes [][]codedPair, m int, classes []string, stats []ClassStats) Num {
	switch k {
	case 0:
		ok := 0
		for j, c := range counts {
			if outcomes[j][m].correct {
				ok += c
			}
		}
		return ratio(ok, n)
	case 1:
		for c := range stats {
			stats[c] = ClassStats{Class: classes[c]}
		}
		for j, c := range counts {
			t, p := outcomes[j][m].t, outcomes[j][m].p
			switch {
			case t >= 0 && t == p:
				stats[t].TP += c
			default:
				if t >= 0 {
					stats[t].FN += c
				}
				if p >= 0 {
					stats[p].FP += c
				}
			}
		}
		for c := range stats {
			stats[c].fill()
		}
		return MacroF1(stats)
	default:
		tp, support := 0, 0
		for j, c := range counts {
			if outcomes[j][m].secTrue {
				support += c
				if outcomes[j][m].secPred {
					tp += c
				}
			}
		}
		return ratio(tp, support)
	}
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
