package baseline

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// term is one known feature of a report: its vocabulary index, its naive
// Bayes count and whether it comes from the rules.
type term struct {
	j, weight int
	rule      bool
}

// known returns the features of a report that the model's vocabulary
// holds, in the order given.
func (m *Model) known(feats []feature) []term {
	out := make([]term, 0, len(feats))
	for _, f := range feats {
		if j, ok := m.index.lookup(f.name); ok {
			out = append(out, term{j: j, weight: f.weight, rule: isRuleFeature(f.name)})
		}
	}
	return out
}

// rawScores are a model's scores for one report before calibration:
// naive Bayes' log joint per class (category), or logistic regression's
// verdict and category logits.
type rawScores struct {
	verdict, category []float64
}

// raw scores the known terms of a report.
func (m *Model) raw(terms []term) rawScores {
	if m.Kind == KindNaiveBayes {
		return rawScores{category: m.rawNB(terms)}
	}
	v, c := m.rawLR(terms)
	return rawScores{verdict: v, category: c}
}

// probs turns raw scores into the probability of each verdict (in
// m.verdicts() order) and of each class, at temperature t. Naive Bayes
// divides the class scores by t and sums the class probabilities of each
// verdict; logistic regression divides the verdict logits by t and shares
// each verdict's probability among its classes by the category model.
func (m *Model) probs(r rawScores, t float64) (pv, pc []float64) {
	nv := len(m.verdicts())
	pv = make([]float64, nv)
	if m.Kind == KindNaiveBayes {
		pc = softmax(r.category, t)
		for c, p := range pc {
			pv[m.vOf[c]] += p
		}
		return pv, pc
	}
	pv = softmax(r.verdict, t)
	pc = make([]float64, len(m.Classes))
	if r.category == nil {
		for c := range pc {
			pc[c] = pv[m.vOf[c]]
		}
		return pv, pc
	}
	for v := range nv {
		var idx []int
		var z []float64
		for c := range m.Classes {
			if m.vOf[c] == v {
				idx = append(idx, c)
				z = append(z, r.category[c])
			}
		}
		for i, p := range softmax(z, 1) {
			pc[idx[i]] = pv[v] * p
		}
	}
	return pv, pc
}

// decideVerdict picks a verdict (an index into m.verdicts()): security
// when its probability reaches thr, else the most probable verdict (ties go
// to the earlier verdict of threatmodel.Verdicts).
func (m *Model) decideVerdict(pv []float64, thr float64) int {
	vs := m.verdicts()
	if s := slices.Index(vs, threatmodel.Security); s >= 0 && pv[s] >= thr {
		return s
	}
	best := 0
	for v := range pv {
		if pv[v] > pv[best] {
			best = v
		}
	}
	return best
}

// decideCategory picks the most probable class of verdict v (ties go to
// the earlier class id).
func (m *Model) decideCategory(pc []float64, v int) int {
	best := -1
	for c := range m.Classes {
		if m.vOf[c] == v && (best < 0 || pc[c] > pc[best]) {
			best = c
		}
	}
	return best
}

// fitFunc fits a model of one kind to the training reports idx.
type fitFunc func(idx []int) *Model

// stratifiedFolds splits the reports of ts into k folds stratified by
// verdict: each verdict's reports are shuffled by a PCG generator seeded
// with seed and dealt to the folds in turn, continuing where the previous
// verdict stopped. It returns the held-out reports of each fold, sorted.
func stratifiedFolds(ts *trainSet, k int, seed uint64) [][]int {
	k = min(k, len(ts.docs))
	rng := rand.New(rand.NewPCG(seed, 0x5ec5c2ee4ba5e11e))
	folds := make([][]int, k)
	next := 0
	for _, v := range threatmodel.Verdicts {
		var idx []int
		for i, c := range ts.cls {
			if ts.classes[c].Verdict == v {
				idx = append(idx, i)
			}
		}
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx {
			folds[next] = append(folds[next], i)
			next = (next + 1) % k
		}
	}
	for _, f := range folds {
		slices.Sort(f)
	}
	return folds
}

// complement returns the reports of ts outside held.
func complement(n int, held []int) []int {
	out := make([]int, 0, n-len(held))
	for i := range n {
		if _, found := slices.BinarySearch(held, i); !found {
			out = append(out, i)
		}
	}
	return out
}

