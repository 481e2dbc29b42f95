package rules

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
)

// TestRefitLearnsOnlyFromItsExamples: an engine refitted on some examples
// decides with weights learned from them alone. Weights the engine carried
// before (here, fitted on reports that include one later held out, and
// with that report's label swapped) leave no trace, and the weights record
// what they were fitted on.
func TestRefitLearnsOnlyFromItsExamples(t *testing.T) {
	ctx := context.Background()
	all := fitExamples(40)
	heldOut, train := all[0], all[1:]
	require.Equal(t, "capability.sys-admin", heldOut.Category)

	fresh, res, err := fitEngine(t).Refit(ctx, train, FitOptions{Seed: 1})
	require.NoError(t, err)
	assert.Equal(t, len(train), res.Weights.Corpus.Reports)
	assert.Equal(t, CorpusFingerprint(train), res.Weights.Corpus.Fingerprint)
	assert.NotEqual(t, CorpusFingerprint(all), res.Weights.Corpus.Fingerprint)

	// An engine that has seen the held-out report, mislabeled.
	swapped := append([]Example{{ID: heldOut.ID, Report: heldOut.Report, Category: "privilege.root"}}, train...)
	seen, _, err := fitEngine(t).Refit(ctx, swapped, FitOptions{Seed: 1})
	require.NoError(t, err)
	again, res2, err := seen.Refit(ctx, train, FitOptions{Seed: 1})
	require.NoError(t, err)
	assert.Equal(t, res.Weights.Bias, res2.Weights.Bias)
	assert.Equal(t, res.Weights.Rules, res2.Weights.Rules)
	assert.Equal(t, fresh.Evaluate(heldOut.Report), again.Evaluate(heldOut.Report))
	assert.True(t, again.Decisive("t.sec"), "the refitted engine applies its own decisive records")
}

// TestFitEvaluateStandsInForTheEngine: evaluations handed to Fit give the
// same weights as the engine's own.
func TestFitEvaluateStandsInForTheEngine(t *testing.T) {
	e := fitEngine(t)
	ex := fitExamples(20)
	calls := 0
	own, err := Fit(context.Background(), e, ex, FitOptions{Seed: 2})
	require.NoError(t, err)
	handed, err := Fit(context.Background(), e, ex, FitOptions{Seed: 2, Evaluate: func(r *intake.Report) Evaluation {
		calls++
		return e.Evaluate(r)
	}})
	require.NoError(t, err)
	assert.Equal(t, len(ex), calls)
	assert.Equal(t, own.Weights, handed.Weights)
	assert.Equal(t, own.CV, handed.CV)
}
