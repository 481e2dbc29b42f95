package baseline

import (
	"fmt"
	"math"
	"slices"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Logistic regression reads a report as a sparse vector of its known
// features, each weighted by its smoothed inverse document frequency in the
// training reports, idf = ln((n+1)/(df+1)) + 1: the words' block (words and
// word pairs) is scaled to unit length, so a long report does not shout,
// and the rules' block (rule, fact, privilege and missing-information
// features) to length RuleScale. A verdict model (one weight per verdict
// and feature, plus a bias) decides the verdict and its probability; a
// category model over all categories, on the same features, ranks the
// categories within the chosen verdict. Both minimise the class-balanced
// mean log-loss (each class weighs the same, see rowWeights) plus
// λ/2·‖w‖² (biases unpenalised) with L-BFGS, so a fit is deterministic. The weights are rounded to four decimal places when a fit
// ends (weightScale), which keeps the file small; the rounded weights are
// the ones that predict, before and after Save.

// weightScale is the reciprocal of the weights' rounding step.
const weightScale = 1e4

// lbfgs tuning: history length, iteration cap, and the gradient size
// (max norm) at which a fit has converged.
const (
	lbfgsMemory  = 8
	lbfgsMaxIter = 400
	lbfgsGradTol = 1e-5
)

// xv is one non-zero feature value of a report.
type xv struct {
	j int32
	v float64
}

// vector turns the known terms of a report into its feature vector.
func vector(terms []term, idf []float64, ruleScale float64) []xv {
	nt, nr := 0.0, 0.0
	for _, t := range terms {
		if t.rule {
			nr += idf[t.j] * idf[t.j]
		} else {
			nt += idf[t.j] * idf[t.j]
		}
	}
	nt, nr = math.Sqrt(nt), math.Sqrt(nr)/ruleScale
	out := make([]xv, len(terms))
	for i, t := range terms {
		norm := nt
		if t.rule {
			norm = nr
		}
		out[i] = xv{j: int32(t.j), v: idf[t.j] / norm}
	}
	return out
}

// lrProblem is one multinomial logistic regression: rows and their class,
// k classes, d features; weights are laid out feature-major, w[j*k+c],
// with the biases in row d.
type lrProblem struct {
	rows   [][]xv
	y      []int
	sw     []float64 // weight of each row; they sum to 1
	k, d   int
	lambda float64
}

// loss returns the objective at w and writes its gradient to g.
func (p *lrProblem) loss(w, g []float64) float64 {
	clear(g)
	k, bias := p.k, p.d*p.k
	z := make([]float64, k)
	f := 0.0
	for i, row := range p.rows {
		inv := p.sw[i]
		copy(z, w[bias:bias+k])
		for _, x := range row {
			base := int(x.j) * k
			for c := range k {
				z[c] += x.v * w[base+c]
			}
		}
		mx := slices.Max(z)
		zy := z[p.y[i]]
		s := 0.0
		for c := range k {
			z[c] = math.Exp(z[c] - mx)
			s += z[c]
		}
		f += inv * (math.Log(s) + mx - zy)
		for c := range k {
			d := z[c] / s
			if c == p.y[i] {
				d--
			}
			d *= inv
			z[c] = d
			g[bias+c] += d
		}
		for _, x := range row {
			base := int(x.j) * k
			for c := range k {
				g[base+c] += x.v * z[c]
			}
		}
	}
	for i := range bias {
		f += p.lambda / 2 * w[i] * w[i]
		g[i] += p.lambda * w[i]
	}
	return f
}

// minimize runs L-BFGS from w (changed in place) with a backtracking line
// search, until the gradient is small, progress stalls, or the iteration
// cap. The objective is strictly convex, so the result does not depend on
// the start beyond the tolerance.
func (p *lrProblem) minimize(w []float64) {
	n := len(w)
	g := make([]float64, n)
	f := p.loss(w, g)
	var ss, ys [][]float64
	var rho []float64
	d := make([]float64, n)
	alpha := make([]float64, lbfgsMemory)
	wNew := make([]float64, n)
	gNew := make([]float64, n)
	for iter := 0; iter < lbfgsMaxIter; iter++ {
		if maxAbs(g) < lbfgsGradTol {
			return
		}
		// Two-loop recursion: d = -H·g.
		for i := range d {
			d[i] = -g[i]
		}
		for h := len(ss) - 1; h >= 0; h-- {
			alpha[h] = rho[h] * dot(ss[h], d)
			axpy(-alpha[h], ys[h], d)
		}
		if len(ss) > 0 {
			last := len(ss) - 1
			scale(dot(ss[last], ys[last])/dot(ys[last], ys[last]), d)
		} else {
			scale(1/math.Max(1, math.Sqrt(dot(g, g))), d)
		}
		for h := range ss {
			b := rho[h] * dot(ys[h], d)
			axpy(alpha[h]-b, ss[h], d)
		}
		gd := dot(g, d)
		if !(gd < 0) {
			// Not a descent direction: forget the history and go down.
			ss, ys, rho = nil, nil, nil
			for i := range d {
				d[i] = -g[i]
			}
			scale(1/math.Max(1, math.Sqrt(dot(g, g))), d)
			gd = dot(g, d)
		}
		step, fNew := 1.0, 0.0
		for try := 0; ; try++ {
			for i := range w {
				wNew[i] = w[i] + step*d[i]
			}
			fNew = p.loss(wNew, gNew)
			if fNew <= f+1e-4*step*gd || try == 40 {
				break
			}
			step /= 2
		}
		if !(fNew < f) {
			return
		}
		s := make([]float64, n)
		y := make([]float64, n)
		for i := range w {
			s[i] = wNew[i] - w[i]
			y[i] = gNew[i] - g[i]
		}
		if sy := dot(s, y); sy > 1e-12 {
			if len(ss) == lbfgsMemory {
				ss, ys, rho = ss[1:], ys[1:], rho[1:]
			}
			ss, ys, rho = append(ss, s), append(ys, y), append(rho, 1/sy)
		}
		done := f-fNew < 1e-10*math.Max(1, math.Abs(f))
		copy(w, wNew)
		copy(g, gNew)
		f = fNew
		if done {
			return
		}
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i := range x {
		y[i] += a * x[i]
	}
}

func scale(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}

func maxAbs(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// lrFit is a fitted pair of weight vectors, for warm starts.
type lrFit struct {
	verdict, category []float64
}

// fitLR fits logistic regression to the reports idx of ts with L2
// strength lambda. With verdictOnly it skips the category model (to choose
// lambda). warm, when not nil, holds weights of a fit to the same reports
// to start from.
func fitLR(ts *trainSet, idx []int, lambda float64, verdictOnly bool, warm *lrFit) (*Model, *lrFit) {
	m := ts.newModel(KindLogReg, idx)
	m.Verdicts = slices.Clone(ts.verdict)
	m.Lambda = lambda
	m.prepare()
	df := make([]int, len(m.Vocabulary))
	for _, i := range idx {
		for _, t := range m.known(ts.docs[i]) {
			df[t.j]++
		}
	}
	m.IDF = make([]float64, len(df))
	for j, n := range df {
		m.IDF[j] = round4(math.Log(float64(len(idx)+1)/float64(n+1)) + 1)
	}
	rows := make([][]xv, len(idx))
	yv := make([]int, len(idx))
	yc := make([]int, len(idx))
	for r, i := range idx {
		rows[r] = vector(m.known(ts.docs[i]), m.IDF, m.Options.RuleScale)
		yc[r] = ts.cls[i]
		yv[r] = m.vOf[yc[r]]
	}
	d := len(m.Vocabulary)
	fit := &lrFit{}
	solve := func(k int, y []int, start []float64) ([][]float64, []float64) {
		p := &lrProblem{rows: rows, y: y, sw: rowWeights(y, k), k: k, d: d, lambda: lambda}
		w := make([]float64, (d+1)*k)
		if len(start) == len(w) {
			copy(w, start)
		}
		p.minimize(w)
		out := make([][]float64, d+1)
		for j := range out {
			out[j] = make([]float64, k)
			for c := range k {
				x := math.Round(w[j*k+c]*weightScale) / weightScale
				if x == 0 {
					x = 0 // no negative zero in the file
				}
				out[j][c] = x
			}
		}
		return out, w
	}
	var ws *lrFit
	if warm != nil {
		ws = warm
	} else {
		ws = &lrFit{}
	}
	m.VerdictWeights, fit.verdict = solve(len(m.Verdicts), yv, ws.verdict)
	if !verdictOnly {
		m.CategoryWeights, fit.category = solve(len(m.Classes), yc, ws.category)
	}
	return m, fit
}

// rawLR returns the verdict and the category logits.
func (m *Model) rawLR(terms []term) (verdict, category []float64) {
	x := vector(terms, m.IDF, m.Options.RuleScale)
	logits := func(w [][]float64, k int) []float64 {
		if len(w) == 0 {
			return nil
		}
		z := slices.Clone(w[len(w)-1])
		for _, f := range x {
			row := w[f.j]
			for c := range k {
				z[c] += f.v * row[c]
			}
		}
		return z
	}
	return logits(m.VerdictWeights, len(m.Verdicts)), logits(m.CategoryWeights, len(m.Classes))
}

// checkLR validates logistic regression's weights.
func (m *Model) checkLR() error {
	switch {
	case len(m.Verdicts) == 0:
		return fmt.Errorf("a %s model without verdicts", m.Kind)
	case !(m.Lambda > 0) || math.IsInf(m.Lambda, 0):
		return fmt.Errorf("lambda %v is not positive", m.Lambda)
	case len(m.IDF) != len(m.Vocabulary):
		return fmt.Errorf("%d idf weights for %d features", len(m.IDF), len(m.Vocabulary))
	}
	for j, x := range m.IDF {
		if !(x >= 1) || math.IsInf(x, 0) {
			return fmt.Errorf("idf weight %v of %q is below 1", x, m.Vocabulary[j])
		}
	}
	for _, cl := range m.Classes {
		if cl.Total != 0 || len(cl.Counts) > 0 {
			return fmt.Errorf("class %s: a %s model holds counts", cl.ID, m.Kind)
		}
		if !slices.Contains(m.Verdicts, cl.Verdict) {
			return fmt.Errorf("class %s: verdict %s is not among the model's verdicts", cl.ID, cl.Verdict)
		}
	}
	last := -1
	for _, v := range m.Verdicts {
		i := slices.Index(threatmodel.Verdicts, v)
		if i <= last {
			return fmt.Errorf("verdicts %v are not distinct verdicts in order", m.Verdicts)
		}
		last = i
	}
	for name, w := range map[string]struct {
		rows [][]float64
		k    int
	}{"verdict": {m.VerdictWeights, len(m.Verdicts)}, "category": {m.CategoryWeights, len(m.Classes)}} {
		if len(w.rows) != len(m.Vocabulary)+1 {
			return fmt.Errorf("%s weights: %d rows for %d features and the bias", name, len(w.rows), len(m.Vocabulary))
		}
		for j, row := range w.rows {
			if len(row) != w.k {
				return fmt.Errorf("%s weights: row %d has %d weights, want %d", name, j, len(row), w.k)
			}
			for _, x := range row {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return fmt.Errorf("%s weights: row %d is not finite", name, j)
				}
			}
		}
	}
	return nil
}

// rowWeights weighs each row inversely to the size of its class, so that
// every class weighs the same in the loss, normalised to sum 1. Without
// it the model all but never says needs-info or invalid, the rare
// verdicts; the temperature then calibrates the probabilities.
func rowWeights(y []int, k int) []float64 {
	n := make([]int, k)
	for _, c := range y {
		n[c]++
	}
	w := make([]float64, len(y))
	sum := 0.0
	for i, c := range y {
		w[i] = 1 / float64(n[c])
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}