// parallel runs f(0) … f(n-1) on up to GOMAXPROCS goroutines. Each call
// must write only its own results, so the outcome does not depend on the
// schedule.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// outOfFold returns each report's raw scores from the model fitted to the
// other folds.
func outOfFold(ts *trainSet, folds [][]int, fit fitFunc) []rawScores {
	oof := make([]rawScores, len(ts.docs))
	parallel(len(folds), func(f int) {
		held := folds[f]
		if len(held) == len(ts.docs) {
			return
		}
		m := fit(complement(len(ts.docs), held))
		for _, i := range held {
			oof[i] = m.raw(m.known(ts.docs[i]))
		}
	})
	return oof
}

// heldOutScores splits ts into its calibration folds and returns each
// report's raw scores from a model fitted to the other folds, with (for
// logistic regression) the L2 strength chosen on them.
func heldOutScores(ts *trainSet) (lambda float64, oof []rawScores) {
	folds := stratifiedFolds(ts, ts.opt.Folds, ts.opt.Seed)
	if ts.opt.Algo == AlgoNaiveBayes {
		return 0, outOfFold(ts, folds, func(idx []int) *Model { return fitNB(ts, idx) })
	}
	return chooseLambda(ts, folds)
}

// chooseLambda returns the L2 strength of logistic regression and the
// out-of-fold raw verdict scores at that strength: TrainOptions.Lambda
// when set, else the one of Lambdas whose held-out verdict log-loss, at
// its best temperature, is lowest (ties go to the stronger). Each fold
// fits the strengths from the strongest down, each fit starting from the
// previous one's weights.
func chooseLambda(ts *trainSet, folds [][]int) (float64, []rawScores) {
	n := len(ts.docs)
	lambdas := slices.Clone(Lambdas)
	if ts.opt.Lambda > 0 {
		lambdas = []float64{ts.opt.Lambda}
	}
	slices.SortFunc(lambdas, func(a, b float64) int { return -cmpFloat(a, b) }) // strongest first
	// oof[l][i] is report i's held-out score at lambdas[l].
	oof := make([][]rawScores, len(lambdas))
	for l := range oof {
		oof[l] = make([]rawScores, n)
	}
	parallel(len(folds), func(f int) {
		held := folds[f]
		if len(held) == n {
			return
		}
		train := complement(n, held)
		var warm *lrFit
		for l, lambda := range lambdas {
			var m *Model
			m, warm = fitLR(ts, train, lambda, true, warm)
			for _, i := range held {
				oof[l][i] = m.raw(m.known(ts.docs[i]))
			}
		}
	})
	if len(lambdas) == 1 {
		return lambdas[0], oof[0]
	}
	probe := ts.newModel(KindLogReg, nil)
	probe.Verdicts = ts.verdict
	probe.prepare()
	truth := make([]int, n)
	for i := range n {
		truth[i] = probe.vOf[ts.cls[i]]
	}
	best, bestLoss := 0, math.Inf(1)
	for l := range lambdas {
		if _, loss := fitTemperature(probe, oof[l], truth); loss < bestLoss-1e-9 {
			best, bestLoss = l, loss
		}
	}
	return lambdas[best], oof[best]
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// temperatureGrid are the temperatures fitTemperature tries before it
// refines the best: 0.05 to 1000, twenty steps per decade. Worked out at
// first use (training only), not at every start.
var temperatureGrid = sync.OnceValue(func() []float64 {
	var ts []float64
	for e := -26; e <= 60; e++ {
		ts = append(ts, math.Pow(10, float64(e)/20))
	}
	return ts
})

// nll is the mean negative log-probability of the true verdicts at
// temperature t; a report without scores (never held out) is skipped.
func nll(m *Model, oof []rawScores, truth []int, t float64) float64 {
	loss, n := 0.0, 0
	for i, r := range oof {
		if r.verdict == nil && r.category == nil {
			continue
		}
		pv, _ := m.probs(r, t)
		loss -= math.Log(math.Max(pv[truth[i]], 1e-12))
		n++
	}
	if n == 0 {
		return 0
	}
	return loss / float64(n)
}

// fitTemperature returns the temperature that minimises the held-out
// log-loss of the true verdicts (a grid, then golden-section search
// between the best point's neighbours), rounded to four significant
// digits, and that loss.
func fitTemperature(m *Model, oof []rawScores, truth []int) (float64, float64) {
	grid := temperatureGrid()
	bi, bl := 0, math.Inf(1)
	for i, t := range grid {
		if l := nll(m, oof, truth, t); l < bl-1e-12 {
			bi, bl = i, l
		}
	}
	lo := math.Log(grid[max(bi-1, 0)])
	hi := math.Log(grid[min(bi+1, len(grid)-1)])
	f := func(x float64) float64 { return nll(m, oof, truth, math.Exp(x)) }
	const g = 0.6180339887498949
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := f(a), f(b)
	for range 40 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = f(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = f(b)
		}
	}
	t := roundSig(math.Exp((lo+hi)/2), 4)
	if l := nll(m, oof, truth, t); l < bl {
		return t, l
	}
	return grid[bi], bl
}

