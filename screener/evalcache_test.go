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
	n := 0
	for it := range intake.Read(context.Background(), []string{"../corpus/reports", "../examples"}, intake.Options{}) {
		if it.Report == nil {
			continue
		}
		n++
		want := eng.Evaluate(it.Report)
		first := c.Evaluation(it.Report, eng.Evaluate)
		again := c.Evaluation(it.Report, func(*intake.Report) rules.Evaluation {
			t.Fatalf("%s: evaluated again: the cache missed", it.Source)
			return rules.Evaluation{}
		})
		assert.Equal(t, want, first, it.Source)
		assert.Equal(t, want, again, "%s: the cached evaluation differs from the engine's", it.Source)
	}
	assert.Greater(t, n, 200)
}

func TestEvalCacheKeysOnTheFingerprintAndTheWholeReport(t *testing.T) {
	dir := t.TempDir()
	calls := 0
	eval := func(r *intake.Report) rules.Evaluation {
		calls++
		return rules.Evaluation{Category: r.Subject, Findings: []rules.Finding{}}
	}
	r := &intake.Report{ID: "a", Subject: "one", Body: "body"}
	a := NewEvalCache(dir, "rules v1")
	a.Evaluation(r, eval)
	a.Evaluation(r, eval)
	assert.Equal(t, 1, calls)
	NewEvalCache(dir, "rules v2").Evaluation(r, eval)
	assert.Equal(t, 2, calls, "other rules: another key")
	changed := *r
	changed.Body = "body, edited"
	a.Evaluation(&changed, eval)
	assert.Equal(t, 3, calls, "another report: another key")
	NewEvalCache(dir, "").Evaluation(r, eval)
	NewEvalCache(dir, "").Evaluation(r, eval)
	assert.Equal(t, 5, calls, "no fingerprint: nothing is kept")
	var nilCache *EvalCache
	nilCache.Evaluation(r, eval)
	assert.Equal(t, 6, calls)

	// A corrupt entry is a miss, then repaired.
	entries, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		require.NoError(t, os.WriteFile(e, []byte("{broken"), 0o600))
	}
	a.Evaluation(r, eval)
	a.Evaluation(r, eval)
	assert.Equal(t, 7, calls)
}
