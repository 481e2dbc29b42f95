package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Num is a metric value. NaN means "undefined" (a zero denominator: no
// report of a class, no prediction of it, no rows at all); it prints as
// "n/a" and is written to JSON as null, so an undefined value never poses as
// a zero.
type Num float64

// NaN is the undefined Num.
func NaN() Num { return Num(math.NaN()) }

// Defined reports whether n has a value.
func (n Num) Defined() bool { return !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0) }

// String formats n with three decimals, or "n/a".
func (n Num) String() string {
	if !n.Defined() {
		return "n/a"
	}
	return fmt.Sprintf("%.3f", float64(n))
}

// MarshalJSON writes n as a number, or null when undefined.
func (n Num) MarshalJSON() ([]byte, error) {
	if !n.Defined() {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

// UnmarshalJSON reads a number, or null as undefined.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = NaN()
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("metric value: %w", err)
	}
	*n = Num(f)
	return nil
}

func ratio(num, den int) Num {
	if den == 0 {
		return NaN()
	}
	return Num(float64(num) / float64(den))
}

// Pair is one report's true label and one predictor's answer for it. Pred
// is empty when the predictor gave no answer (an error), which counts as
// wrong. Confidence is the predictor's confidence in Pred, in [0,1].
//
// True and Pred are plain strings on purpose: the same metrics score both
// levels of the taxonomy, verdicts and category ids (which are strings
// everywhere), so a Pair holds a label of either level.
type Pair struct {
	// ID names the report.
	ID string `json:"id"`
	// True is the label; Pred the prediction ("" for none).
	True string `json:"true"`
	Pred string `json:"pred"`
	// Confidence is the predictor's stated confidence in Pred.
	Confidence float64 `json:"confidence"`
}

// Correct reports whether the prediction equals the truth.
func (p Pair) Correct() bool { return p.Pred != "" && p.Pred == p.True }

// Accuracy is the share of pairs predicted correctly; undefined without
// pairs.
func Accuracy(ps []Pair) Num {
	ok := 0
	for _, p := range ps {
		if p.Correct() {
			ok++
		}
	}
	return ratio(ok, len(ps))
}

// ClassStats holds one class's one-vs-rest counts and scores.
type ClassStats struct {
	// Class is the verdict or category scored.
	Class string `json:"class"`
	// Support counts reports whose true label is Class.
	Support int `json:"support"`
	// Predicted counts reports predicted as Class.
	Predicted int `json:"predicted"`
	// TP, FP and FN count true positives, false positives and false
	// negatives of Class.
	TP int `json:"tp"`
	FP int `json:"fp"`
	FN int `json:"fn"`
	// Precision is TP/(TP+FP): undefined when Class was never predicted.
	Precision Num `json:"precision"`
	// Recall is TP/(TP+FN): undefined when no report is of Class.
	Recall Num `json:"recall"`
	// F1 is the harmonic mean of precision and recall. It is 0 when either
	// is 0 or when exactly one is undefined (the class was missed entirely,
	// or only ever predicted wrongly), and undefined when both are (the
	// class appears neither in truth nor in predictions).
	F1 Num `json:"f1"`
}

// PerClass computes ClassStats for each of classes, in that order.
func PerClass(classes []string, ps []Pair) []ClassStats {
	out := make([]ClassStats, len(classes))
	for i, c := range classes {
		s := ClassStats{Class: c}
		for _, p := range ps {
			switch {
			case p.True == c && p.Pred == c:
				s.TP++
			case p.True == c:
				s.FN++
			case p.Pred == c:
				s.FP++
			}
		}
		s.fill()
		out[i] = s
	}
	return out
}

// fill computes the scores of s from its TP, FP and FN counts.
func (s *ClassStats) fill() {
	s.Support = s.TP + s.FN
	s.Predicted = s.TP + s.FP
	s.Precision = ratio(s.TP, s.TP+s.FP)
	s.Recall = ratio(s.TP, s.TP+s.FN)
	switch {
	case !s.Precision.Defined() && !s.Recall.Defined():
		s.F1 = NaN()
	case !s.Precision.Defined() || !s.Recall.Defined() || s.TP == 0:
		s.F1 = 0
	default:
		p, r := float64(s.Precision), float64(s.Recall)
		s.F1 = Num(2 * p * r / (p + r))
	}
}