// roundSig rounds x > 0 to d significant digits.
func roundSig(x float64, d int) float64 {
	p := math.Pow(10, float64(d)-math.Ceil(math.Log10(x)))
	return math.Round(x*p) / p
}

// calibrate fits the temperature and the security threshold to the
// out-of-fold scores and records the out-of-fold statistics.
func (m *Model) calibrate(ts *trainSet, oof []rawScores) {
	n := len(ts.docs)
	truth := make([]int, n)
	for i := range n {
		truth[i] = m.vOf[ts.cls[i]]
	}
	t, loss := fitTemperature(m, oof, truth)
	m.Temperature = t
	pvs := make([][]float64, n)
	pcs := make([][]float64, n)
	for i, r := range oof {
		if r.verdict == nil && r.category == nil {
			continue
		}
		pvs[i], pcs[i] = m.probs(r, t)
	}
	m.SecurityThreshold = chooseThreshold(m, pvs, truth, m.Options.TargetRecall)

	// Out-of-fold statistics at the chosen temperature and threshold.
	nv := len(m.verdicts())
	tp, fp, fn := make([]int, nv), make([]int, nv), make([]int, nv)
	okV, okC, scored := 0, 0, 0
	hasCat := false
	var bins [10]struct {
		n        int
		conf, ok float64
	}
	for i, pv := range pvs {
		if pv == nil {
			continue
		}
		scored++
		v := m.decideVerdict(pv, m.SecurityThreshold)
		c := m.decideCategory(pcs[i], v)
		b := &bins[min(int(pv[v]*10), 9)]
		b.n++
		b.conf += pv[v]
		if v == truth[i] {
			okV++
			tp[v]++
			b.ok++
		} else {
			fp[v]++
			fn[truth[i]]++
		}
		if c == ts.cls[i] {
			okC++
		}
		hasCat = hasCat || oof[i].category != nil
	}
	f1, present := 0.0, 0
	for v := range nv {
		if tp[v]+fp[v]+fn[v] == 0 {
			continue
		}
		present++
		f1 += ratio(2*tp[v], 2*tp[v]+fp[v]+fn[v])
	}
	ece := 0.0
	for _, b := range bins {
		if b.n > 0 {
			ece += float64(b.n) / float64(scored) * math.Abs(b.ok/float64(b.n)-b.conf/float64(b.n))
		}
	}
	m.Stats.CVVerdictAccuracy = round4(ratio(okV, scored))
	if hasCat {
		m.Stats.CVCategoryAccuracy = round4(ratio(okC, scored))
	}
	m.Stats.CVMacroF1 = round4(ratio1(f1, present))
	r, p := securityAt(m, pvs, truth, m.SecurityThreshold)
	m.Stats.CVSecurityRecall, m.Stats.CVSecurityPrecision = round4(r), round4(p)
	m.Stats.CVLogLoss = round4(loss)
	m.Stats.CVECE = round4(ece)
}

// securityAt returns the recall and precision of the security verdict
// over the reports with verdict probabilities pvs (nil: not scored) and
// true verdicts truth, when security is called at threshold thr.
func securityAt(m *Model, pvs [][]float64, truth []int, thr float64) (recall, precision float64) {
	sec := slices.Index(m.verdicts(), threatmodel.Security)
	tp, fn, fp := 0, 0, 0
	for i, pv := range pvs {
		if pv == nil {
			continue
		}
		called := m.decideVerdict(pv, thr) == sec
		switch {
		case truth[i] == sec && called:
			tp++
		case truth[i] == sec:
			fn++
		case called:
			fp++
		}
	}
	return ratio(tp, tp+fn), ratio(tp, tp+fp)
}

// chooseThreshold returns the largest security threshold, from 0.50 down
// in steps of 0.01, at which the held-out security recall reaches target
// (0.01 if none does; 0.5 when the model knows no security category). A
// threshold above 0.5 would only take security calls away, so the most
// probable verdict decides from there on.
func chooseThreshold(m *Model, pvs [][]float64, truth []int, target float64) float64 {
	if !slices.Contains(m.verdicts(), threatmodel.Security) {
		return 0.5
	}
	for k := 50; k > 1; k-- {
		thr := float64(k) / 100
		if r, _ := securityAt(m, pvs, truth, thr); r >= target {
			return thr
		}
	}
	return 0.01
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func ratio1(a float64, b int) float64 {
	if b == 0 {
		return 0
	}
	return a / float64(b)
}
