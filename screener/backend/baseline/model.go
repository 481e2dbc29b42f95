package baseline

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// FormatVersion is the version of the model file format that Save writes
// and LoadModel accepts.
const FormatVersion = 1

// Kind names the learning method recorded in a model file.
const Kind = "multinomial-naive-bayes"

// Defaults of TrainOptions.
const (
	// DefaultAlpha is the additive (Lidstone) smoothing of feature counts.
	DefaultAlpha = 0.1
	// DefaultMinCount is the number of training reports a text feature must
	// occur in to enter the vocabulary.
	DefaultMinCount = 2
	// DefaultMaxFeatures bounds the distinct text features taken from one
	// report.
	DefaultMaxFeatures = 4000
	// DefaultRuleWeight is how many times a rule or fact feature counts
	// against a word's once.
	DefaultRuleWeight = 2
)

// Example is one labeled training report.
type Example struct {
	// Report is the report; it must not be nil.
	Report *intake.Report
	// Verdict and Category are its label, a pair of the threat model.
	Verdict, Category string
}

// TrainOptions tune Train. The zero value takes the defaults.
type TrainOptions struct {
	// Alpha is the additive smoothing of counts; 0 means DefaultAlpha.
	Alpha float64 `json:"alpha"`
	// MinCount is how many training reports a text feature must occur in
	// to be kept; 0 means DefaultMinCount. Rule and fact features are
	// always kept.
	MinCount int `json:"min_count"`
	// MaxFeatures bounds the distinct text features read from one report;
	// 0 means DefaultMaxFeatures.
	MaxFeatures int `json:"max_features"`
	// RuleWeight is how many times each rule or fact feature counts; 0
	// means DefaultRuleWeight.
	RuleWeight int `json:"rule_weight"`
	// ThreatModel checks the labels and names the categories; nil means
	// threatmodel.Kernel(). It must be the model the engine was built with.
	ThreatModel *threatmodel.Model `json:"-"`
	// Evaluate, if set, gives the engine's evaluation of a report in place
	// of running the engine (a cache of evaluations, for cross-validation
	// that trains on the same reports once per fold).
	Evaluate func(*intake.Report) rules.Evaluation `json:"-"`
}

func (o TrainOptions) withDefaults() TrainOptions {
	if o.Alpha <= 0 {
		o.Alpha = DefaultAlpha
	}
	if o.MinCount <= 0 {
		o.MinCount = DefaultMinCount
	}
	if o.MaxFeatures <= 0 {
		o.MaxFeatures = DefaultMaxFeatures
	}
	if o.RuleWeight <= 0 {
		o.RuleWeight = DefaultRuleWeight
	}
	if o.ThreatModel == nil {
		o.ThreatModel = threatmodel.Kernel()
	}
	return o
}

// Class is one category the model learned, with its counts.
type Class struct {
	// ID is the category id.
	ID string `json:"id"`
	// Verdict is the verdict the category belongs to.
	Verdict string `json:"verdict"`
	// Title is the clause's title in the threat model.
	Title string `json:"title"`
	// Docs is the number of training reports labeled with the category.
	Docs int `json:"docs"`
	// Total is the sum of Counts' counts.
	Total int `json:"total"`
	// Counts pairs a vocabulary index with the feature's weighted count in
	// this category, by increasing index; features never seen are left out.
	Counts [][2]int `json:"counts"`
}

// Stats describe the training run.
type Stats struct {
	// Examples is the number of training reports.
	Examples int `json:"examples"`
	// Features is the vocabulary's size.
	Features int `json:"features"`
	// LOOVerdictAccuracy and LOOCategoryAccuracy are leave-one-out
	// accuracies on the training data: each report is classified by the
	// counts of all the others (the vocabulary is not re-pruned).
	LOOVerdictAccuracy  float64 `json:"loo_verdict_accuracy"`
	LOOCategoryAccuracy float64 `json:"loo_category_accuracy"`
	// LOOLogLoss is the mean negative log-probability of the true verdict
	// in that leave-one-out run, at the fitted temperature.
	LOOLogLoss float64 `json:"loo_log_loss"`
}