// MacroF1 is the unweighted mean of the defined F1 scores; classes absent
// from both truth and predictions are left out. Undefined when none is
// defined.
func MacroF1(stats []ClassStats) Num {
	sum, n := 0.0, 0
	for _, s := range stats {
		if s.F1.Defined() {
			sum += float64(s.F1)
			n++
		}
	}
	if n == 0 {
		return NaN()
	}
	return Num(sum / float64(n))
}

// NoAnswer labels the predictions of reports that got none (errors) in a
// confusion matrix.
const NoAnswer = "(none)"

// Matrix is a confusion matrix: Counts[i][j] counts reports whose true label
// is Labels[i] and whose prediction is Labels[j].
type Matrix struct {
	// Labels name the rows (truth) and the columns (prediction).
	Labels []string `json:"labels"`
	Counts [][]int  `json:"counts"`
}

// Confusion builds the square confusion matrix over labels. Labels met in
// the pairs but not given (an unexpected category, NoAnswer for an error)
// are appended in sorted order, so that no pair is dropped.
func Confusion(labels []string, ps []Pair) Matrix {
	all := slices.Clone(labels)
	seen := map[string]bool{}
	for _, l := range labels {
		seen[l] = true
	}
	var extra []string
	for _, p := range ps {
		for _, l := range []string{p.True, predLabel(p)} {
			if !seen[l] {
				seen[l] = true
				extra = append(extra, l)
			}
		}
	}
	sort.Strings(extra)
	all = append(all, extra...)
	index := make(map[string]int, len(all))
	for i, l := range all {
		index[l] = i
	}
	m := Matrix{Labels: all, Counts: make([][]int, len(all))}
	for i := range m.Counts {
		m.Counts[i] = make([]int, len(all))
	}
	for _, p := range ps {
		m.Counts[index[p.True]][index[predLabel(p)]]++
	}
	return m
}

func predLabel(p Pair) string {
	if p.Pred == "" {
		return NoAnswer
	}
	return p.Pred
}

// Total is the number of pairs in the matrix.
func (m Matrix) Total() int {
	n := 0
	for _, row := range m.Counts {
		for _, c := range row {
			n += c
		}
	}
	return n
}

// Kappa is Cohen's kappa of the matrix: (po-pe)/(1-pe), where po is the
// observed agreement and pe the agreement expected from the row and column
// totals. Undefined for an empty matrix or when pe is 1 (truth and
// prediction each use one and the same single label).
func (m Matrix) Kappa() Num {
	n := m.Total()
	if n == 0 {
		return NaN()
	}
	k := len(m.Labels)
	rows, cols := make([]int, k), make([]int, k)
	diag := 0
	for i := range k {
		for j := range k {
			rows[i] += m.Counts[i][j]
			cols[j] += m.Counts[i][j]
		}
		diag += m.Counts[i][i]
	}
	nf := float64(n)
	po := float64(diag) / nf
	pe := 0.0
	for i := range k {
		pe += float64(rows[i]) * float64(cols[i]) / (nf * nf)
	}
	if pe >= 1 {
		return NaN()
	}
	return Num((po - pe) / (1 - pe))
}

// RecallOf is the recall of one class with the ids of the reports of that
// class that were not predicted as it, in input order.
func RecallOf(class string, ps []Pair) (Num, []string) {
	tp, support := 0, 0
	var missed []string
	for _, p := range ps {
		if p.True != class {
			continue
		}
		support++
		if p.Pred == class {
			tp++
		} else {
			missed = append(missed, p.ID)
		}
	}
	return ratio(tp, support), missed
}

// Agreement is how often two predictors gave the same answer.
type Agreement struct {
	// N counts the reports both predictors answered.
	N int `json:"n"`
	// Agree counts those with the same answer.
	Agree int `json:"agree"`
	// Rate is Agree/N.
	Rate Num `json:"rate"`
	// Disagreeing lists the ids answered differently.
	Disagreeing []string `json:"disagreeing"`
}

