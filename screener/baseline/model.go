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
// and LoadModel accepts. Version 2 added logistic regression, the security
// threshold and normalised content hashes of the training reports.
const FormatVersion = 2

// Algorithms (TrainOptions.Algo) and the kinds of model they make
// (Model.Kind).
const (
	// AlgoLogReg is L2-regularised multinomial logistic regression.
	AlgoLogReg = "logreg"
	// AlgoNaiveBayes is multinomial naive Bayes.
	AlgoNaiveBayes = "nb"

	KindLogReg     = "logistic-regression"
	KindNaiveBayes = "multinomial-naive-bayes"
)

// Defaults of TrainOptions.
const (
	// DefaultAlgo is the algorithm Train uses when none is named: the one
	// that won the comparison in README ("The offline baseline"). Naive
	// Bayes, by McNemar's exact test on the test split (its own answers,
	// p = 0.027), the rule set before the test split was scored; logistic
	// regression had led on dev cross-validation (p = 0.073).
	DefaultAlgo = AlgoNaiveBayes
	// DefaultAlpha is the additive (Lidstone) smoothing of naive Bayes'
	// feature counts.
	DefaultAlpha = 0.1
	// DefaultMinCount is the number of training reports a text feature must
	// occur in to enter the vocabulary (5 beat 2 and 3 for both algorithms
	// in cross-validation on the dev split).
	DefaultMinCount = 5
	// DefaultMaxFeatures bounds the distinct text features taken from one
	// report.
	DefaultMaxFeatures = 4000
	// DefaultCharGrams is the length of the character n-grams read beside
	// the words. Chosen by 5-fold cross-validation on the dev
	// split: held-out verdict log-loss 0.354 with words and pairs alone,
	// 0.319, 0.315 and 0.326 with 3-, 4- and 5-grams (logistic regression;
	// naive Bayes 0.426 and 0.418 at 4).
	DefaultCharGrams = 4
	// DefaultRuleWeight is how many times naive Bayes counts a rule or
	// fact feature against a word's once.
	DefaultRuleWeight = 2
	// DefaultRuleScale is the length of the rules' block of logistic
	// regression's feature vector; the words' block has length 1.
	DefaultRuleScale = 0.5
	// DefaultFolds is the number of folds whose held-out predictions
	// calibrate the model, set the security threshold and (for logistic
	// regression) choose the regularisation.
	DefaultFolds = 5
	// DefaultSeed seeds the calibration folds.
	DefaultSeed = 1
	// DefaultTargetRecall is the security recall the threshold is chosen
	// for, on the held-out predictions.
	DefaultTargetRecall = 0.95
)

// Lambdas are the L2 strengths logistic regression chooses from by
// cross-validation when TrainOptions.Lambda is 0 (the penalty is
// λ/2·‖w‖² on top of the mean log-loss over the training reports).
var Lambdas = []float64{1e-7, 1e-6, 1e-5, 1e-4}

// Example is one labeled training report.
type Example struct {
	// Report is the report; it must not be nil.
	Report *intake.Report
	// Label is its label, a pair of the threat model.
	threatmodel.Label
}

