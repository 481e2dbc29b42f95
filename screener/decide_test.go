package screener

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func eval(verdict threatmodel.Verdict, category string, conf float64, decisive bool) rules.Evaluation {
	return rules.Evaluation{Label: threatmodel.Label{Verdict: verdict, Category: category}, Confidence: conf, Decisive: decisive}
}

func model(verdict, category string, conf float64) *ModelAnswer {
	return &ModelAnswer{Classification: Classification{Answer: prompts.Answer{Label: threatmodel.Label{Verdict: threatmodel.Verdict(verdict), Category: category}, Confidence: conf}, Prompt: "screen@v1"}}
}

func base(verdict, category string, conf float64) *Opinion {
	return &Opinion{Label: threatmodel.Label{Verdict: threatmodel.Verdict(verdict), Category: category}, Confidence: conf}
}

func decideWith(p Policy, ev rules.Evaluation, m *ModelAnswer, b *Opinion) Result {
	return decideAll(p, ev, m, b, nil)
}

// decideAll runs the policy over every voter, the source tree's included.
func decideAll(p Policy, ev rules.Evaluation, m *ModelAnswer, b, src *Opinion) Result {
	var r Result
	p.decide(threatmodel.Kernel(), DefaultRoutes(), ev, m, b, src, &r)
	return r
}

