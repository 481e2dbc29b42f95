package screener

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// A cached evaluation must be the evaluation, to the last field: every
// report of the bundled corpus goes through the cache and comes back equal.
func TestEvalCacheGivesBackTheSameEvaluationForTheWholeCorpus(t *testing.T) {
	set, err := rules.KernelRules()
	require.NoError(t, err)
	eng, err := rules.NewEngine(threatmodel.Kernel(), set, rules.Options{})
	require.NoError(t, err)
	c := NewEvalCache(t.TempDir(), "fp1")
	ctx := context.Background()
	n := 0
	for it := range intake.Read(ctx, []string{"../corpus/reports", "../examples"}, intake.Options{}) {
		if it.Report == nil {
			continue
		}
		n++
		want := eng.Evaluate(it.Report)
		first, err := c.Evaluation(ctx, it.Report, eng.EvaluateContext)
		require.NoError(t, err)
		again, err := c.Evaluation(ctx, it.Report, func(context.Context, *intake.Report) (rules.Evaluation, error) {
			t.Fatalf("%s: evaluated again: the cache missed", it.Source)
			return rules.Evaluation{}, nil
		})
		require.NoError(t, err)
		assert.Equal(t, want, first, it.Source)
		assert.Equal(t, want, again, "%s: the cached evaluation differs from the engine's", it.Source)
	}
	assert.Greater(t, n, 200)
}

func TestEvalCacheKeysOnTheFingerprintAndTheWholeReport(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	calls := 0
	eval := func(_ context.Context, r *intake.Report) (rules.Evaluation, error) {
		calls++
		return rules.Evaluation{Category: r.Subject, Findings: []rules.Finding{}}, nil
	}
	r := &intake.Report{ID: "a", Subject: "one", Body: "body"}
	a := NewEvalCache(dir, "rules v1")
	a.Evaluation(ctx, r, eval)
	a.Evaluation(ctx, r, eval)
	assert.Equal(t, 1, calls)
	NewEvalCache(dir, "rules v2").Evaluation(ctx, r, eval)
	assert.Equal(t, 2, calls, "other rules: another key")
	changed := *r
	changed.Body = "body, edited"
	a.Evaluation(ctx, &changed, eval)
	assert.Equal(t, 3, calls, "another report: another key")
	NewEvalCache(dir, "").Evaluation(ctx, r, eval)
	NewEvalCache(dir, "").Evaluation(ctx, r, eval)
	assert.Equal(t, 5, calls, "no fingerprint: nothing is kept")
	var nilCache *EvalCache
	nilCache.Evaluation(ctx, r, eval)
	assert.Equal(t, 6, calls)

	// A corrupt entry is a miss, then repaired.
	entries, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		require.NoError(t, os.WriteFile(e, []byte("{broken"), 0o600))
	}
	a.Evaluation(ctx, r, eval)
	a.Evaluation(ctx, r, eval)
	assert.Equal(t, 7, calls)

	// A failed evaluation (a cancelled run) is not kept.
	failing := func(context.Context, *intake.Report) (rules.Evaluation, error) {
		calls++
		return rules.Evaluation{}, context.Canceled
	}
	other := &intake.Report{ID: "b", Body: "x"}
	_, err = a.Evaluation(ctx, other, failing)
	assert.ErrorIs(t, err, context.Canceled)
	a.Evaluation(ctx, other, eval)
	assert.Equal(t, 9, calls)
}
