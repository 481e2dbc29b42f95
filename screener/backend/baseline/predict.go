package baseline

import (
	"cmp"
	"slices"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// CategoryScore is one category's probability for a report.
type CategoryScore struct {
	// Category is the category id and Verdict its verdict.
	Category string `json:"category"`
	Verdict  string `json:"verdict"`
	// Prob is the calibrated posterior probability.
	Prob float64 `json:"prob"`
}

// VerdictScore is one verdict's probability: the sum over its categories.
type VerdictScore struct {
	// Verdict is the verdict.
	Verdict string `json:"verdict"`
	// Prob is the summed posterior of its categories.
	Prob float64 `json:"prob"`
}

// Contribution is one feature's share of the decision.
type Contribution struct {
	// Feature is the feature's name: a word, a word pair, "rule:ID",
	// "fact:NAME", "priv:NAME" or "missing:WHAT".
	Feature string `json:"feature"`
	// Weight is how much the feature raised the chosen category's log-score
	// over the runner-up's (before the temperature).
	Weight float64 `json:"weight"`
}

// Prediction is the model's judgement of one report.
type Prediction struct {
	// Verdict and Category are the decision: the most probable verdict and,
	// within it, the most probable category.
	Verdict  string `json:"verdict"`
	Category string `json:"category"`
	// Confidence is the posterior probability of Verdict.
	Confidence float64 `json:"confidence"`
	// Categories ranks every learned category, most probable first.
	Categories []CategoryScore `json:"categories"`
	// Verdicts ranks the verdicts that have learned categories.
	Verdicts []VerdictScore `json:"verdicts"`
	// RunnerUp is the most probable category of another verdict ("" when
	// the model knows one verdict only).
	RunnerUp string `json:"runner_up"`
	// Evidence lists the features that most favour Category over RunnerUp,
	// strongest first (at most MaxEvidence).
	Evidence []Contribution `json:"evidence"`
	// Features is the number of the report's features the model knows.
	Features int `json:"features"`
}

// MaxEvidence bounds Prediction.Evidence.
const MaxEvidence = 6

// Predict classifies a report, given the rules' evaluation of it from the
// engine the model was trained with. A nil ev leaves out the rules'
// features, which the model expects: use it only to study the words alone.
func (m *Model) Predict(r *intake.Report, ev *rules.Evaluation) Prediction {
	nc := len(m.Classes)
	feats := extract(r, ev, m.Options.MaxFeatures, m.Options.RuleWeight)
	known := make([][2]int, 0, len(feats))
	scores := slices.Clone(m.prior)
	for _, f := range feats {
		j, ok := m.index[f.name]
		if !ok {
			continue
		}
		known = append(known, [2]int{j, f.weight})
		row := m.logp[j*nc : (j+1)*nc]
		for c, lp := range row {
			scores[c] += float64(f.weight) * lp
		}
	}
	probs := softmax(scores, m.Temperature)
	best := m.decide(probs)

	p := Prediction{
		Verdict:  m.Classes[best].Verdict,
		Category: m.Classes[best].ID,
		Features: len(known),
	}
	p.Confidence = round4(m.verdictProb(probs, p.Verdict))
	for c, cl := range m.Classes {
		p.Categories = append(p.Categories, CategoryScore{Category: cl.ID, Verdict: cl.Verdict, Prob: round4(probs[c])})
	}
	slices.SortStableFunc(p.Categories, func(a, b CategoryScore) int { return cmp.Compare(b.Prob, a.Prob) })
	for _, v := range threatmodel.Verdicts {
		if slices.ContainsFunc(m.Classes, func(cl Class) bool { return cl.Verdict == string(v) }) {
			p.Verdicts = append(p.Verdicts, VerdictScore{Verdict: string(v), Prob: round4(m.verdictProb(probs, string(v)))})
		}
	}
	slices.SortStableFunc(p.Verdicts, func(a, b VerdictScore) int { return cmp.Compare(b.Prob, a.Prob) })

	rival := -1
	for c, cl := range m.Classes {
		if cl.Verdict != p.Verdict && (rival < 0 || probs[c] > probs[rival]) {
			rival = c
		}
	}
	if rival < 0 {
		// One verdict only: explain the choice against the next category.
		for c := range m.Classes {
			if c != best && (rival < 0 || probs[c] > probs[rival]) {
				rival = c
			}
		}
	}
	if rival >= 0 {
		if m.Classes[rival].Verdict != p.Verdict {
			p.RunnerUp = m.Classes[rival].ID
		}
		for _, k := range known {
			j, w := k[0], k[1]
			d := float64(w) * (m.logp[j*nc+best] - m.logp[j*nc+rival])
			if d > 0 {
				p.Evidence = append(p.Evidence, Contribution{Feature: m.Vocabulary[j], Weight: round4(d)})
			}
		}
		slices.SortStableFunc(p.Evidence, func(a, b Contribution) int {
			return cmp.Or(cmp.Compare(b.Weight, a.Weight), cmp.Compare(a.Feature, b.Feature))
		})
		if len(p.Evidence) > MaxEvidence {
			p.Evidence = p.Evidence[:MaxEvidence]
		}
	}
	return p
}
