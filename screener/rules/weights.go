package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// The decisive criterion: a rule may decide alone (Evaluation.Decisive)
// only when, over the held-out folds of its fit, it fired on at least
// MinDecisiveHits reports and the Wilson 95% lower bound of the share of
// them whose true verdict is the rule's is at least MinDecisiveLowerBound.
const (
	MinDecisiveHits       = 10
	MinDecisiveLowerBound = 0.90
)

// Weights are a rule pack's weights fitted on a labeled corpus by Fit:
// generated data, written by `secscreen rules fit` and read back by
// ParseWeights. With a Bias they replace the rules' hand weights and the
// hand-written decision by a linear scorer (see the package
// documentation); without one they only say which rules are decisive.
type Weights struct {
	// GeneratedBy is the command that wrote the file; Date the day.
	GeneratedBy string `yaml:"generated_by,omitempty" json:"generated_by,omitempty"`
	Date        string `yaml:"date,omitempty" json:"date,omitempty"`
	// Corpus says what the weights were fitted on.
	Corpus *CorpusInfo `yaml:"corpus,omitempty" json:"corpus,omitempty"`
	// Method names the fitting method and its parameters.
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
	// CV holds the cross-validated figures of the rules alone.
	CV *CVFigures `yaml:"cv,omitempty" json:"cv,omitempty"`
	// Bias is each category's intercept; categories it does not name are
	// never chosen unless a rule without a fitted record points at them.
	Bias map[string]float64 `yaml:"bias,omitempty" json:"bias,omitempty"`
	// Rules holds each rule's fitted record, by rule id.
	Rules map[string]RuleWeights `yaml:"rules,omitempty" json:"rules,omitempty"`
	// Features holds the weights of the pack's fact features (see
	// RuleSet.Features), by feature name, then category.
	Features map[string]map[string]float64 `yaml:"features,omitempty" json:"features,omitempty"`
}

// CorpusInfo identifies the corpus weights were fitted on.
type CorpusInfo struct {
	Dir         string `yaml:"dir" json:"dir"`
	Split       string `yaml:"split" json:"split"`
	Reports     int    `yaml:"reports" json:"reports"`
	Fingerprint string `yaml:"fingerprint,omitempty" json:"fingerprint,omitempty"`
}

// CVFigures are cross-validated figures of the fitted rules alone.
type CVFigures struct {
	Folds            int     `yaml:"folds" json:"folds"`
	Seed             int64   `yaml:"seed" json:"seed"`
	Accuracy         float64 `yaml:"accuracy" json:"accuracy"`
	CategoryAccuracy float64 `yaml:"category_accuracy" json:"category_accuracy"`
	SecurityRecall   float64 `yaml:"security_recall" json:"security_recall"`
	SecurityReports  int     `yaml:"security_reports" json:"security_reports"`
}

// RuleWeights is one rule's fitted record.
type RuleWeights struct {
	// Fingerprint identifies the rule's patterns and conditions when it was
	// fitted (see Fingerprint); a record whose fingerprint differs from the
	// rule's is not applied. Empty applies to any rule of that id.
	Fingerprint string `yaml:"fingerprint,omitempty" json:"fingerprint,omitempty"`
	// Hits counts the held-out reports the rule fired on; Correct those
	// whose true verdict is the rule's while the fit without them also
	// gave the rule positive weight towards that verdict.
	Hits    int `yaml:"hits" json:"hits"`
	Correct int `yaml:"correct" json:"correct"`
	// LowerBound is the Wilson 95% lower bound of Correct/Hits.
	LowerBound float64 `yaml:"lower_bound" json:"lower_bound"`
	// Decisive records whether the rule meets the decisive criterion.
	Decisive bool `yaml:"decisive" json:"decisive"`
	// Weights is the rule's weight per category (zero weights left out).
	Weights map[string]float64 `yaml:"weights,omitempty" json:"weights,omitempty"`
}

// Wilson returns the lower bound of the Wilson score interval at 95% for k
// successes in n trials (0 when n is 0).
func Wilson(k, n int) float64 {
	if n <= 0 {
		return 0
	}
	const z = 1.959963984540054
	p, fn := float64(k)/float64(n), float64(n)
	d := 1 + z*z/fn
	c := p + z*z/(2*fn)
	r := z * math.Sqrt(p*(1-p)/fn+z*z/(4*fn*fn))
	return math.Max(0, (c-r)/d)
}

// MeetsDecisive reports whether correct of hits held-out firings meet the
// decisive criterion.
func MeetsDecisive(correct, hits int) bool {
	return hits >= MinDecisiveHits && Wilson(correct, hits) >= MinDecisiveLowerBound
}

