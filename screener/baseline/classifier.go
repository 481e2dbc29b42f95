package baseline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Name is the classifier's name in results ("backend": "baseline").
const Name = "baseline"

// Classifier is the baseline as a screener.Classifier: it classifies the
// report itself, from its words and the rules' findings, and answers with
// the fields a language model's answer has, so that results read the same
// whichever answered. It is safe for concurrent use.
type Classifier struct {
	m       *Model
	eng     *rules.Engine
	aiRules map[string]bool
}

// NewClassifier returns the classifier of model m. Neither argument may be
// nil, and eng should be built like the engine the model was trained with
// (same rules and threat model), since the rules' findings are features:
// Classify uses the evaluation it is given, and runs eng only when given
// none. Its answers are labels of the threat model m was trained on, and
// pass prompts.ParseAnswer for it.
func NewClassifier(m *Model, eng *rules.Engine) *Classifier {
	ai := map[string]bool{}
	for _, r := range eng.Rules() {
		if r.Signal == rules.SignalAIStyle {
			ai[r.ID] = true
		}
	}
	return &Classifier{m: m, eng: eng, aiRules: ai}
}

// Describe names the classifier "baseline" and the model by its kind and
// the first 12 hex digits of its training fingerprint, e.g.
// "logreg@3f2a9c0d51be" (see Model.Name). It reads no prompt.
func (b *Classifier) Describe() screener.Description {
	return screener.Description{Name: Name, Model: b.m.Name()}
}

// Classify predicts r's label from its features; ev is the rules'
// evaluation of r (nil: the classifier's engine evaluates r).
func (b *Classifier) Classify(ctx context.Context, r *intake.Report, ev *rules.Evaluation) (screener.Classification, error) {
	start := time.Now()
	out := screener.Classification{Usage: backend.Usage{Backend: Name, Model: b.m.Name(), Attempts: 1}}
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("baseline: %w", err)
	}
	if r == nil {
		return out, errors.New("baseline: no report to classify")
	}
	if ev == nil {
		e := b.eng.Evaluate(r)
		ev = &e
	}
	out.Answer = b.answer(b.m.Predict(r, ev), ev)
	out.Usage.Latency = time.Since(start)
	return out, nil
}

// answer turns a prediction into the answer a language model would give.
func (b *Classifier) answer(p Prediction, ev *rules.Evaluation) prompts.Answer {
	a := prompts.Answer{
		Label:              p.Label,
		Confidence:         math.Round(p.Confidence*1000) / 1000,
		AttackerPrivileges: "unknown",
		BoundaryCrossed:    "none",
		MissingInformation: append([]string{}, ev.Missing...),
		AIGeneratedSigns:   []string{},
		CitedClauses:       []string{p.Category},
	}
	if len(ev.Facts.Privileges) > 0 {
		a.AttackerPrivileges = strings.Join(ev.Facts.Privileges, ", ")
	}
	if p.Verdict == threatmodel.Security {
		a.BoundaryCrossed = p.Category
		for _, cl := range b.m.Classes {
			if cl.ID == p.Category && cl.Title != "" {
				a.BoundaryCrossed += " (" + cl.Title + ")"
			}
		}
	}
	for _, f := range ev.Findings {
		if b.aiRules[f.RuleID] {
			a.AIGeneratedSigns = append(a.AIGeneratedSigns, fmt.Sprintf("%s: %q", f.Description, f.Excerpt))
		}
	}
	a.Rationale = rationale(b.m, p)
	return a
}

// rationale says briefly why: the probabilities and the strongest features.
func rationale(m *Model, p Prediction) string {
	var sb strings.Builder
	method := "Logistic regression"
	if m.Kind == KindNaiveBayes {
		method = "Naive Bayes"
	}
	fmt.Fprintf(&sb, "%s over %d known features: P(%s) = %.2f, most probable category %s",
		method, p.Features, p.Verdict, p.Confidence, p.Category)
	if p.Verdict == threatmodel.Security && p.Verdicts[0].Prob < 0.5 && len(p.Verdicts) > 1 && p.Verdicts[1].Prob > p.Confidence {
		fmt.Fprintf(&sb, " (security from P(security) >= %.2f, the threshold set for security recall %.2f)",
			m.SecurityThreshold, m.Options.TargetRecall)
	}
	if p.RunnerUp != "" {
		fmt.Fprintf(&sb, "; runner-up %s", p.RunnerUp)
	}
	sb.WriteString(".")
	if len(p.Evidence) > 0 {
		names := make([]string, len(p.Evidence))
		for i, e := range p.Evidence {
			names[i] = fmt.Sprintf("%q", e.Feature)
		}
		fmt.Fprintf(&sb, " Strongest evidence: %s.", strings.Join(names, ", "))
	}
	return sb.String()
}
