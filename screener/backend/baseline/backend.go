package baseline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Name is the backend's name.
const Name = "baseline"

// classifier is the baseline as a backend.Backend.
type classifier struct {
	m       *Model
	eng     *rules.Engine
	aiRules map[string]bool
}

// NewBackend returns a Backend that answers from the model instead of a
// language model: Complete classifies Request.Report (the messages are
// ignored; Request.Rules is used when set, else eng evaluates the report)
// and returns an answer that prompts.ParseAnswer accepts for the threat
// model the model was trained on. Neither argument may be nil, and
// eng should be built like the engine the model was trained with (same
// rules and threat model), since the rules' findings are features.
func NewBackend(m *Model, eng *rules.Engine) backend.Backend {
	ai := map[string]bool{}
	for _, r := range eng.Rules() {
		if r.Signal == rules.SignalAIStyle {
			ai[r.ID] = true
		}
	}
	return &classifier{m: m, eng: eng, aiRules: ai}
}

func (b *classifier) Name() string { return Name }

// Model names the model by its kind and the first 12 hex digits of its
// training fingerprint, e.g. "logreg@3f2a9c0d51be" (see Model.Name).
func (b *classifier) Model() string { return b.m.Name() }

func (b *classifier) Complete(ctx context.Context, req backend.Request) (backend.Reply, error) {
	start := time.Now()
	usage := backend.Usage{Backend: Name, Model: b.Model(), Attempts: 1}
	if err := ctx.Err(); err != nil {
		return backend.Reply{Usage: usage}, fmt.Errorf("baseline: %w", err)
	}
	if req.Report == nil {
		return backend.Reply{Usage: usage}, errors.New("baseline: the request carries no report (the baseline classifies reports, not messages)")
	}
	ev := req.Rules
	if ev == nil {
		e := b.eng.Evaluate(req.Report)
		ev = &e
	}
	p := b.m.Predict(req.Report, ev)
	a := b.answer(p, ev)
	data, err := json.Marshal(a)
	if err != nil {
		return backend.Reply{Usage: usage}, fmt.Errorf("baseline: encode answer: %w", err)
	}
	usage.Latency = time.Since(start)
	return backend.Reply{Content: string(data), Usage: usage}, nil
}

// answer turns a prediction into the answer a language model would give.
func (b *classifier) answer(p Prediction, ev *rules.Evaluation) prompts.Answer {
	a := prompts.Answer{
		Verdict:            p.Verdict,
		Category:           p.Category,
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
	if p.Verdict == string(threatmodel.Security) {
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
	if p.Verdict == string(threatmodel.Security) && p.Verdicts[0].Prob < 0.5 && len(p.Verdicts) > 1 && p.Verdicts[1].Prob > p.Confidence {
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