// Fingerprint identifies what makes rule r fire and what it is evidence
// for: its category, patterns, parts, vetoes and conditions. Its
// description and hand weight are left out.
func Fingerprint(r *Rule) string {
	f := fingerprintOf(r)
	if k := r.fingerprint; k != nil && k.of.equal(&f) {
		return k.fp
	}
	b, _ := json.Marshal(f)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// fingerprintFields are the fields of a rule that Fingerprint hashes (as
// JSON: the names are part of every fingerprint in a weights file).
type fingerprintFields struct {
	Category      string
	Match, Unless []string
	Parts         []string
	Requires      Requires
	CaseSensitive bool
}

func fingerprintOf(r *Rule) fingerprintFields {
	return fingerprintFields{r.Category, r.Match, r.Unless, r.Parts, r.Requires, r.CaseSensitive}
}

// equal reports whether f and o hold the same values.
func (f *fingerprintFields) equal(o *fingerprintFields) bool {
	q, p := &f.Requires, &o.Requires
	sameBool := func(a, b *bool) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	return f.Category == o.Category && slices.Equal(f.Match, o.Match) && slices.Equal(f.Unless, o.Unless) &&
		slices.Equal(f.Parts, o.Parts) && f.CaseSensitive == o.CaseSensitive &&
		sameBool(q.HasReproducer, p.HasReproducer) && sameBool(q.HasStackTrace, p.HasStackTrace) &&
		slices.Equal(q.PrivilegesInclude, p.PrivilegesInclude) && slices.Equal(q.PrivilegesExclude, p.PrivilegesExclude) &&
		slices.Equal(q.Facts, p.Facts) && slices.Equal(q.NoFacts, p.NoFacts) && q.Versions == p.Versions
}

// knownFingerprint is a rule's fingerprint worked out ahead, with the
// values it was worked out of: it is the rule's for as long as the
// rule's fields hold those values. Comparing them costs a small part of
// hashing them (the strings are most often the very same), which the
// built-in pack's engine did for every rule at every start (~0.5 ms).
type knownFingerprint struct {
	fp string
	of fingerprintFields
}

// ParseWeights reads a weights file; source names it in errors.
//
// The file is decoded once, straight into Weights (unknown keys are
// errors): it is read at every start, and going through a yaml.Node and
// back cost three times as much.
func ParseWeights(data []byte, source string) (*Weights, error) {
	var w Weights
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&w); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty weights file", source)
		}
		return nil, fmt.Errorf("%s: weights: %w", source, err)
	}
	return checkWeights(&w, source)
}

// decodeWeights decodes weights given inline in a rule pack.
func decodeWeights(n *yaml.Node, source string) (*Weights, error) {
	var w Weights
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("%s:%d: weights: %w", source, n.Line, err)
	}
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("%s:%d: weights: %w", source, n.Line, err)
	}
	return checkWeights(&w, source)
}

// checkWeights checks the fitted records and recomputes their lower
// bounds.
func checkWeights(w *Weights, source string) (*Weights, error) {
	for _, id := range slices.Sorted(maps.Keys(w.Rules)) {
		r := w.Rules[id]
		if r.Hits < 0 || r.Correct < 0 || r.Correct > r.Hits {
			return nil, fmt.Errorf("%s: weights: rule %s: correct %d of %d hits is impossible", source, id, r.Correct, r.Hits)
		}
		r.LowerBound = round4(Wilson(r.Correct, r.Hits))
		if r.Decisive && !MeetsDecisive(r.Correct, r.Hits) {
			return nil, fmt.Errorf("%s: weights: rule %s: marked decisive, but %d of %d held-out hits (lower bound %.2f) do not meet the criterion (at least %d hits, lower bound %.2f)",
				source, id, r.Correct, r.Hits, r.LowerBound, MinDecisiveHits, MinDecisiveLowerBound)
		}
		w.Rules[id] = r
	}
	return w, nil
}

// Write writes w as YAML, after a comment header (one line per line of
// header, each prefixed with "# ").
func (w *Weights) Write(out io.Writer, header string) error {
	var b bytes.Buffer
	for _, l := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
		if header != "" {
			b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
		}
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(w); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := out.Write(b.Bytes())
	return err
}