func TestDecidePolicy(t *testing.T) {
	const (
		sec = threatmodel.Security
		ns  = threatmodel.NotSecurity
		ni  = threatmodel.NeedsInfo
	)
	cases := []struct {
		name         string
		ev           rules.Evaluation
		m            *ModelAnswer
		b            *Opinion
		wantLabel    string
		wantDecision Decision
		wantFlags    []string // nil: not flagged
		wantPublic   bool
	}{
		// Rules alone.
		{"no model, no voter: rules decide", eval(ns, "privilege.root", 0.8, true), nil, nil,
			"not-security/privilege.root", DecisionRulesOnly, nil, true},
		{"no model, rules say security: private, no review needed", eval(sec, "capability.sys-admin", 0.7, false), nil, nil,
			"security/capability.sys-admin", DecisionRulesOnly, nil, false},

		// Model failure: the other voters decide, always flagged.
		{"model failed, no voter: rules kept", eval(ni, "info.missing", 0.5, false), &ModelAnswer{Error: "HTTP 500"}, nil,
			"needs-info/info.missing", DecisionModelFailed, []string{FlagModelFailed}, false},
		{"model failed: rules and baseline vote", eval(ni, "info.missing", 0.3, false), &ModelAnswer{Error: "HTTP 500"}, base("not-security", "fs.crafted-image", 0.8),
			"not-security/fs.crafted-image", DecisionModelFailed, []string{FlagModelFailed}, true},

		// Agreement, and category differences that are not flagged.
		{"everyone agrees", eval(ns, "leak.pointer", 0.6, false), model("not-security", "leak.pointer", 0.9), base("not-security", "leak.pointer", 0.7),
			"not-security/leak.pointer", DecisionAgree, nil, true},
		{"same verdict, categories that route differently: model's category, not flagged", eval(ns, "privilege.root", 0.6, false), model("not-security", "config.out-of-tree", 0.8), nil,
			"not-security/config.out-of-tree", DecisionAgree, nil, false},

		// Decisive rules against the model.
		{"decisive exclusion flips a model's security verdict; route stays private", eval(ns, "privilege.already-held", 0.9, true), model("security", "capability.sys-admin", 0.95), nil,
			"not-security/privilege.already-held", DecisionExclusionWins, []string{FlagDecisiveRule, FlagHeldPrivate}, false},
		{"decisive exclusion does not flip security the baseline backs", eval(ns, "privilege.already-held", 0.9, true), model("security", "capability.sys-admin", 0.95), base("security", "capability.sys-admin", 0.8),
			"security/capability.sys-admin", DecisionVoteModel, []string{FlagDecisiveRule}, false},
		{"decisive exclusion flips security the baseline backs weakly", eval(ns, "privilege.already-held", 0.9, true), model("security", "capability.sys-admin", 0.95), base("security", "capability.sys-admin", 0.4),
			"not-security/privilege.already-held", DecisionExclusionWins, []string{FlagDecisiveRule, FlagHeldPrivate}, false},
		{"decisive boundary evidence beats a model that says not-security", eval(sec, "isolation.memory", 0.9, true), model("not-security", "leak.pointer", 0.95), base("not-security", "leak.pointer", 0.9),
			"security/isolation.memory", DecisionBoundaryStands, []string{FlagDecisiveRule}, false},
		{"decisive rules against the baseline when no model runs", eval(ns, "privilege.root", 0.8, true), nil, base("security", "isolation.memory", 0.9),
			"not-security/privilege.root", DecisionExclusionWins, []string{FlagDecisiveRule, FlagHeldPrivate}, false},

		// A non-decisive exclusion never flips a model that says security.
		{"non-decisive exclusion, even backed by the baseline, does not flip security", eval(ns, "privilege.already-held", 0.9, false), model("security", "capability.sys-admin", 0.6), base("not-security", "privilege.already-held", 0.9),
			"security/capability.sys-admin", DecisionVoteModel, nil, false},

		// The vote.
		{"rules and baseline outvote the model together", eval(ni, "info.missing", 0.7, false), model("invalid", "invalid.nonexistent", 0.6), base("needs-info", "info.unverified-tool", 0.9),
			"needs-info/info.unverified-tool", DecisionVoteBaseline, nil, false},
		{"the model outweighs the rules alone", eval(ns, "fs.crafted-image", 0.9, false), model("needs-info", "info.missing", 0.7), nil,
			"needs-info/info.missing", DecisionVoteModel, nil, false},
		{"strong rules beat an unsure model", eval(ns, "fs.crafted-image", 0.9, false), model("needs-info", "info.missing", 0.3), nil,
			"not-security/fs.crafted-image", DecisionVoteRules, nil, true},
		{"an unsure security answer is only a vote", eval(ns, "leak.pointer", 0.8, false), model("security", "isolation.data", 0.4), base("not-security", "leak.pointer", 0.8),
			"not-security/leak.pointer", DecisionVoteBaseline, nil, true},

		// The route override: a voter that says security keeps the route private.
		{"baseline says security, the vote says not: private route, flagged", eval(ns, "leak.pointer", 0.6, false), model("not-security", "leak.pointer", 0.9), base("security", "isolation.memory", 0.7),
			"not-security/leak.pointer", DecisionVoteModel, []string{FlagHeldPrivate}, false},
		{"rules say security, the model says not: private route, flagged", eval(sec, "isolation.data", 0.6, false), model("not-security", "config.os-level", 0.9), nil,
			"not-security/config.os-level", DecisionVoteModel, []string{FlagHeldPrivate}, false},
		{"the baseline's security verdict holds the route at any confidence", eval(ns, "leak.pointer", 0.6, false), model("not-security", "leak.pointer", 0.9), base("security", "isolation.memory", 0.45),
			"not-security/leak.pointer", DecisionVoteModel, []string{FlagHeldPrivate}, false},
		{"a model's security vote below PrivateAt neither holds nor flags", eval(ns, "leak.pointer", 0.8, false), model("security", "isolation.memory", 0.3), base("not-security", "leak.pointer", 0.9),
			"not-security/leak.pointer", DecisionVoteBaseline, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := decideWith(DefaultPolicy(), tc.ev, tc.m, tc.b)
			assert.Equal(t, tc.wantLabel, r.Label.String())
			assert.Equal(t, tc.wantDecision, r.Decision)
			assert.Equal(t, tc.wantFlags, r.ReviewFlags, r.ReviewReason)
			assert.Equal(t, tc.wantFlags != nil, r.NeedsReview, r.ReviewReason)
			assert.Equal(t, tc.wantPublic, r.RoutePublic, r.Route)
			assert.NotEmpty(t, r.Route)
			assert.GreaterOrEqual(t, r.Confidence, 0.0)
			assert.LessOrEqual(t, r.Confidence, 1.0)
		})
	}
}

func TestDecideHeldRouteIsTheSecurityRouteAndSaysWhy(t *testing.T) {
	r := decideWith(DefaultPolicy(), eval(threatmodel.NotSecurity, "leak.pointer", 0.6, false),
		model("not-security", "leak.pointer", 0.9), base("security", "isolation.memory", 0.7))
	assert.Equal(t, DefaultRoutes().Verdicts["security"].To, r.Route)
	assert.Contains(t, r.ReviewReason, reasonHeldPrivate)
	assert.Contains(t, r.ReviewReason, "baseline (0.70) says security")
}

