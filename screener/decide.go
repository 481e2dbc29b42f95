package screener

import (
	"fmt"
	"math"
	"strings"

	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Policy holds the weights of the decision between rules and model.
//
// The model is one voter among the rules, as in SpamAssassin or rspamd:
// each side votes for its verdict with weight = its confidence × its
// weight here, and the heavier verdict wins. Strong rule evidence has fixed
// effects that a vote cannot overturn:
//
//   - a decisive exclusion (the rules found a hard not-security condition,
//     such as "needs CAP_SYS_ADMIN in the initial namespace") wins over a
//     model that says security, because the threat model says the exclusion
//     wins; the result is flagged for review;
//   - decisive boundary evidence (the rules found an unprivileged path across
//     a boundary, with a reproducer) is never downgraded by the model,
//     because calling a real vulnerability not-security is the costly error;
//     the result is flagged for review;
//   - whenever either side says security and the final verdict is not
//     security, the result is flagged for review, whatever the weights;
//   - a report that contains instructions aimed at a model is always flagged.
type Policy struct {
	// ModelWeight multiplies the model's confidence in the vote.
	ModelWeight float64
	// RulesWeight multiplies the rules' confidence in the vote.
	RulesWeight float64
}

// DefaultPolicy weighs the model above non-decisive rules: the model reads
// the whole report, the rules only patterns.
func DefaultPolicy() Policy { return Policy{ModelWeight: 1.5, RulesWeight: 1.0} }

// Decision names the policy step that produced a final label.
const (
	DecisionRulesOnly       = "rules-only"      // no model was asked
	DecisionModelFailed     = "model-failed"    // the model gave no valid answer; rules kept
	DecisionAgree           = "agree"           // model and rules gave the same label
	DecisionAgreeVerdict    = "agree-verdict"   // same verdict, model's category kept
	DecisionExclusionWins   = "rules-exclusion" // a decisive rules exclusion overrode the model
	DecisionBoundaryStands  = "rules-boundary"  // decisive boundary evidence kept security
	DecisionVoteModel       = "vote-model"      // the weighted vote went to the model
	DecisionVoteRules       = "vote-rules"      // the weighted vote went to the rules
	DecisionSkippedModel    = "rules-decisive"  // rules were decisive; the model was not asked
	DecisionInputError      = "input-error"     // the input could not be read
	DecisionCancelled       = "cancelled"       // screening was stopped
	reasonInjection         = "report contains instructions aimed at a screening model"
	reasonModelFailed       = "model answer unusable, rules-only verdict kept"
	reasonSecurityDowngrade = "one voter says security but the final verdict is not"
)

// decide merges the rules' evaluation and the model's answer (nil when no
// model was asked) into the final label of r; rt tells whether two
// categories send a report to different places.
func (p Policy) decide(tm *threatmodel.Model, rt Routes, ev rules.Evaluation, m *ModelAnswer, r *Result) {
	r.RulesVerdict = Opinion{
		Verdict: string(ev.Verdict), Category: ev.Category,
		Confidence: ev.Confidence, Score: ev.Score, Decisive: ev.Decisive,
	}
	r.Rules = ev.Findings
	r.Missing = ev.Missing
	r.Model = m
	rv := r.RulesVerdict

	var reasons []string
	review := func(reason string) { reasons = append(reasons, reason) }
	if ev.Injection {
		review(reasonInjection)
	}
	setRules := func(decision string) {
		r.Verdict, r.Category, r.Confidence, r.Decision = rv.Verdict, rv.Category, rv.Confidence, decision
	}
	setModel := func(decision string, conf float64) {
		r.Verdict, r.Category, r.Confidence, r.Decision = m.Verdict, m.Category, conf, decision
	}

	switch {
	case m == nil:
		setRules(DecisionRulesOnly)
	case !m.OK():
		setRules(DecisionModelFailed)
		review(reasonModelFailed + ": " + m.Error)
	case m.Verdict == rv.Verdict && m.Category == rv.Category:
		setModel(DecisionAgree, noisyOr(m.Confidence, rv.Confidence))
	case m.Verdict == rv.Verdict:
		setModel(DecisionAgreeVerdict, noisyOr(m.Confidence, rv.Confidence))
		// Another category under the same verdict matters to a person only
		// when it would send the report somewhere else.
		if rt.For(m.Verdict, m.Category, nil) != rt.For(rv.Verdict, rv.Category, nil) {
			review(fmt.Sprintf("verdicts agree but the categories route differently: model %s, rules %s", m.Category, rv.Category))
		}
	case rv.Decisive && rv.Verdict == string(threatmodel.NotSecurity):
		setRules(DecisionExclusionWins)
		review(fmt.Sprintf("model says %s/%s but the rules found the exclusion %s", m.Verdict, m.Category, rv.Category))
	case rv.Decisive && rv.Verdict == string(threatmodel.Security):
		setRules(DecisionBoundaryStands)
		review(fmt.Sprintf("model says %s/%s but the rules found boundary evidence for %s", m.Verdict, m.Category, rv.Category))
	default:
		mw, rw := m.Confidence*p.ModelWeight, rv.Confidence*p.RulesWeight
		if mw >= rw {
			setModel(DecisionVoteModel, share(mw, rw))
		} else {
			setRules(DecisionVoteRules)
			r.Confidence = share(rw, mw)
		}
		review(fmt.Sprintf("model says %s/%s, rules say %s/%s", m.Verdict, m.Category, rv.Verdict, rv.Category))
	}

	sec := string(threatmodel.Security)
	if r.Verdict != sec && (rv.Verdict == sec || (m.OK() && m.Verdict == sec)) && r.Decision != DecisionExclusionWins {
		review(reasonSecurityDowngrade)
	}
	if len(reasons) > 0 {
		r.NeedsReview = true
		r.ReviewReason = joinReasons(reasons)
	}
	if _, ok := tm.Clause(r.Category); !ok && r.Category != "" {
		// Never emit an id the threat model does not know.
		r.NeedsReview = true
		r.ReviewReason = joinReasons(append(reasons, "unknown category "+r.Category))
	}
}

// noisyOr combines two agreeing confidences: both would have to be wrong.
func noisyOr(a, b float64) float64 { return 1 - (1-clamp01(a))*(1-clamp01(b)) }

// share is the winner's part of the total vote weight.
func share(win, lose float64) float64 {
	if win+lose == 0 {
		return 0
	}
	return math.Round(win/(win+lose)*1000) / 1000
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

func joinReasons(rs []string) string { return strings.Join(rs, "; ") }
