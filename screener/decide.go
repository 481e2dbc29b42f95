package screener

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Policy decides a report's final label and route from up to four voters:
// the rules (always), the model (when a backend is configured and asked),
// an offline Voter such as the baseline (when one is configured), and the
// source tree (Config.Source: when cited code is missing from the tree, it
// votes for invalid.nonexistent, with sourcetree.Check.Confidence).
//
// The costly error is a real vulnerability routed publicly: a security bug
// on a public list breaks the embargo. So, in this order:
//
//  1. A decisive rules finding against the model (or, when no model
//     answered, the baseline) wins, always flagged:
//     decisive boundary evidence keeps security; a decisive exclusion
//     turns a model's security verdict into the exclusion, unless the
//     baseline too says security with confidence ≥ PrivateAt. Decisive
//     means what rules.Evaluation.Decisive says (the rule pack's own
//     measure of precision), never a vote.
//  2. When a model answered with confidence ≥ PrivateAt, its label
//     stands unless the offline voters overrule it: the rules and the
//     baseline agree on another verdict and the baseline's calibrated
//     confidence in it is at least OverruleAt; the label is then the
//     baseline's. A model that says security is never overruled (only
//     step 1 flips its verdict). Beyond PrivateAt the model's confidence
//     plays no part: it is not calibrated, and the policy must not lean
//     on it. When the source tree votes against the model, the weighed
//     vote of step 3 decides instead (it was not tuned: the corpus has no
//     tree).
//  3. Otherwise (the baseline answers as the backend, the model failed,
//     or it answered with confidence below PrivateAt, less likely right
//     than wrong by its own account), the voters vote: each adds weight ×
//     confidence to its
//     verdict (ModelWeight for the baseline in the model's place,
//     RulesWeight, BaselineWeight; the baseline's weight is multiplied by
//     BaselineEcho when it agrees with the rules, because it learned from
//     the rules' findings and would otherwise count them twice;
//     SourceWeight for the source tree). The heaviest verdict wins; the
//     label is that of the first voter backing it, in the order model,
//     baseline, rules, source. With neither a model nor a baseline, the
//     source tree plays the model's part in step 1: decisive rules
//     override it.
//  4. Whatever the verdict, the route stays private while any voter says
//     security with confidence ≥ PrivateAt, or the baseline says security
//     at all (its security verdict already comes from a threshold chosen
//     for security recall, below 0.5); the verdict may then be another
//     one, and the result is flagged for review.
//
// A result is flagged (NeedsReview, with the reasons) only for what a
// reviewer can act on: a decisive rule against the model, a voter that
// says security while the final verdict does not, a report with
// instructions aimed at a model, a model that gave no usable answer, and
// cited code missing from the source tree while the verdict is not invalid.
// Disagreements about the category under one verdict are not flagged.
type Policy struct {
	// ModelWeight, RulesWeight and BaselineWeight multiply each voter's
	// confidence in the vote of step 3 (ModelWeight: the baseline's, when
	// it answers in the model's place), and ModelWeight the model's
	// against the source tree's in step 2.
	ModelWeight    float64
	RulesWeight    float64
	BaselineWeight float64
	// BaselineEcho (0 to 1) is the share of the baseline's vote that counts
	// when it backs the rules' verdict.
	BaselineEcho float64
	// SourceWeight multiplies the source tree's confidence that cited code
	// is missing (0: the source tree does not vote). Its evidence is read
	// from the code, not from the report's wording, so it weighs more than
	// the rules and less than a model; it was not tuned on the corpus,
	// which has no tree to check against.
	SourceWeight float64
	// PrivateAt is the confidence at or above which a voter that says
	// security keeps the route private and flags a result whose final
	// verdict is not security. Below it, a security vote only counts in
	// the vote.
	PrivateAt float64
	// OverruleAt is the baseline's calibrated confidence at or above which
	// it overrules the model's verdict, when the rules agree with it
	// (step 2). Zero: the offline voters never overrule the model.
	OverruleAt float64
}

