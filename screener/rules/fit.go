package rules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"text/tabwriter"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// FitOptions tune Fit. The zero value uses the defaults.
type FitOptions struct {
	// Lambda is the L2 penalty on the weights (the bias is not penalised),
	// on the scale of the mean log-loss; 0 means DefaultLambda.
	Lambda float64
	// Folds is the number of cross-validation folds; 0 means DefaultFolds.
	Folds int
	// Seed seeds the assignment of reports to folds.
	Seed int64
	// Iterations is the number of optimisation steps per model; 0 means
	// DefaultIterations.
	Iterations int
	// Evaluate, when set, stands in for the engine's own evaluation of an
	// example: the fit reads only its findings and facts, which fitted
	// weights do not change, so a caller that already evaluated the
	// reports (eval --folds refits once per fold) can hand them over.
	Evaluate func(*intake.Report) Evaluation `json:"-"`
}

// Defaults of FitOptions. The penalty was chosen by 5-fold
// cross-validation on the bundled corpus's dev split among 0.0003, 0.001,
// 0.003, 0.01 and 0.03 (verdict accuracy 0.78, 0.77, 0.78, 0.71, 0.49):
// weaker penalties fit the few hundred reports by heart, stronger ones
// leave every report to the biases. 1000 steps converge at that penalty.
const (
	DefaultLambda     = 0.003
	DefaultFolds      = 5
	DefaultSeed       = 1
	DefaultIterations = 1000
)

// FitResult is the outcome of Fit.
type FitResult struct {
	// Weights are fitted on every example, with each rule's record of its
	// held-out hits and whether it is decisive.
	Weights *Weights
	// CV are the cross-validated figures of the rules alone with weights
	// fitted without the held-out fold; InSample the figures of Weights on
	// the examples it was fitted on (optimistic, for comparison).
	CV, InSample CVFigures
	// Rules lists the rules with their records, in pack order.
	Rules []RuleFitReport
	// Examples is the number of examples fitted on.
	Examples int
}

// RuleFitReport is one rule's line in the fit's report.
type RuleFitReport struct {
	ID, Category string
	// Own is the rule's fitted weight towards its own category.
	Own float64
	RuleWeights
}