// Agree compares two predictors' answers for the same reports: a[i] and b[i]
// answer ids[i]. Reports where either answer is empty are left out.
func Agree(ids, a, b []string) Agreement {
	var g Agreement
	for i, id := range ids {
		if a[i] == "" || b[i] == "" {
			continue
		}
		g.N++
		if a[i] == b[i] {
			g.Agree++
		} else {
			g.Disagreeing = append(g.Disagreeing, id)
		}
	}
	g.Rate = ratio(g.Agree, g.N)
	return g
}

// answered keeps the pairs that have a prediction (calibration is about
// stated confidence, which an error row does not have).
func answered(ps []Pair) []Pair {
	var out []Pair
	for _, p := range ps {
		if p.Pred != "" {
			out = append(out, p)
		}
	}
	return out
}

func correctness(p Pair) float64 {
	if p.Correct() {
		return 1
	}
	return 0
}

// Brier is the mean squared difference between the stated confidence and
// the prediction's correctness (1 right, 0 wrong): 0 is perfect, and always
// answering 0.5 scores 0.25. Pairs without a prediction are left out.
func Brier(ps []Pair) Num {
	ps = answered(ps)
	if len(ps) == 0 {
		return NaN()
	}
	sum := 0.0
	for _, p := range ps {
		d := clamp01(p.Confidence) - correctness(p)
		sum += d * d
	}
	return Num(sum / float64(len(ps)))
}

// Bin is one bin of a reliability diagram: the predictions whose confidence
// lies in [Lo, Hi) (the last bin includes 1).
type Bin struct {
	// Lo and Hi bound the bin's confidence; N counts its predictions.
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
	N  int     `json:"n"`
	// Confidence is the mean confidence in the bin.
	Confidence Num `json:"confidence"`
	// Accuracy is the share of correct predictions in the bin.
	Accuracy Num `json:"accuracy"`
}

// Reliability sorts the answered pairs into bins equal-width bins of
// confidence.
func Reliability(ps []Pair, bins int) []Bin {
	out := make([]Bin, bins)
	sumConf := make([]float64, bins)
	sumOK := make([]float64, bins)
	for i := range out {
		out[i].Lo = float64(i) / float64(bins)
		out[i].Hi = float64(i+1) / float64(bins)
	}
	for _, p := range answered(ps) {
		c := clamp01(p.Confidence)
		i := min(int(c*float64(bins)), bins-1)
		out[i].N++
		sumConf[i] += c
		sumOK[i] += correctness(p)
	}
	for i := range out {
		if out[i].N == 0 {
			out[i].Confidence, out[i].Accuracy = NaN(), NaN()
			continue
		}
		out[i].Confidence = Num(sumConf[i] / float64(out[i].N))
		out[i].Accuracy = Num(sumOK[i] / float64(out[i].N))
	}
	return out
}

// ECE is the expected calibration error of reliability bins: the mean over
// predictions of |accuracy - confidence| of their bin. Undefined when the
// bins are empty.
func ECE(bins []Bin) Num {
	n := 0
	sum := 0.0
	for _, b := range bins {
		if b.N == 0 {
			continue
		}
		n += b.N
		sum += float64(b.N) * math.Abs(float64(b.Accuracy)-float64(b.Confidence))
	}
	if n == 0 {
		return NaN()
	}
	return Num(sum / float64(n))
}

func clamp01(x float64) float64 { return min(max(x, 0), 1) }