// Model is a trained classifier. Its JSON form (Save, LoadModel) is
// deterministic: the same examples (in any order) and options give the
// same bytes. A Model is safe for concurrent use once built.
type Model struct {
	// Format is FormatVersion.
	Format int `json:"format"`
	// Kind is Kind.
	Kind string `json:"kind"`
	// ThreatModel is the name of the threat model the labels belong to.
	ThreatModel string `json:"threat_model"`
	// Fingerprint is the hex SHA-256 of the sorted, distinct training
	// report hashes, one per line (see ReportHash).
	Fingerprint string `json:"fingerprint"`
	// Reports are the sorted, distinct hashes of the training reports, so
	// that Overlap can tell which reports the model has seen.
	Reports []string `json:"reports"`
	// Options are the training options, defaults filled in.
	Options TrainOptions `json:"options"`
	// Temperature divides the log-scores before they are normalised into
	// probabilities; fitted by leave-one-out on the training data.
	Temperature float64 `json:"temperature"`
	// Stats describe the training run.
	Stats Stats `json:"stats"`
	// Classes are the learned categories, sorted by id.
	Classes []Class `json:"classes"`
	// Vocabulary lists the features, sorted.
	Vocabulary []string `json:"vocabulary"`

	index  map[string]int // feature name → vocabulary index
	logp   []float64      // log P(feature | class), at [feature*len(Classes)+class]
	prior  []float64      // log P(class), smoothed
	report map[string]bool
}

// ReportHash returns the hash that identifies a report to the model: its
// intake hash (the SHA-256 of its raw bytes) or, for a report built in
// code without one, the SHA-256 of its subject, body and text attachments.
func ReportHash(r *intake.Report) string {
	if r.Hash != "" {
		return strings.ToLower(r.Hash)
	}
	h := sha256.New()
	for _, p := range r.Parts() {
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00", p.Name, len(p.Text), p.Text)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fingerprint hashes sorted, distinct report hashes.
func fingerprint(hashes []string) string {
	h := sha256.New()
	for _, x := range hashes {
		io.WriteString(h, x+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Train learns a model from labeled examples, with eng supplying the rules'
// findings and facts for each report. It fails on an empty set, a missing
// report, or a label that is not a pair of the threat model.
func Train(ex []Example, eng *rules.Engine, opt TrainOptions) (*Model, error) {
	if len(ex) == 0 {
		return nil, errors.New("train baseline: no examples")
	}
	if eng == nil {
		return nil, errors.New("train baseline: no rules engine")
	}
	opt = opt.withDefaults()
	tm := opt.ThreatModel
	for i, e := range ex {
		if e.Report == nil {
			return nil, fmt.Errorf("train baseline: example %d has no report", i+1)
		}
		if err := tm.Check(threatmodel.Verdict(e.Verdict), e.Category); err != nil {
			return nil, fmt.Errorf("train baseline: example %d (%s): %w", i+1, e.Report.ID, err)
		}
	}
	// Work in a canonical order so that the order of the examples does
	// not change a single byte of the model.
	ex = slices.Clone(ex)
	keys := make(map[*intake.Report]string, len(ex))
	for _, e := range ex {
		keys[e.Report] = ReportHash(e.Report)
	}
	slices.SortStableFunc(ex, func(a, b Example) int {
		return cmp.Or(strings.Compare(keys[a.Report], keys[b.Report]),
			strings.Compare(a.Category, b.Category), strings.Compare(a.Verdict, b.Verdict))
	})

	// Features of every report, and in how many reports each occurs.
	docs := make([][]feature, len(ex))
	df := map[string]int{}
	evaluate := opt.Evaluate
	if evaluate == nil {
		evaluate = eng.Evaluate
	}
	for i, e := range ex {
		ev := evaluate(e.Report)
		docs[i] = extract(e.Report, &ev, opt.MaxFeatures, opt.RuleWeight)
		for _, f := range docs[i] {
			df[f.name]++
		}
	}
	var vocab []string
	for name, n := range df {
		if n >= opt.MinCount || isRuleFeature(name) {
			vocab = append(vocab, name)
		}
	}
	slices.Sort(vocab)
	index := make(map[string]int, len(vocab))
	for i, name := range vocab {
		index[name] = i
	}

	// Classes, sorted by id, with their counts.
	var ids []string
	for _, e := range ex {
		if !slices.Contains(ids, e.Category) {
			ids = append(ids, e.Category)
		}
	}
	slices.Sort(ids)
	counts := make([]map[int]int, len(ids))
	m := &Model{
		Format:      FormatVersion,
		Kind:        Kind,
		ThreatModel: tm.Name,
		Options:     opt,
		Vocabulary:  vocab,
		Classes:     make([]Class, len(ids)),
	}
	for c, id := range ids {
		cl, _ := tm.Clause(id)
		m.Classes[c] = Class{ID: id, Verdict: string(cl.Verdict), Title: cl.Title}
		counts[c] = map[int]int{}
	}
	hashes := make([]string, len(ex))
	for i, e := range ex {
		c, _ := slices.BinarySearch(ids, e.Category)
		m.Classes[c].Docs++
		for _, f := range docs[i] {
			if j, ok := index[f.name]; ok {
				counts[c][j] += f.weight
				m.Classes[c].Total += f.weight
			}
		}
		hashes[i] = keys[e.Report]
	}
	for c := range m.Classes {
		pairs := make([][2]int, 0, len(counts[c]))
		for j, n := range counts[c] {
			pairs = append(pairs, [2]int{j, n})
		}
		slices.SortFunc(pairs, func(a, b [2]int) int { return a[0] - b[0] })
		m.Classes[c].Counts = pairs
	}
	slices.Sort(hashes)
	m.Reports = slices.Compact(hashes)
	m.Fingerprint = fingerprint(m.Reports)
	m.Stats.Examples = len(ex)
	m.Stats.Features = len(vocab)
	m.Temperature = 1
	m.prepare()
	m.calibrate(ex, docs)
	return m, nil
}

// isRuleFeature reports whether a feature comes from the rules rather than
// the text.
func isRuleFeature(name string) bool {
	return strings.Contains(name, ":")
}

// prepare builds the lookup tables that Predict uses from the exported
// fields.
func (m *Model) prepare() {
	nc, nv := len(m.Classes), len(m.Vocabulary)
	m.index = make(map[string]int, nv)
	for i, name := range m.Vocabulary {
		m.index[name] = i
	}
	m.report = make(map[string]bool, len(m.Reports))
	for _, h := range m.Reports {
		m.report[h] = true
	}
	alpha := m.Options.Alpha
	n := 0
	for _, cl := range m.Classes {
		n += cl.Docs
	}
	m.prior = make([]float64, nc)
	m.logp = make([]float64, nv*nc)
	for c, cl := range m.Classes {
		m.prior[c] = math.Log(float64(cl.Docs+1) / float64(n+nc))
		unseen := math.Log(alpha / (float64(cl.Total) + alpha*float64(nv)))
		for j := range nv {
			m.logp[j*nc+c] = unseen
		}
		for _, p := range cl.Counts {
			m.logp[p[0]*nc+c] = math.Log((float64(p[1]) + alpha) / (float64(cl.Total) + alpha*float64(nv)))
		}
	}
}

// temperatures are the candidates calibrate chooses from.
var temperatures = func() []float64 {
	var ts []float64
	for t := 1.0; t <= 1000; t *= math.Pow(10, 0.1) {
		ts = append(ts, math.Round(t*100)/100)
	}
	return ts
}()

// calibrate fits the temperature and records leave-one-out statistics.
// Naive Bayes treats features as independent, so its raw posteriors are
// nearly always 0 or 1; dividing the log-scores by a temperature that
// minimises the leave-one-out log-loss of the true verdict makes the
// reported confidence mean roughly what it says on data like the training
// set. Leaving one report out of a multinomial model only means
// subtracting its counts, so this costs one scoring pass per report.
func (m *Model) calibrate(ex []Example, docs [][]feature) {
	nc, nv := len(m.Classes), len(m.Vocabulary)
	alpha := m.Options.Alpha
	n := len(ex)
	scores := make([][]float64, n)
	truth := make([]int, n)
	for i, e := range ex {
		c, _ := slices.BinarySearchFunc(m.Classes, e.Category, func(cl Class, id string) int { return strings.Compare(cl.ID, id) })
		truth[i] = c
		own := map[int]int{}
		ownTotal := 0
		var feats [][2]int
		for _, f := range docs[i] {
			if j, ok := m.index[f.name]; ok {
				own[j] += f.weight
				ownTotal += f.weight
				feats = append(feats, [2]int{j, f.weight})
			}
		}
		s := make([]float64, nc)
		for k := range nc {
			s[k] = m.prior[k]
		}
		// The true class without this report (the prior's denominator is
		// common to all classes and cancels out).
		cl := m.Classes[c]
		s[c] = math.Log(float64(cl.Docs) / float64(n+nc))
		denom := float64(cl.Total-ownTotal) + alpha*float64(nv)
		counts := classCounts(cl)
		for _, fw := range feats {
			j, w := fw[0], fw[1]
			for k := range nc {
				if k == c {
					s[k] += float64(w) * math.Log((float64(counts[j]-own[j])+alpha)/denom)
				} else {
					s[k] += float64(w) * m.logp[j*nc+k]
				}
			}
		}
		scores[i] = s
	}
	best, bestLoss := 1.0, math.Inf(1)
	for _, t := range temperatures {
		loss := 0.0
		for i := range n {
			probs := softmax(scores[i], t)
			loss -= math.Log(math.Max(m.verdictProb(probs, m.Classes[truth[i]].Verdict), 1e-12))
		}
		loss /= float64(n)
		if loss < bestLoss-1e-12 {
			best, bestLoss = t, loss
		}
	}
	m.Temperature = best
	okV, okC := 0, 0
	for i := range n {
		c := m.decide(softmax(scores[i], best))
		if c == truth[i] {
			okC++
		}
		if m.Classes[c].Verdict == m.Classes[truth[i]].Verdict {
			okV++
		}
	}
	m.Stats.LOOVerdictAccuracy = round4(float64(okV) / float64(n))
	m.Stats.LOOCategoryAccuracy = round4(float64(okC) / float64(n))
	m.Stats.LOOLogLoss = round4(bestLoss)
}

// classCounts returns a class's counts as a map by vocabulary index.
func classCounts(cl Class) map[int]int {
	out := make(map[int]int, len(cl.Counts))
	for _, p := range cl.Counts {
		out[p[0]] = p[1]
	}
	return out
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// softmax turns log-scores into probabilities at temperature t.
func softmax(s []float64, t float64) []float64 {
	mx := math.Inf(-1)
	for _, x := range s {
		mx = math.Max(mx, x)
	}
	out := make([]float64, len(s))
	sum := 0.0
	for i, x := range s {
		out[i] = math.Exp((x - mx) / t)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// verdictProb sums the probabilities of the classes of one verdict.
func (m *Model) verdictProb(probs []float64, verdict string) float64 {
	p := 0.0
	for c, cl := range m.Classes {
		if cl.Verdict == verdict {
			p += probs[c]
		}
	}
	return p
}

// decide picks a class from class probabilities: the verdict with the
// largest summed probability, then that verdict's most probable category.
// Ties go to the earlier verdict of threatmodel.Verdicts and the earlier
// class id.
func (m *Model) decide(probs []float64) int {
	bestV, bestP := "", -1.0
	for _, v := range threatmodel.Verdicts {
		if p := m.verdictProb(probs, string(v)); p > bestP {
			bestV, bestP = string(v), p
		}
	}
	best := -1
	for c, cl := range m.Classes {
		if cl.Verdict == bestV && (best < 0 || probs[c] > probs[best]) {
			best = c
		}
	}
	return best
}

// Overlap counts how many of the given report hashes (see ReportHash) the
// model was trained on. Evaluating a model on reports it has seen measures
// memory, not skill.
func (m *Model) Overlap(hashes []string) int {
	n := 0
	for _, h := range hashes {
		if m.report[strings.ToLower(h)] {
			n++
		}
	}
	return n
}

// TrainedOn reports whether the model saw any of the given report hashes.
func (m *Model) TrainedOn(hashes []string) bool { return m.Overlap(hashes) > 0 }

// Save writes the model as one line of JSON and a newline.
func (m *Model) Save(w io.Writer) error {
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("save baseline model: %w", err)
	}
	data = append(data, '\n')
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("save baseline model: %w", err)
	}
	return nil
}

// LoadModel reads a model written by Save and checks that it is whole: the
// format version, sorted vocabulary and classes, counts in range, totals
// and the fingerprint.
func LoadModel(r io.Reader) (*Model, error) {
	var m Model
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("load baseline model: %w", err)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("load baseline model: %w", err)
	}
	m.prepare()
	return &m, nil
}

// LoadModelFile reads a model file written by Save.
func LoadModelFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load baseline model: %w", err)
	}
	defer f.Close()
	m, err := LoadModel(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// check validates a decoded model.
func (m *Model) check() error {
	switch {
	case m.Format != FormatVersion:
		return fmt.Errorf("format version %d, this build reads %d (retrain with `secscreen train`)", m.Format, FormatVersion)
	case m.Kind != Kind:
		return fmt.Errorf("kind %q, want %q", m.Kind, Kind)
	case len(m.Classes) == 0:
		return errors.New("no classes")
	case !(m.Temperature > 0) || math.IsInf(m.Temperature, 0):
		return fmt.Errorf("temperature %v is not positive", m.Temperature)
	case !(m.Options.Alpha > 0) || math.IsInf(m.Options.Alpha, 0):
		return fmt.Errorf("smoothing alpha %v is not positive", m.Options.Alpha)
	}
	if !sortedUnique(m.Vocabulary) {
		return errors.New("vocabulary is not sorted and distinct")
	}
	if !sortedUnique(m.Reports) {
		return errors.New("report hashes are not sorted and distinct")
	}
	if got := fingerprint(m.Reports); got != m.Fingerprint {
		return fmt.Errorf("fingerprint %q does not match the report hashes (%s)", m.Fingerprint, got)
	}
	for c, cl := range m.Classes {
		if c > 0 && m.Classes[c-1].ID >= cl.ID {
			return errors.New("classes are not sorted and distinct")
		}
		if _, err := threatmodel.ParseVerdict(cl.Verdict); err != nil {
			return fmt.Errorf("class %s: %w", cl.ID, err)
		}
		if cl.Docs < 1 {
			return fmt.Errorf("class %s has no training reports", cl.ID)
		}
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

func sortedUnique(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}
