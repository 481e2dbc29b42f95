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
	Category string              `json:"category"`
	Verdict  threatmodel.Verdict `json:"verdict"`
	// Prob is the calibrated posterior probability.
	Prob float64 `json:"prob"`
}

// VerdictScore is one verdict's probability: the sum over its categories.
type VerdictScore struct {
	// Verdict is the verdict.
	Verdict threatmodel.Verdict `json:"verdict"`
	// Prob is the summed posterior of its categories.
	Prob float64 `json:"prob"`
}

// Contribution is one feature's share of the decision.
type Contribution struct {
	// Feature is the feature's name: a word, a word pair, "rule:ID",
	// "fact:NAME", "priv:NAME" or "missing:WHAT".
	Feature string `json:"feature"`
	// Weight is how much the feature raised the decision's score over the
	// runner-up's, before the temperature: for naive Bayes, the chosen
	// category's log-score over RunnerUp's; for logistic regression, the
	// chosen verdict's logit over RunnerUp's verdict's.
	Weight float64 `json:"weight"`
}

// Prediction is the model's judgement of one report.
type Prediction struct {
	// Label is the decision: security when its probability reaches the
	// model's SecurityThreshold, else the most probable verdict; within
	// it, the most probable category.
	threatmodel.Label
	// Confidence is the calibrated probability of Verdict.
	Confidence float64 `json:"confidence"`
	// Categories ranks every learned category, most probable first.
	Categories []CategoryScore `json:"categories"`
	// Verdicts ranks the verdicts that have learned categories, most
	// probable first, except that the decision always comes first.
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
//
// The verdict is security when its calibrated probability reaches
// SecurityThreshold, else the most probable verdict; the category is the
// verdict's most probable category, so the pair is always valid.
func (m *Model) Predict(r *intake.Report, ev *rules.Evaluation) Prediction {
	terms := m.known(extract(r, ev, m.Options.MaxFeatures, m.Options.RuleWeight, m.Options.CharGrams))
	raw := m.raw(terms)
	pv, pc := m.probs(raw, m.Temperature)
	v := m.decideVerdict(pv, m.SecurityThreshold)
	best := m.decideCategory(pc, v)
	vs := m.verdicts()

	p := Prediction{
		Label:      threatmodel.Label{Verdict: vs[v], Category: m.Classes[best].ID},
		Confidence: round4(pv[v]),
		Features:   len(terms),
	}
	for c, cl := range m.Classes {
		p.Categories = append(p.Categories, CategoryScore{Category: cl.ID, Verdict: cl.Verdict, Prob: round4(pc[c])})
	}
	slices.SortStableFunc(p.Categories, func(a, b CategoryScore) int { return cmp.Compare(b.Prob, a.Prob) })
	for i, name := range vs {
		p.Verdicts = append(p.Verdicts, VerdictScore{Verdict: name, Prob: round4(pv[i])})
	}
	slices.SortStableFunc(p.Verdicts, func(a, b VerdictScore) int { return cmp.Compare(b.Prob, a.Prob) })
	if p.Verdicts[0].Verdict != p.Verdict {
		// The threshold chose security over a more probable verdict: the
		// decision leads the ranking.
		i := slices.IndexFunc(p.Verdicts, func(s VerdictScore) bool { return s.Verdict == p.Verdict })
		d := p.Verdicts[i]
		copy(p.Verdicts[1:i+1], p.Verdicts[:i])
		p.Verdicts[0] = d
	}

	rival := -1
	for c, cl := range m.Classes {
		if cl.Verdict != p.Verdict && (rival < 0 || pc[c] > pc[rival]) {
			rival = c
		}
	}
	if rival < 0 {
		// One verdict only: explain the choice against the next category.
		for c := range m.Classes {
			if c != best && (rival < 0 || pc[c] > pc[rival]) {
				rival = c
			}
		}
	}
	if rival >= 0 {
		if m.Classes[rival].Verdict != p.Verdict {
			p.RunnerUp = m.Classes[rival].ID
		}
		p.Evidence = m.evidence(terms, best, rival)
	}
	return p
}

// evidence lists the features that most favour class best over class
// rival (naive Bayes), or best's verdict over rival's (logistic
// regression), strongest first, at most MaxEvidence.
func (m *Model) evidence(terms []term, best, rival int) []Contribution {
	var top strongest
	if m.Kind == KindNaiveBayes {
		for _, t := range terms {
			if d := float64(t.weight) * (m.logProb(t.j, best) - m.logProb(t.j, rival)); d > 0 {
				top.offer(Contribution{Feature: m.Vocabulary[t.j], Weight: round4(d)})
			}
		}
	} else {
		a, b := m.vOf[best], m.vOf[rival]
		w := m.VerdictWeights
		if a == b {
			a, b, w = best, rival, m.CategoryWeights
		}
		for _, x := range vector(terms, m.IDF, m.Options.RuleScale) {
			if d := x.v * (w[x.j][a] - w[x.j][b]); d > 0 {
				top.offer(Contribution{Feature: m.Vocabulary[x.j], Weight: round4(d)})
			}
		}
	}
	return top.list
}

// strongest keeps the MaxEvidence strongest contributions offered, in
// order: the greatest weight first, then by feature name (the names are
// distinct, so the order is total). Sorting every contribution of a report
// to keep six was a tenth of a vote.
type strongest struct{ list []Contribution }

func (s *strongest) offer(c Contribution) {
	before := func(a, b Contribution) bool {
		return cmp.Or(cmp.Compare(b.Weight, a.Weight), cmp.Compare(a.Feature, b.Feature)) < 0
	}
	if len(s.list) == MaxEvidence && !before(c, s.list[MaxEvidence-1]) {
		return
	}
	i := len(s.list)
	for i > 0 && before(c, s.list[i-1]) {
		i--
	}
	if len(s.list) < MaxEvidence {
		s.list = append(s.list, Contribution{})
	}
	copy(s.list[i+1:], s.list[i:len(s.list)-1])
	s.list[i] = c
}
