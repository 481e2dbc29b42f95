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

// prepareNB computes the log-probabilities from the counts. Counts
// repeat (most are small), so each class's log-probability of a count is
// computed once: the values are those of computing every one afresh, and
// preparing the bundled model takes a fraction of the time.
func (m *Model) prepareNB() {
	nc, nv := len(m.Classes), len(m.Vocabulary)
	alpha := m.Options.Alpha
	n := 0
	for _, cl := range m.Classes {
		n += cl.Docs
	}
	m.prior = make([]float64, nc)
	m.logp = make([]float64, nv*nc)
	unseen := make([]float64, nc)
	for c, cl := range m.Classes {
		m.prior[c] = math.Log(float64(cl.Docs+1) / float64(n+nc))
		unseen[c] = math.Log(alpha / (float64(cl.Total) + alpha*float64(nv)))
	}
	for j := range nv {
		copy(m.logp[j*nc:(j+1)*nc], unseen)
	}
	const memoCounts = 64
	var memo [memoCounts]float64
	for c, cl := range m.Classes {
		denom := float64(cl.Total) + alpha*float64(nv)
		clear(memo[:])
		for _, p := range cl.Counts {
			k := p[1]
			if k >= memoCounts {
				m.logp[p[0]*nc+c] = math.Log((float64(k) + alpha) / denom)
				continue
			}
			if memo[k] == 0 {
				memo[k] = math.Log((float64(k) + alpha) / denom)
			}
			m.logp[p[0]*nc+c] = memo[k]
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