func TestDecideBaselineAgreeingWithTheRulesIsPartlyAnEcho(t *testing.T) {
	// No model: the rules say not-security (0.8), the source tree says the
	// cited code is missing (1.25 × 0.9 = 1.125). The baseline, trained on
	// the rules' findings, agrees with them: with the default echo share
	// (0.75 × 0.6 = 0.45) its vote tips the balance, with none it adds
	// nothing and the tree's verdict wins.
	ev := eval(threatmodel.NotSecurity, "leak.pointer", 0.8, false)
	b := base("not-security", "leak.pointer", 0.6)
	r := decideAll(DefaultPolicy(), ev, nil, b, srcOpinion(0.9))
	assert.Equal(t, threatmodel.NotSecurity, r.Verdict)
	assert.Equal(t, DecisionVoteBaseline, r.Decision)

	p := DefaultPolicy()
	p.BaselineEcho = 0
	r = decideAll(p, ev, nil, b, srcOpinion(0.9))
	assert.Equal(t, threatmodel.Invalid, r.Verdict)
	assert.Equal(t, DecisionVoteSource, r.Decision)

	// Disagreeing with the rules, the baseline is independent evidence and
	// counts in full: here it sides with the tree against the rules.
	r = decideAll(p, eval(threatmodel.NotSecurity, "leak.pointer", 0.95, false), nil, base("invalid", "invalid.nonexistent", 0.2), srcOpinion(0.6))
	assert.Equal(t, threatmodel.Invalid, r.Verdict)
}

// TestDecideOfflineVotersOverruleTheModel covers step 2: a model sure
// enough of its answer keeps it, whatever its confidence, unless the rules
// and the baseline agree on another verdict with the baseline's calibrated
// confidence at least OverruleAt; a security answer is never overruled.
func TestDecideOfflineVotersOverruleTheModel(t *testing.T) {
	ns := threatmodel.NotSecurity
	p := DefaultPolicy()
	at := p.OverruleAt
	require.Greater(t, at, p.PrivateAt)
	for _, mc := range []float64{p.PrivateAt, 0.7, 0.99} {
		m := model("invalid", "invalid.intended", mc)
		r := decideWith(p, eval(ns, "leak.pointer", 0.55, false), m, base("not-security", "privilege.root", at))
		assert.Equal(t, "not-security/privilege.root", string(r.Verdict)+"/"+r.Category, "model at %.2f: the baseline's label", mc)
		assert.Equal(t, DecisionVoteBaseline, r.Decision)
		assert.False(t, r.NeedsReview, r.ReviewReason)

		r = decideWith(p, eval(ns, "leak.pointer", 0.99, false), m, base("not-security", "privilege.root", at-0.01))
		assert.Equal(t, "invalid/invalid.intended", string(r.Verdict)+"/"+r.Category, "model at %.2f: the baseline below OverruleAt", mc)
		assert.Equal(t, DecisionVoteModel, r.Decision)

		r = decideWith(p, eval(threatmodel.NeedsInfo, "info.missing", 0.99, false), m, base("not-security", "privilege.root", 0.99))
		assert.Equal(t, threatmodel.Invalid, r.Verdict, "model at %.2f: the rules and the baseline disagree", mc)

		r = decideWith(p, eval(ns, "leak.pointer", 0.99, false), m, nil)
		assert.Equal(t, threatmodel.Invalid, r.Verdict, "model at %.2f: the rules alone never overrule", mc)
	}

	// Towards security: the baseline and the rules overrule a model that
	// says not-security; the route is private either way.
	r := decideWith(p, eval(threatmodel.Security, "isolation.memory", 0.6, false), model("not-security", "privilege.root", 0.9), base("security", "isolation.memory", 0.9))
	assert.Equal(t, "security/isolation.memory", string(r.Verdict)+"/"+r.Category)
	assert.False(t, r.RoutePublic)

	// A model that says security is never overruled.
	r = decideWith(p, eval(ns, "privilege.root", 0.99, false), model("security", "isolation.memory", 0.6), base("not-security", "privilege.root", 0.99))
	assert.Equal(t, threatmodel.Security, r.Verdict)
	assert.False(t, r.RoutePublic)

	// OverruleAt 0: the offline voters never overrule the model.
	off := p
	off.OverruleAt = 0
	r = decideWith(off, eval(ns, "leak.pointer", 0.99, false), model("invalid", "invalid.intended", 0.6), base("not-security", "privilege.root", 0.99))
	assert.Equal(t, threatmodel.Invalid, r.Verdict)

	// A model unsure of its answer (below PrivateAt) is one voter in the
	// weighed vote: the rules alone can outweigh it.
	r = decideWith(p, eval(ns, "leak.pointer", 0.9, false), model("invalid", "invalid.intended", 0.4), nil)
	assert.Equal(t, threatmodel.NotSecurity, r.Verdict)
	assert.Equal(t, DecisionVoteRules, r.Decision)
}

