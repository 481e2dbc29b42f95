package baseline

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// fitNB fits multinomial naive Bayes to the reports idx of ts: the
// weighted feature counts of each class.
func fitNB(ts *trainSet, idx []int) *Model {
	m := ts.newModel(KindNaiveBayes, idx)
	index := make(map[string]int, len(m.Vocabulary))
	for i, name := range m.Vocabulary {
		index[name] = i
	}
	counts := make([]map[int]int, len(m.Classes))
	for c := range counts {
		counts[c] = map[int]int{}
	}
	for _, i := range idx {
		c := ts.cls[i]
		for _, f := range ts.docs[i] {
			if j, ok := index[f.name]; ok {
				counts[c][j] += f.weight
				m.Classes[c].Total += f.weight
			}
		}
	}
	for c := range m.Classes {
		pairs := make([][2]int32, 0, len(counts[c]))
		for j, n := range counts[c] {
			pairs = append(pairs, [2]int32{int32(j), int32(n)}) // Train checked that counts fit
		}
		slices.SortFunc(pairs, func(a, b [2]int32) int { return cmp.Compare(a[0], b[0]) })
		m.Classes[c].Counts = pairs
	}
	m.prepare()
	return m
}

// compactMaxCount is the largest count prepareNB keeps in a byte; tests
// lower it to compare the two tables.
var compactMaxCount = math.MaxUint8

// prepareNB computes the log-probabilities from the counts.
//
// log P(feature | class) depends on the class and the feature's count in
// it alone, and counts are small (at most 48 in the bundled model), so
// when every count fits in a byte the model keeps each feature's counts
// (one byte per class) and a table of each class's log-probability of
// every count up to the largest: a third of a megabyte to build and touch
// where a float64 per feature and class was 2.8 MB, most of what loading
// the bundled model cost. Larger counts keep the float64 table. Either
// way each value is the same log of the same quotient.
func (m *Model) prepareNB() {
	nc, nv := len(m.Classes), len(m.Vocabulary)
	alpha := m.Options.Alpha
	n, maxCount := 0, 0
	for _, cl := range m.Classes {
		n += cl.Docs
		for _, p := range cl.Counts {
			maxCount = max(maxCount, int(p[1]))
		}
	}
	m.prior = make([]float64, nc)
	denom := make([]float64, nc)
	for c, cl := range m.Classes {
		m.prior[c] = math.Log(float64(cl.Docs+1) / float64(n+nc))
		denom[c] = float64(cl.Total) + alpha*float64(nv)
	}
	logp := func(c, k int) float64 { return math.Log((float64(k) + alpha) / denom[c]) }
	m.logp, m.counts, m.logpOf = nil, nil, nil
	if maxCount <= compactMaxCount {
		m.stride = maxCount + 1
		m.logpOf = make([]float64, nc*m.stride)
		for c := range nc {
			for k := range m.stride {
				m.logpOf[c*m.stride+k] = logp(c, k)
			}
		}
		m.counts = make([]uint8, nv*nc)
		for c, cl := range m.Classes {
			for _, p := range cl.Counts {
				m.counts[int(p[0])*nc+c] = uint8(p[1])
			}
		}
		return
	}
	m.logp = make([]float64, nv*nc)
	for c := range nc {
		unseen := logp(c, 0)
		for j := range nv {
			m.logp[j*nc+c] = unseen
		}
	}
	for c, cl := range m.Classes {
		for _, p := range cl.Counts {
			m.logp[int(p[0])*nc+c] = logp(c, int(p[1]))
		}
	}
}

// logProb returns log P(feature j | class c).
func (m *Model) logProb(j, c int) float64 {
	nc := len(m.Classes)
	if m.logp != nil {
		return m.logp[j*nc+c]
	}
	return m.logpOf[c*m.stride+int(m.counts[j*nc+c])]
}

// rawNB returns the log joint probability of each class.
func (m *Model) rawNB(terms []term) []float64 {
	nc := len(m.Classes)
	s := slices.Clone(m.prior)
	if m.logp != nil {
		for _, t := range terms {
			row := m.logp[t.j*nc : (t.j+1)*nc]
			for c, lp := range row {
				s[c] += float64(t.weight) * lp
			}
		}
		return s
	}
	for _, t := range terms {
		row := m.counts[t.j*nc : (t.j+1)*nc]
		for c, k := range row {
			s[c] += float64(t.weight) * m.logpOf[c*m.stride+int(k)]
		}
	}
	return s
}

// checkNB validates naive Bayes' counts.
func (m *Model) checkNB() error {
	if len(m.Verdicts) > 0 || len(m.IDF) > 0 || len(m.VerdictWeights) > 0 || len(m.CategoryWeights) > 0 || m.Lambda != 0 {
		return fmt.Errorf("a %s model holds logistic regression weights", m.Kind)
	}
	for _, cl := range m.Classes {
		total, last := 0, -1
		for _, p := range cl.Counts {
			if int(p[0]) <= last || int(p[0]) >= len(m.Vocabulary) || p[1] < 1 {
				return fmt.Errorf("class %s: bad count %v", cl.ID, p)
			}
			last = int(p[0])
			total += int(p[1])
		}
		if total != cl.Total {
			return fmt.Errorf("class %s: total %d, counts sum to %d", cl.ID, cl.Total, total)
		}
	}
	return nil
}