// Fit learns the weight of every rule of e, per category of e's threat
// model, from labeled examples, and says which rules are decisive.
//
// The model is one logistic regression per category (one-vs-rest), over
// binary features: each rule that fired, and each fact feature the pack
// lists (RuleSet.Features), with an L2 penalty on the weights. A report
// takes the category whose score (bias plus the weights of its features)
// is highest; the engine applies the same rule (see decideLinear).
// Logistic regression rather than SpamAssassin's perceptron: its scores
// are log-odds, so an unseen combination of rules gets a calibrated-ish
// confidence, the penalty keeps weights small on a corpus of a few
// hundred reports, and the optimum is unique, so the result depends only
// on the data and the seed of the folds, not on the order of updates.
//
// Each weight is sign-constrained: a rule is evidence for its own
// category's verdict, so its weight towards a category of another verdict
// can only be zero or negative. A rule can learn that it counts for a
// neighbouring category of the same verdict, or that it counts for
// nothing, but never that a CVSS line or a Markdown heading is evidence of
// an exclusion. Fact features are unconstrained.
//
// The examples are split into Folds folds, stratified by category and
// shuffled with Seed. For each fold, weights fitted on the others predict
// its reports (the CV figures), and every rule that fires on a held-out
// report counts a hit, correct when the report's true verdict is the
// rule's own and the fold's weights gave the rule positive weight towards
// that verdict. A rule is decisive when its held-out hits meet
// MeetsDecisive. The optimiser is projected gradient descent with
// Nesterov momentum for a fixed number of steps: deterministic, and fast
// enough (a second or two on 500 reports).
func Fit(ctx context.Context, e *Engine, examples []Example, opt FitOptions) (*FitResult, error) {
	if opt.Lambda <= 0 {
		opt.Lambda = DefaultLambda
	}
	if opt.Folds <= 0 {
		opt.Folds = DefaultFolds
	}
	if opt.Iterations <= 0 {
		opt.Iterations = DefaultIterations
	}
	if len(examples) < opt.Folds {
		return nil, fmt.Errorf("fit: %d examples for %d folds", len(examples), opt.Folds)
	}
	d, err := e.design(ctx, examples, opt.Evaluate)
	if err != nil {
		return nil, err
	}
	folds := stratifiedFolds(d.y, opt.Folds, opt.Seed)

	// Cross-validation.
	pred := make([]int, len(examples))
	hits := make([]int, len(e.rules))
	correct := make([]int, len(e.rules))
	for f := range opt.Folds {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var train, test []int
		for i, fi := range folds {
			if fi == f {
				test = append(test, i)
			} else {
				train = append(train, i)
			}
		}
		m := d.fit(train, opt)
		for _, i := range test {
			pred[i] = m.predict(d.x[i])
			truth := d.verdicts[d.y[i]]
			for _, j := range d.x[i] {
				if j >= len(e.rules) {
					continue
				}
				hits[j]++
				if dir := m.direction(j); dir >= 0 && d.verdicts[dir] == truth && truth == d.ruleVerdict[j] {
					correct[j]++
				}
			}
		}
	}
	res := &FitResult{Examples: len(examples)}
	res.CV = d.figures(pred, opt)

	// The weights themselves, on every example.
	all := make([]int, len(examples))
	for i := range all {
		all[i] = i
	}
	m := d.fit(all, opt)
	for i := range pred {
		pred[i] = m.predict(d.x[i])
	}
	res.InSample = d.figures(pred, opt)
	w := &Weights{
		Method: fmt.Sprintf("one-vs-rest logistic regression over rule hits and fact features, L2 lambda %g, sign-constrained by each rule's verdict, %d steps; decisive: at least %d held-out hits with a Wilson 95%% lower bound of at least %.2f",
			opt.Lambda, opt.Iterations, MinDecisiveHits, MinDecisiveLowerBound),
		CV:       &res.CV,
		Bias:     map[string]float64{},
		Rules:    map[string]RuleWeights{},
		Features: map[string]map[string]float64{},
	}
	for c, name := range d.cats {
		if d.seen[c] {
			w.Bias[name] = round4(m.bias[c])
		}
	}
	column := func(j int) map[string]float64 {
		out := map[string]float64{}
		for c, name := range d.cats {
			if v := round4(m.w[c][j]); v != 0 && d.seen[c] {
				out[name] = v
			}
		}
		return out
	}
	for j := range e.rules {
		r := &e.rules[j]
		rec := RuleWeights{
			Fingerprint: Fingerprint(r),
			Hits:        hits[j],
			Correct:     correct[j],
			LowerBound:  round4(Wilson(correct[j], hits[j])),
			Decisive:    MeetsDecisive(correct[j], hits[j]),
			Weights:     column(j),
		}
		w.Rules[r.ID] = rec
		res.Rules = append(res.Rules, RuleFitReport{ID: r.ID, Category: r.Category, Own: rec.Weights[r.Category], RuleWeights: rec})
	}
	for k, name := range d.features {
		if col := column(len(e.rules) + k); len(col) > 0 {
			w.Features[name] = col
		}
	}
	res.Weights = w
	return res, nil
}