func TestDecideInjectionAlwaysReviewed(t *testing.T) {
	ev := eval(threatmodel.NeedsInfo, "info.unverified-tool", 0.7, false)
	ev.Injection = true
	for _, m := range []*ModelAnswer{nil, model("needs-info", "info.unverified-tool", 0.9)} {
		r := decideWith(DefaultPolicy(), ev, m, base("needs-info", "info.unverified-tool", 0.9))
		assert.True(t, r.NeedsReview)
		assert.Equal(t, []string{FlagInjection}, r.ReviewFlags)
		assert.Contains(t, r.ReviewReason, reasonInjection)
	}
}

func TestDecideAgreementRaisesConfidence(t *testing.T) {
	r := decideWith(DefaultPolicy(), eval(threatmodel.NotSecurity, "leak.padding", 0.5, false),
		model("not-security", "leak.padding", 0.5), nil)
	assert.InDelta(t, 0.75, r.Confidence, 1e-9)
}

// TestDecideRouteSafeAndFlagsOnlyActionable checks two promises over many
// random ballots: a report is never routed publicly while any voter says
// security with confidence at or above PrivateAt, and a report is flagged
// only for a reason a reviewer can act on.
func TestDecideRouteSafeAndFlagsOnlyActionable(t *testing.T) {
	tm := threatmodel.Kernel()
	ids := tm.IDs()
	rng := rand.New(rand.NewPCG(1, 2))
	label := func() (string, string) {
		id := ids[rng.IntN(len(ids))]
		v, _ := tm.VerdictOf(id)
		return string(v), id
	}
	p := DefaultPolicy()
	actionable := []string{FlagInjection, FlagModelFailed, FlagDecisiveRule, FlagHeldPrivate}
	for range 5000 {
		rv, rc := label()
		ev := eval(threatmodel.Verdict(rv), rc, rng.Float64(), rng.IntN(4) == 0)
		ev.Injection = rng.IntN(20) == 0
		var m *ModelAnswer
		switch rng.IntN(5) {
		case 0:
		case 1:
			m = &ModelAnswer{Error: "timeout"}
		default:
			v, c := label()
			m = model(v, c, rng.Float64())
		}
		var b *Opinion
		if rng.IntN(3) > 0 {
			v, c := label()
			b = base(v, c, rng.Float64())
		}
		r := decideWith(p, ev, m, b)
		require.NoError(t, tm.Check(threatmodel.Verdict(r.Verdict), r.Category))

		saysSecurity := rv == "security" && ev.Confidence >= p.PrivateAt ||
			m.OK() && m.Verdict == "security" && m.Confidence >= p.PrivateAt ||
			b != nil && b.Verdict == "security" // the baseline's verdict is thresholded already
		if saysSecurity {
			require.False(t, r.RoutePublic, "a voter says security, the route must stay private: %+v", r)
		}
		for _, f := range r.ReviewFlags {
			require.Contains(t, actionable, f)
		}
		decisiveAgainst := ev.Decisive && (m.OK() && m.Verdict != ev.Verdict || !m.OK() && b != nil && b.Verdict != ev.Verdict)
		heldOrDowngraded := saysSecurity && r.Verdict != "security"
		modelFailed := m != nil && !m.OK()
		if !ev.Injection && !decisiveAgainst && !heldOrDowngraded && !modelFailed {
			require.False(t, r.NeedsReview, "flagged without an actionable reason: %s", r.ReviewReason)
		}
		require.Equal(t, r.NeedsReview, len(r.ReviewFlags) > 0)
		if r.NeedsReview {
			require.True(t, slices.ContainsFunc(actionable, func(f string) bool { return slices.Contains(r.ReviewFlags, f) }))
		}
	}
}

func srcOpinion(conf float64) *Opinion {
	return &Opinion{Label: threatmodel.Label{Verdict: "invalid", Category: "invalid.nonexistent"}, Confidence: conf}
}

func decideSrc(ev rules.Evaluation, m *ModelAnswer, b, src *Opinion) Result {
	return decideAll(DefaultPolicy(), ev, m, b, src)
}