// DefaultPolicy returns the policy's constants as tuned on the dev split of
// the bundled corpus, with the rules and the baseline cross-fitted (`eval
// --folds 5`: their opinions of each report are out-of-sample, as on new
// reports), and simulated models (see README, "How a verdict is decided").
//
// OverruleAt 0.85: with a perfect model, every overruling is an error;
// with one wrong on a random 25%, most are corrections. On dev, 0.80 to
// 0.85 kept a perfect model's accuracy at 0.988 to 0.991 and lifted the
// 25%-wrong model's to +0.104 to +0.112 over its own (mean of five
// seeds); 0.5 (any agreement) broke 14 of 338 right answers, 0.95 gave up
// a quarter of the corrections. Requiring the rules' confidence too, or
// weighing the model's, cost more corrections than it saved. Those
// figures are with the logistic regression baseline voting; with naive
// Bayes (the default since), 0.85 gave 0.991 and +0.085, 0.80 gave
// 0.976. The other constants were tuned before the rules were
// cross-fitted and now only weigh the vote of step 3.
func DefaultPolicy() Policy {
	return Policy{ModelWeight: 1.5, RulesWeight: 1.0, BaselineWeight: 1.0, BaselineEcho: 0.75, SourceWeight: 1.25, PrivateAt: 0.5, OverruleAt: 0.85}
}

// Decision names the policy step that produced a final label (or why there
// is none: an error row). Results carry it as "decision".
type Decision string

// The decisions. DecisionDuplicate and DecisionCacheMiss are declared
// beside the code that makes them.
const (
	DecisionRulesOnly      Decision = "rules-only"      // neither a model nor a voter was asked
	DecisionSkippedModel   Decision = "rules-decisive"  // the rules were decisive; the model was not asked
	DecisionModelFailed    Decision = "model-failed"    // the model gave no valid answer; the other voters decided
	DecisionAgree          Decision = "agree"           // every voter gave the same verdict
	DecisionExclusionWins  Decision = "rules-exclusion" // a decisive rules exclusion overrode the model
	DecisionBoundaryStands Decision = "rules-boundary"  // decisive rules boundary evidence overrode the model
	DecisionVoteModel      Decision = "vote-model"      // voters disagreed; the model's label won
	DecisionVoteBaseline   Decision = "vote-baseline"   // voters disagreed; the baseline's label won
	DecisionVoteRules      Decision = "vote-rules"      // voters disagreed; the rules' label won
	DecisionVoteSource     Decision = "vote-source"     // voters disagreed; the source tree's invalid.nonexistent won
	DecisionInputError     Decision = "input-error"     // the input could not be read
	DecisionCancelled      Decision = "cancelled"       // screening was stopped
)

const (
	reasonInjection   = "report contains instructions aimed at a screening model"
	reasonModelFailed = "model answer unusable, decided without it"
	// reasonHeldPrivate starts the reason of a result whose route was kept
	// private because a voter says security.
	reasonHeldPrivate = "route kept private"
	// reasonSourceMissing starts the reason of a result whose cited code is
	// missing from the source tree while the verdict is not invalid.
	reasonSourceMissing = "cited code not in the source tree"
)

// Review flags: why a result needs a person, one word each (Result.ReviewFlags).
const (
	FlagInjection       = "injection"        // the report addresses a screening model
	FlagModelFailed     = "model-failed"     // the model gave no usable answer
	FlagDecisiveRule    = "decisive-rule"    // a decisive rule contradicts the model
	FlagHeldPrivate     = "held-private"     // a voter says security, the verdict does not; the route was kept private
	FlagUnknownCategory = "unknown-category" // the label names a category the threat model lacks
	FlagCancelled       = "cancelled"        // the run was stopped before the model answered
	FlagSourceMissing   = "source-missing"   // cited code is missing from the source tree, the verdict is not invalid
)

// Voter names in ballots and decisions.
const (
	voterModel    = "model"
	voterBaseline = "baseline"
	voterRules    = "rules"
	voterSource   = "source"
)

// ballot is one voter's label and the weight of its vote.
type ballot struct {
	voter        string
	verdict      threatmodel.Verdict
	category     string
	conf, weight float64
	// thresholded marks a classifier whose security verdict already comes
	// from a threshold calibrated for security recall (the baseline's,
	// below 0.5): that verdict holds the route private whatever its
	// confidence.
	thresholded bool
}

// holdsPrivate reports whether b's vote keeps the route private.
func (b ballot) holdsPrivate(privateAt float64) bool {
	return b.verdict == threatmodel.Security && (b.conf >= privateAt || b.thresholded)
}

func (b ballot) mass() float64 { return b.weight * clamp01(b.conf) }