// CorpusFingerprint identifies labeled examples: their ids, categories and
// report texts, whatever their order.
func CorpusFingerprint(examples []Example) string {
	lines := make([]string, len(examples))
	for i, ex := range examples {
		h := sha256.New()
		for _, p := range ex.Report.Parts() {
			fmt.Fprintf(h, "%s\x00%d\x00%s\x00", p.Name, len(p.Text), p.Text)
		}
		lines[i] = ex.ID + "\x00" + ex.Category + "\x00" + hex.EncodeToString(h.Sum(nil))
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		io.WriteString(h, l+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// design is the fit's data: each example's active features and category.
type design struct {
	cats        []string
	verdicts    []threatmodel.Verdict
	seen        []bool // the category has at least one example
	features    []string
	nfeat       int
	ruleVerdict []threatmodel.Verdict
	x           [][]int // active feature indices, rules first
	y           []int
}

func (e *Engine) design(ctx context.Context, examples []Example, evaluate func(*intake.Report) Evaluation) (*design, error) {
	d := &design{cats: e.tm.IDs(), features: e.pack.Features}
	index := map[string]int{}
	for i, c := range d.cats {
		index[c] = i
		d.verdicts = append(d.verdicts, verdictOf(e.tm, c))
	}
	d.seen = make([]bool, len(d.cats))
	for _, r := range e.rules {
		d.ruleVerdict = append(d.ruleVerdict, verdictOf(e.tm, r.Category))
	}
	d.nfeat = len(e.rules) + len(d.features)
	ruleIndex := map[string]int{}
	for j, r := range e.rules {
		ruleIndex[r.ID] = j
	}
	for _, ex := range examples {
		c, ok := index[ex.Category]
		if !ok {
			return nil, fmt.Errorf("fit: report %s: category %q is not in threat model %s", ex.ID, ex.Category, e.tm.Name)
		}
		var ev Evaluation
		if evaluate != nil {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			ev = evaluate(ex.Report)
		} else {
			var err error
			if ev, _, err = e.evaluate(ctx, ex.Report, false, e.scanner()); err != nil {
				return nil, err
			}
		}
		var xs []int
		for _, f := range ev.Findings {
			xs = append(xs, ruleIndex[f.RuleID])
		}
		for k, name := range d.features {
			if featureHolds(name, &ev.Facts) {
				xs = append(xs, len(e.rules)+k)
			}
		}
		d.x = append(d.x, xs)
		d.y = append(d.y, c)
		d.seen[c] = true
	}
	return d, nil
}

// stratifiedFolds assigns each example a fold: within each category, the
// examples are shuffled with the seed and dealt out in turn.
func stratifiedFolds(y []int, k int, seed int64) []int {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	byCat := map[int][]int{}
	for i, c := range y {
		byCat[c] = append(byCat[c], i)
	}
	cats := make([]int, 0, len(byCat))
	for c := range byCat {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	folds := make([]int, len(y))
	next := 0
	for _, c := range cats {
		idx := byCat[c]
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for _, i := range idx {
			folds[i] = next % k
			next++
		}
	}
	return folds
}

// linear is a fitted one-vs-rest model.
type linear struct {
	bias []float64
	w    [][]float64 // per category, per feature
	seen []bool
}

// fit trains one model per category on the examples rows, in parallel.
func (d *design) fit(rows []int, opt FitOptions) *linear {
	m := &linear{bias: make([]float64, len(d.cats)), w: make([][]float64, len(d.cats)), seen: make([]bool, len(d.cats))}
	for _, i := range rows {
		m.seen[d.y[i]] = true
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for c := range d.cats {
		m.w[c] = make([]float64, d.nfeat)
		if !m.seen[c] {
			m.bias[c] = absentBias
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			m.bias[c], m.w[c] = d.fitOne(rows, c, opt)
		}()
	}
	wg.Wait()
	return m
}

// fitOne fits the logistic regression of category c against the rest by
// projected gradient descent with Nesterov momentum.
func (d *design) fitOne(rows []int, c int, opt FitOptions) (float64, []float64) {
	n := float64(len(rows))
	maxNorm := 1.0
	for _, i := range rows {
		maxNorm = math.Max(maxNorm, float64(len(d.x[i])+1))
	}
	step := 1 / (0.25*maxNorm + opt.Lambda)
	// upper[j] is false when feature j's weight towards c must be <= 0:
	// a rule of another verdict than c's.
	upper := make([]bool, d.nfeat)
	for j := range upper {
		upper[j] = j >= len(d.ruleVerdict) || d.ruleVerdict[j] == d.verdicts[c]
	}
	project := func(w []float64) {
		for j := range w {
			if !upper[j] && w[j] > 0 {
				w[j] = 0
			}
		}
	}
	w, wPrev, v := make([]float64, d.nfeat), make([]float64, d.nfeat), make([]float64, d.nfeat)
	b, bPrev, vb := 0.0, 0.0, 0.0
	grad := make([]float64, d.nfeat)
	for t := 1; t <= opt.Iterations; t++ {
		clear(grad)
		gb := 0.0
		for _, i := range rows {
			s := vb
			for _, j := range d.x[i] {
				s += v[j]
			}
			y := 0.0
			if d.y[i] == c {
				y = 1
			}
			r := (sigmoid(s) - y) / n
			gb += r
			for _, j := range d.x[i] {
				grad[j] += r
			}
		}
		copy(wPrev, w)
		bPrev = b
		for j := range w {
			w[j] = v[j] - step*(grad[j]+opt.Lambda*v[j])
		}
		project(w)
		b = vb - step*gb
		mom := float64(t-1) / float64(t+2)
		for j := range v {
			v[j] = w[j] + mom*(w[j]-wPrev[j])
		}
		project(v)
		vb = b + mom*(b-bPrev)
	}
	return b, w
}

// predict returns the category with the highest score for the features.
func (m *linear) predict(x []int) int {
	best, bestS := 0, math.Inf(-1)
	for c := range m.bias {
		s := m.bias[c]
		for _, j := range x {
			s += m.w[c][j]
		}
		if s > bestS {
			best, bestS = c, s
		}
	}
	return best
}

// direction returns the category towards which feature j has the largest
// positive weight, or -1 when it has none.
func (m *linear) direction(j int) int {
	best, bestW := -1, 0.0
	for c := range m.w {
		if m.seen[c] && m.w[c][j] > bestW {
			best, bestW = c, m.w[c][j]
		}
	}
	return best
}

// figures scores predictions against the labels.
func (d *design) figures(pred []int, opt FitOptions) CVFigures {
	f := CVFigures{Folds: opt.Folds, Seed: opt.Seed}
	var ok, okCat, sec, secHit int
	for i, p := range pred {
		truth := d.verdicts[d.y[i]]
		if d.verdicts[p] == truth {
			ok++
		}
		if p == d.y[i] {
			okCat++
		}
		if truth == threatmodel.Security {
			sec++
			if d.verdicts[p] == threatmodel.Security {
				secHit++
			}
		}
	}
	n := float64(len(pred))
	f.Accuracy = round4(float64(ok) / n)
	f.CategoryAccuracy = round4(float64(okCat) / n)
	f.SecurityReports = sec
	if sec > 0 {
		f.SecurityRecall = round4(float64(secHit) / float64(sec))
	}
	return f
}

// WriteText writes the fit's figures and each rule's record for a
// terminal.
func (r *FitResult) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%d reports; %s\n", r.Examples, r.Weights.Method)
	fmt.Fprintf(tw, "rules alone, %d-fold cross-validated (seed %d): verdict accuracy %.3f, category accuracy %.3f, security recall %.3f (%d security reports)\n",
		r.CV.Folds, r.CV.Seed, r.CV.Accuracy, r.CV.CategoryAccuracy, r.CV.SecurityRecall, r.CV.SecurityReports)
	fmt.Fprintf(tw, "rules alone, in-sample (optimistic):        verdict accuracy %.3f, category accuracy %.3f, security recall %.3f\n",
		r.InSample.Accuracy, r.InSample.CategoryAccuracy, r.InSample.SecurityRecall)
	decisive := 0
	for _, x := range r.Rules {
		if x.Decisive {
			decisive++
		}
	}
	fmt.Fprintf(tw, "decisive rules: %d of %d (at least %d held-out hits, Wilson 95%% lower bound at least %.2f)\n\n",
		decisive, len(r.Rules), MinDecisiveHits, MinDecisiveLowerBound)
	fmt.Fprintln(tw, "RULE\tCATEGORY\tOWN WEIGHT\tHELD-OUT HITS\tCORRECT\tLB\tDECISIVE")
	for _, x := range r.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%+.2f\t%d\t%d\t%.2f\t%t\n", x.ID, x.Category, x.Own, x.Hits, x.Correct, x.LowerBound, x.Decisive)
	}
	return tw.Flush()
}