// Quantile is the q-quantile (0..1) of xs by linear interpolation between
// the closest ranks (the common "type 7" definition). Undefined when xs is
// empty. xs is not modified.
func Quantile(xs []float64, q float64) Num {
	if len(xs) == 0 {
		return NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return quantileSorted(s, q)
}

func quantileSorted(s []float64, q float64) Num {
	pos := clamp01(q) * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	frac := pos - float64(lo)
	return Num(s[lo] + frac*(s[hi]-s[lo]))
}

// CI is a bootstrap confidence interval.
type CI struct {
	// Lo and Hi are the interval's bounds.
	Lo Num `json:"lo"`
	Hi Num `json:"hi"`
	// Level is the interval's coverage, e.g. 0.95.
	Level float64 `json:"level"`
	// Resamples is the number of resamples whose statistic was defined.
	Resamples int `json:"resamples"`
}

// String formats the interval as "[lo, hi]".
func (c CI) String() string { return fmt.Sprintf("[%s, %s]", c.Lo, c.Hi) }

// bootstrapRNG is the generator the bootstrap intervals draw their
// resamples from.
func bootstrapRNG(seed uint64) *rand.Rand {
	return rand.New(bootstrapSource(seed))
}

// bootstrapSource is bootstrapRNG's source.
func bootstrapSource(seed uint64) *rand.PCG {
	return rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
}

// percentileCI fills ci with the 95% percentile interval of vals, the
// defined values of the resamples' statistic.
func percentileCI(ci CI, vals []float64) CI {
	ci.Resamples = len(vals)
	if len(vals) == 0 {
		return ci
	}
	slices.Sort(vals)
	ci.Lo = quantileSorted(vals, 0.025)
	ci.Hi = quantileSorted(vals, 0.975)
	return ci
}

// McNemar is the two-sided exact McNemar test on paired correctness: b
// counts the pairs right in the first run and wrong in the second, c the
// reverse. Under the null hypothesis that both runs are equally accurate,
// each of the n=b+c discordant pairs flips either way with probability 1/2,
// so p = min(1, 2·P[X ≤ min(b,c)]) with X ~ Binomial(n, 1/2). It is 1 when
// there are no discordant pairs.
func McNemar(b, c int) float64 {
	n := b + c
	if n == 0 {
		return 1
	}
	k := min(b, c)
	// Sum the binomial probabilities in log space so large n does not
	// overflow.
	lgN, _ := math.Lgamma(float64(n + 1))
	tail := 0.0
	for i := 0; i <= k; i++ {
		lgI, _ := math.Lgamma(float64(i + 1))
		lgNI, _ := math.Lgamma(float64(n - i + 1))
		tail += math.Exp(lgN - lgI - lgNI - float64(n)*math.Ln2)
	}
	return math.Min(1, 2*tail)
}

// RuleHit is one rule that fired on one report, with the report's true
// category.
type RuleHit struct {
	Rule         string
	Category     string
	TrueCategory string
}

// RuleStat says how one rule did over a corpus, in the manner of
// SpamAssassin's hit-frequencies: how often it fired, on reports of which
// true categories, and how often its category was the true one.
type RuleStat struct {
	// Rule is the rule's id.
	Rule string `json:"rule"`
	// Category is the category the rule is evidence for.
	Category string `json:"category"`
	// Hits counts the reports it fired on (a rule firing twice on one
	// report counts once).
	Hits int `json:"hits"`
	// Correct counts hits on reports whose true category is Category.
	Correct int `json:"correct"`
	// Precision is Correct/Hits.
	Precision Num `json:"precision"`
	// ByTrue counts hits per true category.
	ByTrue map[string]int `json:"by_true"`
}

// RuleStats aggregates rule hits per rule, sorted by hits (descending), then
// by rule id. Each hit must already be unique per report and rule.
func RuleStats(hits []RuleHit) []RuleStat {
	idx := map[string]int{}
	var out []RuleStat
	for _, h := range hits {
		i, ok := idx[h.Rule]
		if !ok {
			i = len(out)
			idx[h.Rule] = i
			out = append(out, RuleStat{Rule: h.Rule, Category: h.Category, ByTrue: map[string]int{}})
		}
		s := &out[i]
		s.Hits++
		s.ByTrue[h.TrueCategory]++
		if h.TrueCategory == s.Category {
			s.Correct++
		}
	}
	for i := range out {
		out[i].Precision = ratio(out[i].Correct, out[i].Hits)
	}
	slices.SortStableFunc(out, func(a, b RuleStat) int {
		if a.Hits != b.Hits {
			return b.Hits - a.Hits
		}
		if a.Rule < b.Rule {
			return -1
		}
		if a.Rule > b.Rule {
			return 1
		}
		return 0
	})
	return out
}
