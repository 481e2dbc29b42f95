package screener

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func eval(verdict threatmodel.Verdict, category string, conf float64, decisive bool) rules.Evaluation {
	return rules.Evaluation{Verdict: verdict, Category: category, Confidence: conf, Decisive: decisive}
}

func model(verdict, category string, conf float64) *ModelAnswer {
	return &ModelAnswer{Answer: prompts.Answer{Verdict: verdict, Category: category, Confidence: conf}, Prompt: "screen@v1"}
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
		wantLabel    string
		wantDecision string
		wantReview   bool
	}{
		{"no model: rules decide", eval(ns, "privilege.root", 0.8, true), nil,
			"not-security/privilege.root", DecisionRulesOnly, false},
		{"no model, rules say security: no review needed", eval(sec, "capability.sys-admin", 0.7, false), nil,
			"security/capability.sys-admin", DecisionRulesOnly, false},
		{"model failed: rules kept, review", eval(ni, "info.missing", 0.5, false), &ModelAnswer{Error: "HTTP 500"},
			"needs-info/info.missing", DecisionModelFailed, true},
		{"full agreement", eval(ns, "leak.pointer", 0.6, false), model("not-security", "leak.pointer", 0.9),
			"not-security/leak.pointer", DecisionAgree, false},
		{"same verdict, other category, same route: model's category, no review", eval(ns, "config.os-level", 0.6, false), model("not-security", "privilege.already-held", 0.8),
			"not-security/privilege.already-held", DecisionAgreeVerdict, false},
		{"same verdict, categories that route differently: review", eval(ns, "privilege.root", 0.6, false), model("not-security", "config.out-of-tree", 0.8),
			"not-security/config.out-of-tree", DecisionAgreeVerdict, true},
		{"decisive exclusion beats a model that says security", eval(ns, "privilege.already-held", 0.9, true), model("security", "capability.sys-admin", 0.95),
			"not-security/privilege.already-held", DecisionExclusionWins, true},
		{"decisive boundary is not downgraded by the model", eval(sec, "isolation.memory", 0.9, true), model("not-security", "leak.pointer", 0.95),
			"security/isolation.memory", DecisionBoundaryStands, true},
		{"vote: confident model beats weak rules", eval(ni, "info.missing", 0.4, false), model("security", "capability.sys-admin", 0.8),
			"security/capability.sys-admin", DecisionVoteModel, true},
		{"vote: strong rules beat an unsure model", eval(ns, "fs.crafted-image", 0.9, false), model("needs-info", "info.missing", 0.3),
			"not-security/fs.crafted-image", DecisionVoteRules, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			DefaultPolicy().decide(threatmodel.Kernel(), DefaultRoutes(), tc.ev, tc.m, &r)
			assert.Equal(t, tc.wantLabel, r.Verdict+"/"+r.Category)
			assert.Equal(t, tc.wantDecision, r.Decision)
			assert.Equal(t, tc.wantReview, r.NeedsReview, r.ReviewReason)
			assert.GreaterOrEqual(t, r.Confidence, 0.0)
			assert.LessOrEqual(t, r.Confidence, 1.0)
		})
	}
}

func TestDecideFlagsSecurityDowngrade(t *testing.T) {
	// Rules see a boundary, without decisive evidence; a more confident model
	// says not-security. The vote goes to the model, but a person must look,
	// because calling a real vulnerability not-security is the costly error.
	var r Result
	DefaultPolicy().decide(threatmodel.Kernel(), DefaultRoutes(), eval(threatmodel.Security, "isolation.data", 0.5, false),
		model("not-security", "config.os-level", 0.9), &r)
	assert.Equal(t, "not-security", r.Verdict)
	assert.True(t, r.NeedsReview)
	assert.Contains(t, r.ReviewReason, reasonSecurityDowngrade)
}

func TestDecideInjectionAlwaysReviewed(t *testing.T) {
	ev := eval(threatmodel.NeedsInfo, "info.unverified-tool", 0.7, false)
	ev.Injection = true
	for _, m := range []*ModelAnswer{nil, model("needs-info", "info.unverified-tool", 0.9)} {
		var r Result
		DefaultPolicy().decide(threatmodel.Kernel(), DefaultRoutes(), ev, m, &r)
		assert.True(t, r.NeedsReview)
		assert.Contains(t, r.ReviewReason, reasonInjection)
	}
}

func TestDecideAgreementRaisesConfidence(t *testing.T) {
	var r Result
	DefaultPolicy().decide(threatmodel.Kernel(), DefaultRoutes(), eval(threatmodel.NotSecurity, "leak.padding", 0.5, false),
		model("not-security", "leak.padding", 0.5), &r)
	assert.InDelta(t, 0.75, r.Confidence, 1e-9)
}