// decide merges the rules' evaluation, the model's answer (nil when no
// model was asked), the voter's opinion (nil when there is none) and the
// source tree's (nil when no tree was read or nothing cited is missing)
// into the final label and route of r.
func (p Policy) decide(tm *threatmodel.Model, rt Routes, ev rules.Evaluation, m *ModelAnswer, b, src *Opinion, r *Result) {
	r.RulesVerdict = Opinion{
		Label:      ev.Label,
		Confidence: ev.Confidence, Score: ev.Score, Decisive: ev.Decisive,
	}
	r.Rules = ev.Findings
	r.Missing = ev.Missing
	r.Model = m
	r.Baseline = b
	rv := r.RulesVerdict
	const sec = threatmodel.Security

	var reasons, flags []string
	review := func(flag, reason string) {
		reasons = append(reasons, reason)
		if !slices.Contains(flags, flag) {
			flags = append(flags, flag)
		}
	}
	if ev.Injection {
		reason := reasonInjection
		if len(r.Injection) > 0 {
			sp := r.Injection[0]
			reason += fmt.Sprintf(" (%s at %s:%d:%d", sp.Kind, sp.Part, sp.Line, sp.Column)
			if n := len(r.Injection) - 1; n > 0 {
				reason += fmt.Sprintf(", and %d more", n)
			}
			reason += ")"
		}
		review(FlagInjection, reason)
	}

	rulesB := ballot{voter: voterRules, verdict: rv.Verdict, category: rv.Category, conf: rv.Confidence, weight: p.RulesWeight}
	var modelB, baseB *ballot
	if m.OK() {
		// --backend baseline answers in the model's place.
		modelB = &ballot{voter: voterModel, verdict: m.Verdict, category: m.Category, conf: m.Confidence, weight: p.ModelWeight,
			thresholded: m.Usage.Backend == voterBaseline}
	}
	if b != nil && b.Error == "" && b.Verdict != "" {
		w := p.BaselineWeight
		if b.Verdict == rv.Verdict {
			w *= p.BaselineEcho
		}
		baseB = &ballot{voter: voterBaseline, verdict: b.Verdict, category: b.Category, conf: b.Confidence, weight: w, thresholded: true}
	}
	var srcB *ballot
	if src != nil && src.Verdict != "" && src.Confidence > 0 && p.SourceWeight > 0 {
		srcB = &ballot{voter: voterSource, verdict: src.Verdict, category: src.Category, conf: src.Confidence, weight: p.SourceWeight}
	}
	// Ballots in priority order: model, baseline, rules, source.
	var ballots []ballot
	for _, x := range []*ballot{modelB, baseB, &rulesB, srcB} {
		if x != nil {
			ballots = append(ballots, *x)
		}
	}
	set := func(x ballot, decision Decision, conf float64) {
		r.Verdict, r.Category, r.Confidence, r.Decision = x.verdict, x.category, conf, decision
	}

	// The primary voter reads the whole report: the model, or the baseline
	// when no model answered; else the source tree, when it votes.
	primary := cmp.Or(modelB, baseB, srcB)
	switch {
	case primary == nil:
		set(rulesB, DecisionRulesOnly, rv.Confidence)
	case rv.Decisive && rv.Verdict != primary.verdict:
		desc := fmt.Sprintf("%s says %s/%s but the rules are decisive for %s/%s", primary.voter, primary.verdict, primary.category, rv.Verdict, rv.Category)
		switch {
		case rv.Verdict == sec:
			set(rulesB, DecisionBoundaryStands, rv.Confidence)
		case primary == modelB && modelB.verdict == sec && baseB != nil && baseB.verdict == sec && baseB.conf >= p.PrivateAt:
			set(*modelB, DecisionVoteModel, share(ballots, sec))
			desc += ", and the baseline says security too: security kept"
		default:
			set(rulesB, DecisionExclusionWins, rv.Confidence)
		}
		review(FlagDecisiveRule, desc)
	case modelB != nil && !modelB.thresholded && modelB.conf >= p.PrivateAt:
		set(p.judge(*modelB, baseB, rulesB, srcB, ballots))
	default:
		set(p.vote(ballots))
	}
	if m != nil && modelB == nil {
		r.Decision = DecisionModelFailed
		review(FlagModelFailed, reasonModelFailed+": "+cmp.Or(m.Error, "no valid answer"))
	}

	// The route: private while any voter says security with confidence.
	r.Route = rt.For(r.Verdict, r.Category, r.Missing)
	r.RoutePublic = rt.Of(r.Verdict, r.Category).Public
	if r.Verdict != sec {
		var who []string
		for _, x := range ballots {
			if x.holdsPrivate(p.PrivateAt) {
				who = append(who, fmt.Sprintf("%s (%.2f)", x.voter, x.conf))
			}
		}
		if len(who) > 0 {
			secRoute := rt.Verdicts[sec]
			r.Route, r.RoutePublic = secRoute.To, secRoute.Public
			review(FlagHeldPrivate, fmt.Sprintf("%s: %s %s security but the final verdict is %s", reasonHeldPrivate,
				strings.Join(who, " and "), says(len(who)), r.Verdict))
		}
	}

	if srcB != nil && r.Verdict != srcB.verdict {
		review(FlagSourceMissing, fmt.Sprintf("%s (%.2f) but the verdict is %s", reasonSourceMissing, srcB.conf, r.Verdict))
	}

	if _, ok := tm.Clause(r.Category); !ok && r.Category != "" {
		// Never emit an id the threat model does not know.
		review(FlagUnknownCategory, "unknown category "+r.Category)
	}
	if len(reasons) > 0 {
		r.NeedsReview = true
		r.ReviewReason = strings.Join(reasons, "; ")
		r.ReviewFlags = flags
	}
}