// merge returns w with o's records over it; the records of the rules in
// replaced are dropped first (an override changed their patterns).
func (w *Weights) merge(o *Weights, replaced []string) *Weights {
	if w == nil && o == nil {
		return nil
	}
	out := &Weights{}
	if w != nil {
		*out = *w
		out.Rules = maps.Clone(w.Rules)
	}
	for _, id := range replaced {
		delete(out.Rules, id)
	}
	if o == nil {
		return out
	}
	if len(o.Bias) > 0 {
		out.Bias, out.Features = o.Bias, o.Features
		out.GeneratedBy, out.Date, out.Corpus, out.Method, out.CV = o.GeneratedBy, o.Date, o.Corpus, o.Method, o.CV
	}
	if out.Rules == nil {
		out.Rules = map[string]RuleWeights{}
	}
	maps.Copy(out.Rules, o.Rules)
	return out
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }

// featureHolds reports whether a fact feature holds for the facts:
// "versions:COND" (a versions condition of Requires), "privileges:P" (P
// extracted; "privileges:cap" for any CAP_* name), or a fact name.
func featureHolds(name string, f *Facts) bool {
	if c, ok := strings.CutPrefix(name, "versions:"); ok {
		return versionsHold(c, f)
	}
	if p, ok := strings.CutPrefix(name, "privileges:"); ok {
		if p == "cap" {
			return slices.ContainsFunc(f.Privileges, func(s string) bool { return strings.HasPrefix(s, "CAP_") })
		}
		return slices.Contains(f.Privileges, p)
	}
	return f.has(name)
}

func featureKnown(name string, known func(string) bool) bool {
	if c, ok := strings.CutPrefix(name, "versions:"); ok {
		return (Requires{Versions: c}).check() == nil && c != ""
	}
	if _, ok := strings.CutPrefix(name, "privileges:"); ok {
		return true
	}
	return known(name)
}

// scorer is Weights compiled against a threat model and a pack's rules.
type scorer struct {
	cats     []string
	verdicts []threatmodel.Verdict
	index    map[string]int
	bias     []float64
	linear   bool                 // a bias was fitted: the linear scorer decides
	rule     map[string][]float64 // per rule id whose record applies
	decisive map[string]bool
	features []string
	feat     [][]float64
}

// absentBias is the intercept of a category the fit never saw.
const absentBias = -10

func newScorer(tm *threatmodel.Model, w *Weights, rules []Rule, features []string) *scorer {
	s := &scorer{cats: tm.IDs(), index: map[string]int{}, rule: map[string][]float64{}, decisive: map[string]bool{}}
	for i, c := range s.cats {
		s.index[c] = i
		v, _ := tm.VerdictOf(c)
		s.verdicts = append(s.verdicts, v)
	}
	// A category the threat model lacks is left out: the scorer can only
	// choose the model's categories.
	vec := func(m map[string]float64) []float64 {
		out := make([]float64, len(s.cats))
		for c, x := range m {
			if i, ok := s.index[c]; ok {
				out[i] = x
			}
		}
		return out
	}
	s.linear = len(w.Bias) > 0
	s.bias = make([]float64, len(s.cats))
	if s.linear {
		for i := range s.bias {
			s.bias[i] = absentBias
		}
		for c, b := range w.Bias {
			if i, ok := s.index[c]; ok {
				s.bias[i] = b
			}
		}
	}
	for i := range rules {
		r := &rules[i]
		rec, ok := w.Rules[r.ID]
		if !ok || (rec.Fingerprint != "" && rec.Fingerprint != Fingerprint(r)) {
			continue
		}
		if rec.Decisive {
			s.decisive[r.ID] = true
		}
		if s.linear {
			s.rule[r.ID] = vec(rec.Weights)
		}
	}
	if s.linear {
		for _, f := range features {
			s.features = append(s.features, f)
			s.feat = append(s.feat, vec(w.Features[f]))
		}
	}
	return s
}

// Applied reports whether the fitted record of the rule with this id
// applies to the engine's rule (it exists and its fingerprint matches).
func (e *Engine) Applied(id string) bool {
	if e.fit == nil {
		return false
	}
	_, ok := e.fit.rule[id]
	return ok || e.fit.decisive[id]
}

// FittedWeight returns the fitted weight of the rule with this id towards
// category, and whether the engine has one (fitted weights apply to it).
func (e *Engine) FittedWeight(id, category string) (float64, bool) {
	if e.fit == nil || !e.fit.linear {
		return 0, false
	}
	w, ok := e.fit.rule[id]
	i, known := e.fit.index[category]
	if !ok || !known {
		return 0, false
	}
	return w[i], true
}

// Decisive reports whether the rule with this id is decisive: its fitted
// record applies and meets the decisive criterion.
func (e *Engine) Decisive(id string) bool { return e.fit != nil && e.fit.decisive[id] }

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
