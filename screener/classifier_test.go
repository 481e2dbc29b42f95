package screener

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// fixedVoter is a Classifier that always gives the same opinion, or err.
type fixedVoter struct {
	op    Opinion
	err   error
	calls atomic.Int32
	sawEv atomic.Bool
}

func (v *fixedVoter) Describe() Description { return Description{Name: "baseline", Model: "fixed"} }
func (v *fixedVoter) Classify(_ context.Context, _ *intake.Report, ev *rules.Evaluation) (Classification, error) {
	v.calls.Add(1)
	v.sawEv.Store(ev != nil)
	return Classification{Answer: prompts.Answer{Label: v.op.Label, Confidence: v.op.Confidence}}, v.err
}

func TestVoterVotesBesideTheModel(t *testing.T) {
	b := &scripted{answer: func(backend.Request, int) (string, error) {
		return answerJSON("not-security", "config.os-level", 0.9), nil
	}}
	v := &fixedVoter{op: Opinion{Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}, Confidence: 0.8}}
	s := newTestScreener(t, b, func(c *Config) { c.Voter = v })
	r := s.Screen(context.Background(), report(1, "A crash in the scheduler when a task exits."))
	require.Nil(t, r.Error)
	require.NotNil(t, r.Baseline)
	assert.Equal(t, threatmodel.Security, r.Baseline.Verdict)
	assert.True(t, v.sawEv.Load(), "the voter gets the rules' evaluation")
	assert.Equal(t, threatmodel.NotSecurity, r.Verdict, "1.5 × 0.9 for the model outweighs 0.8 for the baseline")
	assert.False(t, r.RoutePublic, "the baseline says security: the route stays private")
	assert.Contains(t, r.ReviewFlags, FlagHeldPrivate)
}

func TestVoterFailureCountsForNothing(t *testing.T) {
	b := &scripted{answer: func(backend.Request, int) (string, error) {
		return answerJSON("not-security", "config.os-level", 0.9), nil
	}}
	v := &fixedVoter{err: errors.New("model file damaged")}
	s := newTestScreener(t, b, func(c *Config) { c.Voter = v })
	r := s.Screen(context.Background(), report(1, "A crash in the scheduler when a task exits."))
	require.NotNil(t, r.Baseline)
	assert.Contains(t, r.Baseline.Error, "model file damaged")
	assert.Empty(t, r.Baseline.Verdict)
	without := newTestScreener(t, b, nil).Screen(context.Background(), report(1, "A crash in the scheduler when a task exits."))
	assert.Equal(t, without.Label.String()+"/"+string(without.Decision), r.Label.String()+"/"+string(r.Decision))
}

func TestVoterVotesWithoutAModelButNotWhenTheRulesDecideAlone(t *testing.T) {
	v := &fixedVoter{op: Opinion{Label: threatmodel.Label{Verdict: "needs-info", Category: "info.missing"}, Confidence: 0.9}}
	s := newTestScreener(t, nil, func(c *Config) { c.Voter = v })
	r := s.Screen(context.Background(), report(1, "something crashes sometimes"))
	assert.Equal(t, int32(1), v.calls.Load())
	assert.NotNil(t, r.Baseline)

	eng := decisiveRootEngine(t)
	b := &scripted{answer: func(backend.Request, int) (string, error) { return answerJSON("needs-info", "info.missing", 0.6), nil }}
	v2 := &fixedVoter{op: Opinion{Label: threatmodel.Label{Verdict: "needs-info", Category: "info.missing"}, Confidence: 0.9}}
	s = newTestScreener(t, b, func(c *Config) { c.SkipModelWhenDecisive = true; c.Rules = eng; c.Voter = v2 })
	r = s.Screen(context.Background(), report(2, "On 6.12.8, only root can open /dev/testdev, and a write of 0xffffffff oopses the kernel."))
	assert.Equal(t, DecisionSkippedModel, r.Decision)
	assert.Zero(t, v2.calls.Load(), "no vote when the rules decide alone")
	assert.Nil(t, r.Baseline)
}

// A voter's label is checked like a model's: one the threat model does not
// know is no opinion, and says why.
func TestVoterLabelIsChecked(t *testing.T) {
	for _, op := range []Opinion{
		{Label: threatmodel.Label{Verdict: "security", Category: "made.up"}, Confidence: 0.9},
		{Label: threatmodel.Label{Verdict: "security", Category: "privilege.root"}, Confidence: 0.9},
		{Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}, Confidence: 1.5},
	} {
		v := &fixedVoter{op: op}
		s := newTestScreener(t, nil, func(c *Config) { c.Voter = v })
		r := s.Screen(context.Background(), report(1, "A crash in the scheduler when a task exits."))
		require.NotNil(t, r.Baseline, op)
		assert.Contains(t, r.Baseline.Error, "baseline: invalid answer", op)
		assert.Empty(t, r.Baseline.Verdict, op)
		assert.Equal(t, DecisionRulesOnly, r.Decision, "an unusable vote counts for nothing")
	}
}

// A classifier that is not a language model needs no prompt, and its label
// is checked against the threat model before the policy counts it.
func TestClassifierWithoutAPrompt(t *testing.T) {
	c := &fixedVoter{op: Opinion{Label: threatmodel.Label{Verdict: "invalid", Category: "invalid.intended"}, Confidence: 0.7}}
	s := newTestScreener(t, nil, func(cfg *Config) { cfg.Classifier = c })
	assert.Equal(t, "baseline", s.BackendName())
	r := s.Screen(context.Background(), report(1, "text"))
	require.Nil(t, r.Error)
	require.True(t, r.Model.OK())
	assert.Empty(t, r.Model.Prompt)
	assert.Equal(t, threatmodel.Invalid, r.Model.Verdict)
	assert.True(t, c.sawEv.Load(), "the classifier gets the rules' evaluation")
	assert.Equal(t, backend.NotSent, r.SentTo)

	bad := &fixedVoter{op: Opinion{Label: threatmodel.Label{Verdict: "security", Category: "made.up"}, Confidence: 0.7}}
	s = newTestScreener(t, nil, func(cfg *Config) { cfg.Classifier = bad })
	r = s.Screen(context.Background(), report(1, "text"))
	assert.False(t, r.Model.OK())
	assert.Contains(t, r.Model.Error, "invalid answer")
	assert.Equal(t, DecisionModelFailed, r.Decision)
}