// TrainOptions tune Train. The zero value takes the defaults. A model
// records them (defaults filled in), so that `eval --folds` can retrain a
// model like it.
type TrainOptions struct {
	// Algo is AlgoLogReg or AlgoNaiveBayes; "" means DefaultAlgo.
	Algo string `json:"algo"`
	// Alpha is naive Bayes' additive smoothing; 0 means DefaultAlpha.
	Alpha float64 `json:"alpha,omitempty"`
	// Lambda is logistic regression's L2 strength; 0 chooses it from
	// Lambdas by cross-validation (the choice is Model.Lambda).
	Lambda float64 `json:"lambda,omitempty"`
	// MinCount is how many training reports a text feature must occur in
	// to be kept; 0 means DefaultMinCount. Rule and fact features are
	// always kept.
	MinCount int `json:"min_count"`
	// MaxFeatures bounds the distinct text features read from one report;
	// 0 means DefaultMaxFeatures.
	MaxFeatures int `json:"max_features"`
	// RuleWeight is how many times naive Bayes counts each rule or fact
	// feature; 0 means DefaultRuleWeight.
	RuleWeight int `json:"rule_weight,omitempty"`
	// CharGrams, when positive, adds the character n-grams of this length
	// of the report's words to its text features (see charGrams): they
	// resist phrasing the training reports did not use. 0 means
	// DefaultCharGrams when training; negative, words and word pairs
	// only. A saved model keeps the length it was trained with (0 in
	// models from before character n-grams: none).
	CharGrams int `json:"char_grams,omitempty"`
	// RuleScale is the length of the rules' block of logistic
	// regression's feature vector; 0 means DefaultRuleScale.
	RuleScale float64 `json:"rule_scale,omitempty"`
	// Folds is the number of calibration folds (at least 2); 0 means
	// DefaultFolds. With fewer training reports of a verdict than folds,
	// some folds lack that verdict, which is allowed.
	Folds int `json:"folds"`
	// Seed seeds the calibration folds; 0 means DefaultSeed.
	Seed uint64 `json:"seed"`
	// TargetRecall is the security recall the threshold must reach on the
	// held-out predictions; 0 means DefaultTargetRecall.
	TargetRecall float64 `json:"target_recall"`
	// ThreatModel checks the labels and names the categories; nil means
	// threatmodel.Kernel(). It must be the model the engine was built with.
	ThreatModel *threatmodel.Model `json:"-"`
	// Evaluate, if set, gives the engine's evaluation of a report in place
	// of running the engine (a cache of evaluations, for cross-validation
	// that trains on the same reports once per fold).
	Evaluate func(*intake.Report) rules.Evaluation `json:"-"`
}