// judge is step 2, for a model that answered with confidence at least
// PrivateAt: the model's label, unless the offline voters overrule it (the
// rules and the baseline agree on another verdict, the baseline with
// calibrated confidence at least OverruleAt), or the source tree votes
// against it (then the weighed vote decides). A model that says security
// is never overruled. The confidence is that of p.vote when every voter
// agrees, else the winning verdict's share of the weighed confidences.
func (p Policy) judge(model ballot, base *ballot, rulesB ballot, src *ballot, ballots []ballot) (ballot, Decision, float64) {
	if !slices.ContainsFunc(ballots, func(x ballot) bool { return x.verdict != model.verdict }) {
		return p.vote(ballots)
	}
	if model.verdict == threatmodel.Security && model.conf >= p.PrivateAt {
		return model, DecisionVoteModel, share(ballots, model.verdict)
	}
	if p.OverruleAt > 0 && base != nil && base.verdict != model.verdict && base.verdict == rulesB.verdict && base.conf >= p.OverruleAt {
		return *base, DecisionVoteBaseline, share(ballots, base.verdict)
	}
	if src != nil && src.verdict != model.verdict {
		// The source tree's evidence was never tuned against the model
		// (the corpus has no tree): the weighed vote of step 3 decides.
		return p.vote(ballots)
	}
	return model, DecisionVoteModel, share(ballots, model.verdict)
}

// vote adds up the ballots per verdict and returns the winner's ballot (the
// first ballot that backs the heaviest verdict; a tie goes to the verdict of
// the earlier ballot), the decision that names it, and its confidence: the
// noisy-or of the agreeing confidences when all agree, else the winning
// verdict's share of the total mass.
func (p Policy) vote(ballots []ballot) (ballot, Decision, float64) {
	mass := map[threatmodel.Verdict]float64{}
	for _, x := range ballots {
		mass[x.verdict] += x.mass()
	}
	best := ballots[0]
	for _, x := range ballots[1:] {
		if mass[x.verdict] > mass[best.verdict] {
			best = x
		}
	}
	if len(mass) == 1 {
		if len(ballots) == 1 {
			return best, decisionFor(best.voter), round3(best.conf)
		}
		miss := 1.0
		for _, x := range ballots {
			c := clamp01(x.conf)
			if x.voter == voterBaseline && x.weight < p.BaselineWeight {
				c *= p.BaselineEcho // an echo of the rules adds little
			}
			miss *= 1 - c
		}
		return best, DecisionAgree, round3(1 - miss)
	}
	return best, decisionFor(best.voter), share(ballots, best.verdict)
}

func decisionFor(voter string) Decision {
	switch voter {
	case voterModel:
		return DecisionVoteModel
	case voterBaseline:
		return DecisionVoteBaseline
	case voterSource:
		return DecisionVoteSource
	}
	return DecisionVoteRules
}

// share is verdict v's part of the total mass of the ballots.
func share(ballots []ballot, v threatmodel.Verdict) float64 {
	var win, total float64
	for _, x := range ballots {
		total += x.mass()
		if x.verdict == v {
			win += x.mass()
		}
	}
	if total == 0 {
		return 0
	}
	return round3(win / total)
}

func says(n int) string {
	if n == 1 {
		return "says"
	}
	return "say"
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }
