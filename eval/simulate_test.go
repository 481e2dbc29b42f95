package eval

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func TestParseSimulate(t *testing.T) {
	for in, want := range map[string]SimulateSpec{
		"0.25":      {ErrorRate: 0.25, Seed: 1},
		"0.25,7":    {ErrorRate: 0.25, Seed: 7},
		" 0 , 3 ":   {ErrorRate: 0, Seed: 3},
		"1":         {ErrorRate: 1, Seed: 1},
		"0.1,0":     {ErrorRate: 0.1, Seed: 0},
		"0.5,12345": {ErrorRate: 0.5, Seed: 12345},
	} {
		got, err := ParseSimulate(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "x", "1.5", "-0.1", "NaN", "0.2,abc", "0.2,-1", "0.2,"} {
		_, err := ParseSimulate(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "0.25,7", SimulateSpec{ErrorRate: 0.25, Seed: 7}.String())
}

// simLabels returns n labels spread over every category of the kernel
// threat model.
func simLabels(n int) []corpus.Label {
	tm := threatmodel.Kernel()
	ids := tm.IDs()
	out := make([]corpus.Label, n)
	for i := range out {
		c := ids[i%len(ids)]
		v, _ := tm.VerdictOf(c)
		out[i] = corpus.Label{ID: fmt.Sprintf("r%03d", i), Label: threatmodel.Label{Verdict: v, Category: c}}
	}
	return out
}

func TestSimulatedIsDeterministicAndWrongOnItsShare(t *testing.T) {
	tm := threatmodel.Kernel()
	labels := simLabels(400)
	a, err := NewSimulated(labels, tm, SimulateSpec{ErrorRate: 0.25, Seed: 7})
	require.NoError(t, err)
	b, err := NewSimulated(labels, tm, SimulateSpec{ErrorRate: 0.25, Seed: 7})
	require.NoError(t, err)
	c, err := NewSimulated(labels, tm, SimulateSpec{ErrorRate: 0.25, Seed: 8})
	require.NoError(t, err)

	perVerdict, wrongPerVerdict := map[string]int{}, map[string]int{}
	var wrong, differs int
	var confRight, confWrong []float64
	for _, l := range labels {
		x, err := a.Answer(l.ID)
		require.NoError(t, err)
		y, err := b.Answer(l.ID)
		require.NoError(t, err)
		assert.Equal(t, x, y, "same seed, same answer")
		z, err := c.Answer(l.ID)
		require.NoError(t, err)
		if z.Verdict != x.Verdict || z.Category != x.Category || z.Confidence != x.Confidence {
			differs++
		}
		require.NoError(t, tm.Check(threatmodel.Verdict(x.Verdict), x.Category), "a valid pair")
		assert.GreaterOrEqual(t, x.Confidence, SimulatedMinConfidence)
		assert.LessOrEqual(t, x.Confidence, SimulatedMaxConfidence)
		perVerdict[string(l.Verdict)]++
		if a.Wrong(l.ID) {
			wrong++
			wrongPerVerdict[string(l.Verdict)]++
			assert.NotEqual(t, l.Verdict, x.Verdict, "a wrong answer has a wrong verdict")
			confWrong = append(confWrong, x.Confidence)
		} else {
			assert.Equal(t, l.Label, x.Label)
			confRight = append(confRight, x.Confidence)
		}
	}
	assert.InDelta(t, 100, wrong, 2, "a quarter of 400 is wrong")
	for v, n := range perVerdict {
		assert.Equal(t, int(math.Round(0.25*float64(n))), wrongPerVerdict[v], "verdict %s gets its share of errors", v)
	}
	assert.Greater(t, differs, 50, "another seed, other answers")
	mean := func(xs []float64) float64 {
		s := 0.0
		for _, x := range xs {
			s += x
		}
		return s / float64(len(xs))
	}
	assert.InDelta(t, mean(confRight), mean(confWrong), 0.05, "confidence does not give a wrong answer away")

	for _, rate := range []float64{0, 1} {
		s, err := NewSimulated(labels, tm, SimulateSpec{ErrorRate: rate, Seed: 1})
		require.NoError(t, err)
		n := 0
		for _, l := range labels {
			if s.Wrong(l.ID) {
				n++
			}
		}
		assert.Equal(t, int(rate*400), n)
	}
}

func TestSimulatedAnswersAsAModelWouldAndInAnyOrder(t *testing.T) {
	tm := threatmodel.Kernel()
	labels := simLabels(60)
	s, err := NewSimulated(labels, tm, SimulateSpec{ErrorRate: 0.3, Seed: 5})
	require.NoError(t, err)
	assert.Equal(t, SimulatedName, s.Name())
	assert.Equal(t, "simulated(error 0.3, seed 5)", s.Model())

	var mu sync.Mutex
	got := map[string]prompts.Answer{}
	var wg sync.WaitGroup
	for i := len(labels) - 1; i >= 0; i-- {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			reply, err := s.Complete(context.Background(), backend.Request{ReportID: id})
			require.NoError(t, err)
			a, err := prompts.ParseAnswer(reply.Content, tm)
			require.NoError(t, err, "the reply passes the same validation as a model's")
			assert.Equal(t, backend.Usage{Backend: SimulatedName, Model: s.Model(), Attempts: 1, Latency: reply.Usage.Latency}, reply.Usage)
			assert.Positive(t, reply.Usage.Latency)
			mu.Lock()
			got[id] = a
			mu.Unlock()
		}(labels[i].ID)
	}
	wg.Wait()
	for _, l := range labels {
		want, err := s.Answer(l.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got[l.ID], "concurrent calls in reverse order give the same answers")
	}

	_, err = s.Complete(context.Background(), backend.Request{ReportID: "nonesuch"})
	assert.ErrorContains(t, err, "no label")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Complete(ctx, backend.Request{ReportID: labels[0].ID})
	assert.ErrorIs(t, err, context.Canceled)

	_, err = NewSimulated([]corpus.Label{labels[0], labels[0]}, tm, SimulateSpec{})
	assert.ErrorContains(t, err, "duplicate")
	_, err = NewSimulated([]corpus.Label{{ID: "x", Label: threatmodel.Label{Verdict: "security", Category: "leak.pointer"}}}, tm, SimulateSpec{})
	assert.Error(t, err, "a label the threat model does not pair")
}

func TestEvaluateWithASimulatedModel(t *testing.T) {
	c := testCorpus(t)
	sim, err := NewSimulated(c.Labels, threatmodel.Kernel(), SimulateSpec{ErrorRate: 0, Seed: 1})
	require.NoError(t, err)
	run, err := Evaluate(context.Background(), c, newScreener(t, sim), fixedOptions())
	require.NoError(t, err)
	require.NotNil(t, run.Model)
	near(t, 1, run.Model.Accuracy, "a perfect simulation over the readable reports")
	assert.Equal(t, SimulatedName, run.Backend)
	assert.Equal(t, 4, run.Usage.Calls)
	assert.Zero(t, run.Usage.PromptTokens, "no model, no tokens")
}
