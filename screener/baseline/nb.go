package baseline

import (
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
		pairs := make([][2]int, 0, len(counts[c]))
		for j, n := range counts[c] {
			pairs = append(pairs, [2]int{j, n})
		}
		slices.SortFunc(pairs, func(a, b [2]int) int { return a[0] - b[0] })
		m.Classes[c].Counts = pairs
	}
	m.prepare()
	return m
}

// prepareNB computes the log-probabilities from the counts.
func (m *Model) prepareNB() {
	nc, nv := len(m.Classes), len(m.Vocabulary)
	alpha := m.Options.Alpha
	n := 0
	for _, cl := range m.Classes {
		n += cl.Docs
	}
	m.prior = make([]float64, nc)
	m.logp = make([]float64, nv*nc)
	for c, cl := range m.Classes {
		m.prior[c] = math.Log(float64(cl.Docs+1) / float64(n+nc))
		denom := float64(cl.Total) + alpha*float64(nv)
		unseen := math.Log(alpha / denom)
		for j := range nv {
			m.logp[j*nc+c] = unseen
		}
		for _, p := range cl.Counts {
			m.logp[p[0]*nc+c] = math.Log((float64(p[1]) + alpha) / denom)
		}
	}
}

// rawNB returns the log joint probability of each class.
func (m *Model) rawNB(terms []term) []float64 {
	nc := len(m.Classes)
	s := slices.Clone(m.prior)
	for _, t := range terms {
		row := m.logp[t.j*nc : (t.j+1)*nc]
		for c, lp := range row {
			s[c] += float64(t.weight) * lp
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
			if p[0] <= last || p[0] >= len(m.Vocabulary) || p[1] < 1 {
				return fmt.Errorf("class %s: bad count %v", cl.ID, p)
			}
			last = p[0]
			total += p[1]
		}
		if total != cl.Total {
			return fmt.Errorf("class %s: total %d, counts sum to %d", cl.ID, cl.Total, total)
		}
	}
	return nil
}