// TestDecideSourceTree checks how the source tree's evidence (cited code
// missing from the tree) enters the policy: one more voter, never decisive,
// that never makes a route public while another voter says security.
func TestDecideSourceTree(t *testing.T) {
	const (
		sec = threatmodel.Security
		ns  = threatmodel.NotSecurity
		ni  = threatmodel.NeedsInfo
	)
	cases := []struct {
		name         string
		ev           rules.Evaluation
		m            *ModelAnswer
		b, src       *Opinion
		wantLabel    string
		wantDecision Decision
		wantFlags    []string
	}{
		{"rules alone, unsure: the tree's evidence wins the vote", eval(ni, "info.missing", 0.4, false), nil, nil, srcOpinion(0.6),
			"invalid/invalid.nonexistent", DecisionVoteSource, nil},
		{"rules alone, sure: the tree only adds a flag", eval(ns, "fs.crafted-image", 0.8, false), nil, nil, srcOpinion(0.5),
			"not-security/fs.crafted-image", DecisionVoteRules, []string{FlagSourceMissing}},
		{"decisive rules override the tree", eval(ns, "privilege.root", 0.5, true), nil, nil, srcOpinion(0.9),
			"not-security/privilege.root", DecisionExclusionWins, []string{FlagDecisiveRule, FlagSourceMissing}},
		{"rules and tree agree", eval("invalid", "invalid.nonexistent", 0.5, false), nil, nil, srcOpinion(0.5),
			"invalid/invalid.nonexistent", DecisionAgree, nil},
		{"the tree sides with the baseline against the model", eval(ni, "info.unverified-tool", 0.3, false), model("needs-info", "info.unverified-tool", 0.5), base("invalid", "invalid.nonexistent", 0.6), srcOpinion(0.6),
			"invalid/invalid.nonexistent", DecisionVoteBaseline, nil},
		{"a model that says security is not outvoted by the tree, and the route stays private", eval(sec, "isolation.memory", 0.4, false), model("security", "isolation.memory", 0.8), nil, srcOpinion(0.9),
			"security/isolation.memory", DecisionVoteModel, []string{FlagSourceMissing}},
		{"the tree wins, a voter says security: the route stays private", eval(sec, "isolation.memory", 0.5, false), nil, nil, srcOpinion(0.9),
			"invalid/invalid.nonexistent", DecisionVoteSource, []string{FlagHeldPrivate}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := decideSrc(tc.ev, tc.m, tc.b, tc.src)
			assert.Equal(t, tc.wantLabel, r.Label.String())
			assert.Equal(t, tc.wantDecision, r.Decision)
			assert.Equal(t, tc.wantFlags, r.ReviewFlags, r.ReviewReason)
			if slices.Contains(r.ReviewFlags, FlagHeldPrivate) || tc.ev.Verdict == sec && tc.ev.Confidence >= 0.5 {
				assert.False(t, r.RoutePublic)
			}
		})
	}
	// No tree, or a zero weight: the tree does not vote.
	p := DefaultPolicy()
	p.SourceWeight = 0
	var r Result
	p.decide(threatmodel.Kernel(), DefaultRoutes(), eval(ni, "info.missing", 0.4, false), nil, nil, srcOpinion(0.9), &r)
	assert.Equal(t, DecisionRulesOnly, r.Decision)
	assert.Equal(t, threatmodel.NeedsInfo, r.Verdict)
}

// With --backend baseline the baseline answers in the model's place; its
// security verdict, already thresholded for recall, still holds the route.
func TestTheBaselineAnsweringAsTheModelHoldsTheRoute(t *testing.T) {
	m := model("security", "isolation.memory", 0.35)
	m.Usage.Backend = voterBaseline
	r := decideWith(DefaultPolicy(), eval(threatmodel.NotSecurity, "privilege.root", 0.9, false), m, nil)
	assert.Equal(t, threatmodel.NotSecurity, r.Verdict, "the rules outweigh a 0.35 vote")
	assert.False(t, r.RoutePublic, r.Route)
	assert.Contains(t, r.ReviewFlags, FlagHeldPrivate)

	llm := model("security", "isolation.memory", 0.35)
	llm.Usage.Backend = "openai"
	r = decideWith(DefaultPolicy(), eval(threatmodel.NotSecurity, "privilege.root", 0.9, false), llm, nil)
	assert.True(t, r.RoutePublic, "a language model's 0.35 is below PrivateAt")
}