func (o TrainOptions) withDefaults() TrainOptions {
	if o.Algo == "" {
		o.Algo = DefaultAlgo
	}
	switch o.Algo {
	case AlgoNaiveBayes:
		if o.Alpha <= 0 {
			o.Alpha = DefaultAlpha
		}
		if o.RuleWeight <= 0 {
			o.RuleWeight = DefaultRuleWeight
		}
	case AlgoLogReg:
		if o.RuleScale <= 0 {
			o.RuleScale = DefaultRuleScale
		}
	}
	if o.MinCount <= 0 {
		o.MinCount = DefaultMinCount
	}
	if o.MaxFeatures <= 0 {
		o.MaxFeatures = DefaultMaxFeatures
	}
	if o.CharGrams == 0 {
		o.CharGrams = DefaultCharGrams
	}
	if o.Folds <= 0 {
		o.Folds = DefaultFolds
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.TargetRecall <= 0 {
		o.TargetRecall = DefaultTargetRecall
	}
	if o.ThreatModel == nil {
		o.ThreatModel = threatmodel.Kernel()
	}
	return o
}

func (o TrainOptions) check() error {
	switch {
	case o.Algo != AlgoLogReg && o.Algo != AlgoNaiveBayes:
		return fmt.Errorf("unknown algorithm %q (want %s or %s)", o.Algo, AlgoLogReg, AlgoNaiveBayes)
	case o.Algo == AlgoNaiveBayes && (!(o.Alpha > 0) || math.IsInf(o.Alpha, 0)):
		return fmt.Errorf("smoothing alpha %v is not positive", o.Alpha)
	case o.Algo == AlgoNaiveBayes && (o.RuleWeight < 1 || o.Lambda != 0 || o.RuleScale != 0):
		return fmt.Errorf("naive Bayes takes alpha and a rule weight of at least 1 (got rule weight %d, lambda %v, rule scale %v)", o.RuleWeight, o.Lambda, o.RuleScale)
	case o.Algo == AlgoLogReg && (o.Lambda < 0 || math.IsInf(o.Lambda, 0) || math.IsNaN(o.Lambda)):
		return fmt.Errorf("lambda %v is negative", o.Lambda)
	case o.Algo == AlgoLogReg && (!(o.RuleScale > 0) || math.IsInf(o.RuleScale, 0) || o.Alpha != 0 || o.RuleWeight != 0):
		return fmt.Errorf("logistic regression takes lambda and a positive rule scale (got rule scale %v, alpha %v, rule weight %d)", o.RuleScale, o.Alpha, o.RuleWeight)
	case o.Folds < 2:
		return fmt.Errorf("%d calibration folds; need at least 2", o.Folds)
	case !(o.TargetRecall > 0 && o.TargetRecall <= 1):
		return fmt.Errorf("target recall %v is not in (0, 1]", o.TargetRecall)
	}
	return nil
}

// Class is one category the model learned.
type Class struct {
	// ID is the category id.
	ID string `json:"id"`
	// Verdict is the verdict the category belongs to.
	Verdict threatmodel.Verdict `json:"verdict"`
	// Title is the clause's title in the threat model.
	Title string `json:"title"`
	// Docs is the number of training reports labeled with the category.
	Docs int `json:"docs"`
	// Total is the sum of Counts' counts (naive Bayes only).
	Total int `json:"total,omitempty"`
	// Counts pairs a vocabulary index with the feature's weighted count in
	// this category, by increasing index; features never seen are left
	// out (naive Bayes only).
	Counts [][2]int32 `json:"counts,omitempty"`
}

// Stats describe the training run. The CV figures are out-of-fold: each
// training report is predicted by a model trained on the other folds
// (TrainOptions.Folds, TrainOptions.Seed), with the final temperature and
// threshold applied. Those two were fitted on the same predictions, so the
// figures are slightly optimistic; `secscreen eval --folds` measures
// without that bias.
type Stats struct {
	// Examples is the number of training reports.
	Examples int `json:"examples"`
	// Features is the vocabulary's size.
	Features int `json:"features"`
	// CVVerdictAccuracy and CVCategoryAccuracy are out-of-fold accuracies.
	// Logistic regression's category model is fitted once, on all the
	// training reports, so it has no CVCategoryAccuracy (0).
	CVVerdictAccuracy  float64 `json:"cv_verdict_accuracy"`
	CVCategoryAccuracy float64 `json:"cv_category_accuracy,omitempty"`
	// CVMacroF1 averages the F1 of the verdicts present.
	CVMacroF1 float64 `json:"cv_macro_f1"`
	// CVSecurityRecall and CVSecurityPrecision are those of the security
	// verdict at SecurityThreshold.
	CVSecurityRecall    float64 `json:"cv_security_recall"`
	CVSecurityPrecision float64 `json:"cv_security_precision"`
	// CVLogLoss is the mean negative log-probability of the true verdict
	// at the fitted temperature.
	CVLogLoss float64 `json:"cv_log_loss"`
	// CVECE is the expected calibration error of the verdict confidence
	// (10 equal-width bins).
	CVECE float64 `json:"cv_ece"`
}

// Model is a trained classifier. Its JSON form (Save, LoadModel) is
// deterministic: the same examples (in any order) and options give the
// same bytes. A Model is safe for concurrent use once built.
type Model struct {
	// Format is FormatVersion.
	Format int `json:"format"`
	// Kind is KindLogReg or KindNaiveBayes.
	Kind string `json:"kind"`
	// ThreatModel is the name of the threat model the labels belong to.
	ThreatModel string `json:"threat_model"`
	// Fingerprint is the hex SHA-256 of the sorted, distinct training
	// report hashes, one per line (see ReportHash).
	Fingerprint string `json:"fingerprint"`
	// Reports are the sorted, distinct content hashes of the training
	// reports (ReportHash), so that Overlap can tell which reports the
	// model has seen.
	Reports []string `json:"reports"`
	// Options are the training options, defaults filled in.
	Options TrainOptions `json:"options"`
	// Temperature divides the scores before they become probabilities;
	// fitted to the held-out predictions of the calibration folds.
	Temperature float64 `json:"temperature"`
	// SecurityThreshold is the calibrated probability of security at or
	// above which the verdict is security even when another verdict is
	// more probable; chosen on the held-out predictions as the largest
	// (at most 0.5, in steps of 0.01) whose security recall reaches
	// Options.TargetRecall.
	SecurityThreshold float64 `json:"security_threshold"`
	// Stats describe the training run.
	Stats Stats `json:"stats"`
	// Classes are the learned categories, sorted by id.
	Classes []Class `json:"classes"`
	// Vocabulary lists the features, sorted.
	Vocabulary []string `json:"vocabulary"`
	// Logistic regression only: Lambda is the L2 strength used; Verdicts
	// the verdicts learned, in threatmodel.Verdicts order; IDF the inverse
	// document frequency of each vocabulary feature; VerdictWeights and
	// CategoryWeights hold, for each vocabulary feature and then the bias,
	// one weight per verdict (per class): row j is feature j.
	Lambda          float64               `json:"lambda,omitempty"`
	Verdicts        []threatmodel.Verdict `json:"verdicts,omitempty"`
	IDF             []float64             `json:"idf,omitempty"`
	VerdictWeights  [][]float64           `json:"verdict_weights,omitempty"`
	CategoryWeights [][]float64           `json:"category_weights,omitempty"`

	index vocabIndex // feature name → vocabulary index
	vOf   []int      // class → index of its verdict in verdicts()
	// naive Bayes
	prior []float64 // log P(class), smoothed
	// log P(feature | class) (see prepareNB and logProb): either logp at
	// [feature*len(Classes)+class], or the count there in counts and
	// logpOf[class*stride+count].
	logp   []float64
	counts []uint8
	logpOf []float64
	stride int
}

// ReportHash returns the hash that identifies a report's content to the
// model: the hex SHA-256 of its body and text attachments, each lowercased
// with runs of white space folded to one space (the subject when both are
// empty). Headers, the subject, MIME encoding and line endings do not
// change it, so a report resent or re-encoded is still known for what it
// is.
func ReportHash(r *intake.Report) string {
	h := sha256.New()
	n := 0
	for _, p := range r.Parts() {
		if p.Name == "subject" {
			continue
		}
		norm := normalise(p.Text)
		n += len(norm)
		fmt.Fprintf(h, "%d\x00%s\x00", len(norm), norm)
	}
	if n == 0 {
		norm := normalise(r.Subject)
		fmt.Fprintf(h, "subject\x00%d\x00%s\x00", len(norm), norm)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// normalise lowercases s and folds runs of white space to one space.
func normalise(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// fingerprint hashes sorted, distinct report hashes.
func fingerprint(hashes []string) string {
	h := sha256.New()
	for _, x := range hashes {
		io.WriteString(h, x+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

// trainSet is the training data in canonical order, with the features
// extracted once.
type trainSet struct {
	opt     TrainOptions
	classes []Class               // every category met, sorted by id, with Docs
	verdict []threatmodel.Verdict // verdicts met, in threatmodel.Verdicts order
	docs    [][]feature
	cls     []int // class of each doc
	hashes  []string
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
	if err := opt.check(); err != nil {
		return nil, fmt.Errorf("train baseline: %w", err)
	}
	if opt.Algo == AlgoNaiveBayes && int64(len(ex))*int64(opt.RuleWeight) > math.MaxInt32 {
		// A feature's count in a class is at most the reports times the
		// rule weight, and counts are kept in 32 bits.
		return nil, fmt.Errorf("train baseline: %d examples at rule weight %d overflow the model's counts", len(ex), opt.RuleWeight)
	}
	tm := opt.ThreatModel
	for i, e := range ex {
		if e.Report == nil {
			return nil, fmt.Errorf("train baseline: example %d has no report", i+1)
		}
		if err := tm.Check(e.Verdict, e.Category); err != nil {
			return nil, fmt.Errorf("train baseline: example %d (%s): %w", i+1, e.Report.ID, err)
		}
	}
	ts := newTrainSet(ex, eng, opt)
	all := make([]int, len(ts.docs))
	for i := range all {
		all[i] = i
	}
	lambda, oof := heldOutScores(ts)
	var m *Model
	switch opt.Algo {
	case AlgoNaiveBayes:
		m = fitNB(ts, all)
	case AlgoLogReg:
		m, _ = fitLR(ts, all, lambda, false, nil)
	}
	m.ThreatModel = tm.Name
	m.Options = opt
	m.Reports = slices.Compact(slices.Sorted(slices.Values(ts.hashes)))
	m.Fingerprint = fingerprint(m.Reports)
	m.calibrate(ts, oof)
	m.prepare()
	return m, nil
}

// newTrainSet sorts the examples canonically (so that their order does not
// change a byte of the model) and extracts their features.
func newTrainSet(ex []Example, eng *rules.Engine, opt TrainOptions) *trainSet {
	ex = slices.Clone(ex)
	keys := make(map[*intake.Report]string, len(ex))
	for _, e := range ex {
		keys[e.Report] = ReportHash(e.Report)
	}
	slices.SortStableFunc(ex, func(a, b Example) int {
		return cmp.Or(strings.Compare(keys[a.Report], keys[b.Report]),
			strings.Compare(a.Category, b.Category), cmp.Compare(a.Verdict, b.Verdict))
	})
	ts := &trainSet{opt: opt, docs: make([][]feature, len(ex)), cls: make([]int, len(ex)), hashes: make([]string, len(ex))}
	var ids []string
	for _, e := range ex {
		if !slices.Contains(ids, e.Category) {
			ids = append(ids, e.Category)
		}
	}
	slices.Sort(ids)
	tm := opt.ThreatModel
	for _, id := range ids {
		cl, _ := tm.Clause(id)
		ts.classes = append(ts.classes, Class{ID: id, Verdict: cl.Verdict, Title: cl.Title})
	}
	for _, v := range threatmodel.Verdicts {
		if slices.ContainsFunc(ts.classes, func(c Class) bool { return c.Verdict == v }) {
			ts.verdict = append(ts.verdict, v)
		}
	}
	evaluate := opt.Evaluate
	if evaluate == nil {
		evaluate = eng.Evaluate
	}
	for i, e := range ex {
		ev := evaluate(e.Report)
		ts.docs[i] = extract(e.Report, &ev, opt.MaxFeatures, opt.RuleWeight, opt.CharGrams)
		ts.cls[i], _ = slices.BinarySearch(ids, e.Category)
		ts.hashes[i] = keys[e.Report]
	}
	return ts
}

// vocabulary returns the sorted features kept for the given training
// reports: text features found in at least MinCount of them, and every
// rule feature.
func (ts *trainSet) vocabulary(idx []int) []string {
	df := map[string]int{}
	for _, i := range idx {
		for _, f := range ts.docs[i] {
			df[f.name]++
		}
	}
	var vocab []string
	for name, n := range df {
		if n >= ts.opt.MinCount || isRuleFeature(name) {
			vocab = append(vocab, name)
		}
	}
	slices.Sort(vocab)
	return vocab
}

// newModel starts a model of the given kind fitted to the reports idx of
// ts: the classes (with the number of those reports in each) and the
// vocabulary. The lookup tables are built by prepare.
func (ts *trainSet) newModel(kind string, idx []int) *Model {
	m := &Model{
		Format:      FormatVersion,
		Kind:        kind,
		Options:     ts.opt,
		Temperature: 1,
		Classes:     slices.Clone(ts.classes),
		Vocabulary:  ts.vocabulary(idx),
	}
	for _, i := range idx {
		m.Classes[ts.cls[i]].Docs++
	}
	m.Stats.Examples = len(idx)
	m.Stats.Features = len(m.Vocabulary)
	return m
}

// isRuleFeature reports whether a feature comes from the rules rather than
// the text.
func isRuleFeature(name string) bool {
	return strings.Contains(name, ":")
}

// verdicts returns the verdicts the model decides between, in
// threatmodel.Verdicts order.
func (m *Model) verdicts() []threatmodel.Verdict {
	if m.Kind == KindLogReg {
		return m.Verdicts
	}
	var out []threatmodel.Verdict
	for _, v := range threatmodel.Verdicts {
		if slices.ContainsFunc(m.Classes, func(c Class) bool { return c.Verdict == v }) {
			out = append(out, v)
		}
	}
	return out
}

// prepare builds the lookup tables that Predict uses from the exported
// fields.
func (m *Model) prepare() {
	m.index = newVocabIndex(m.Vocabulary)
	vs := m.verdicts()
	m.vOf = make([]int, len(m.Classes))
	for c, cl := range m.Classes {
		m.vOf[c] = slices.Index(vs, cl.Verdict)
	}
	if m.Kind == KindNaiveBayes {
		m.prepareNB()
	}
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// softmax turns scores into probabilities at temperature t.
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

// Overlap counts how many of the given report hashes (see ReportHash) the
// model was trained on. Evaluating a model on reports it has seen measures
// memory, not skill.
func (m *Model) Overlap(hashes []string) int {
	n := 0
	for _, h := range hashes {
		// Reports is sorted and distinct (Train makes it so, check
		// checks it): a search needs no set built at every load.
		if _, ok := slices.BinarySearch(m.Reports, strings.ToLower(h)); ok {
			n++
		}
	}
	return n
}

// Name names the model by its kind and the first 12 hex digits of its
// training fingerprint, e.g. "logreg@3f2a9c0d51be".
func (m *Model) Name() string {
	algo := AlgoLogReg
	if m.Kind == KindNaiveBayes {
		algo = "naive-bayes"
	}
	return algo + "@" + m.Fingerprint[:min(12, len(m.Fingerprint))]
}

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
// format version, sorted vocabulary and classes, counts or weights in
// range, and the fingerprint.
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
	case m.Kind != KindLogReg && m.Kind != KindNaiveBayes:
		return fmt.Errorf("kind %q, want %q or %q", m.Kind, KindLogReg, KindNaiveBayes)
	case len(m.Classes) == 0:
		return errors.New("no classes")
	case !(m.Temperature > 0) || math.IsInf(m.Temperature, 0):
		return fmt.Errorf("temperature %v is not positive", m.Temperature)
	case !(m.SecurityThreshold > 0 && m.SecurityThreshold <= 0.5):
		return fmt.Errorf("security threshold %v is not in (0, 0.5]", m.SecurityThreshold)
	}
	if err := m.Options.check(); err != nil {
		return err
	}
	if (m.Kind == KindNaiveBayes) != (m.Options.Algo == AlgoNaiveBayes) {
		return fmt.Errorf("kind %q trained with algorithm %q", m.Kind, m.Options.Algo)
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
		if _, err := threatmodel.ParseVerdict(string(cl.Verdict)); err != nil {
			return fmt.Errorf("class %s: %w", cl.ID, err)
		}
		if cl.Docs < 1 {
			return fmt.Errorf("class %s has no training reports", cl.ID)
		}
	}
	if m.Kind == KindNaiveBayes {
		return m.checkNB()
	}
	return m.checkLR()
}

func sortedUnique(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= s[i] {
			return false
		}
	}
	return true
}
