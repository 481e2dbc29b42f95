package screener

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// fixedVoter always gives the same opinion, or err.
type fixedVoter struct {
	op    Opinion
	err   error
	calls atomic.Int32
	sawEv atomic.Bool
}

func (v *fixedVoter) Name() string { return "baseline" }
func (v *fixedVoter) Vote(_ context.Context, _ *intake.Report, ev *rules.Evaluation) (Opinion, error) {
	v.calls.Add(1)
	v.sawEv.Store(ev != nil)
	return v.op, v.err
}

func TestVoterVotesBesideTheModel(t *testing.T) {
	b := &scripted{answer: func(backend.Request, int) (string, error) {
		return answerJSON("not-security", "config.os-level", 0.9), nil
	}}
	v := &fixedVoter{op: Opinion{Verdict: "security", Category: "isolation.memory", Confidence: 0.8}}
	s := newTestScreener(t, b, func(c *Config) { c.Voter = v })
	r := s.Screen(context.Background(), report(1, "A crash in the scheduler when a task exits."))
	require.Nil(t, r.Error)
	require.NotNil(t, r.Baseline)
	assert.Equal(t, "security", r.Baseline.Verdict)
	assert.True(t, v.sawEv.Load(), "the voter gets the rules' evaluation")
	assert.Equal(t, "not-security", r.Verdict, "1.5 × 0.9 for the model outweighs 0.8 for the baseline")
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
	assert.Equal(t, without.Verdict+"/"+without.Category+"/"+without.Decision, r.Verdict+"/"+r.Category+"/"+r.Decision)
}

func TestVoterVotesWithoutAModelButNotWhenTheRulesDecideAlone(t *testing.T) {
	v := &fixedVoter{op: Opinion{Verdict: "needs-info", Category: "info.missing", Confidence: 0.9}}
	s := newTestScreener(t, nil, func(c *Config) { c.Voter = v })
	r := s.Screen(context.Background(), report(1, "something crashes sometimes"))
	assert.Equal(t, int32(1), v.calls.Load())
	assert.NotNil(t, r.Baseline)

	eng := decisiveRootEngine(t)
	b := &scripted{answer: func(backend.Request, int) (string, error) { return answerJSON("needs-info", "info.missing", 0.6), nil }}
	v2 := &fixedVoter{op: Opinion{Verdict: "needs-info", Category: "info.missing", Confidence: 0.9}}
	s = newTestScreener(t, b, func(c *Config) { c.SkipModelWhenDecisive = true; c.Rules = eng; c.Voter = v2 })
	r = s.Screen(context.Background(), report(2, "On 6.12.8, only root can open /dev/testdev, and a write of 0xffffffff oopses the kernel."))
	assert.Equal(t, DecisionSkippedModel, r.Decision)
	assert.Zero(t, v2.calls.Load(), "no vote when the rules decide alone")
	assert.Nil(t, r.Baseline)
}

func TestBackendVoterValidatesTheReply(t *testing.T) {
	var got backend.Request
	b := &scripted{answer: func(req backend.Request, call int) (string, error) {
		got = req
		if call == 1 {
			return answerJSON("invalid", "invalid.intended", 0.7), nil
		}
		return `{"verdict":"security","category":"made.up"}`, nil
	}}
	v := BackendVoter(b, threatmodel.Kernel())
	assert.Equal(t, "scripted", v.Name())
	rep := report(1, "text")
	ev := rules.Evaluation{Verdict: threatmodel.NeedsInfo, Category: "info.missing"}
	op, err := v.Vote(context.Background(), rep, &ev)
	require.NoError(t, err)
	assert.Equal(t, Opinion{Verdict: "invalid", Category: "invalid.intended", Confidence: 0.7}, op)
	assert.Same(t, rep, got.Report, "the backend classifies the report itself")
	assert.Same(t, &ev, got.Rules, "and reuses the rules' evaluation")
	_, err = v.Vote(context.Background(), rep, &ev)
	assert.Error(t, err, "a reply that does not validate is no opinion")
}
