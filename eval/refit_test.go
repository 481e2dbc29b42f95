package eval

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// A fold's refit is kept by what it was fitted on: the second run loads
// the weights instead of fitting (it never evaluates a report) and builds
// an engine that judges like the fitted one; another key fits afresh.
func TestRefitCachedKeepsAFoldsWeights(t *testing.T) {
	tm := threatmodel.Kernel()
	set := rules.KernelRules()
	eng, err := rules.NewEngine(tm, set, rules.Options{})
	require.NoError(t, err)
	cats := []string{"isolation.memory", "privilege.root", "info.missing", "capability.sys-admin"}
	var ex []rules.Example
	for i := range 24 {
		body := fmt.Sprintf("report %d: a use-after-free in net/sched reachable by an unprivileged user, kernel 6.%d", i, i%12)
		if i%2 == 1 {
			body = fmt.Sprintf("report %d: as root I can crash the box with debugfs, kernel 6.%d", i, i%12)
		}
		ex = append(ex, rules.Example{ID: fmt.Sprint(i), Report: &intake.Report{ID: fmt.Sprint(i), Body: body}, Category: cats[i%len(cats)]})
	}
	dir := t.TempDir()
	ctx := context.Background()
	evaluations := 0
	opt := rules.FitOptions{Seed: rules.DefaultSeed, Iterations: 50, Evaluate: func(r *intake.Report) rules.Evaluation {
		evaluations++
		return eng.Evaluate(r)
	}}
	first, err := refitCached(ctx, eng, ex, opt, dir, "fp", "key-1")
	require.NoError(t, err)
	require.Positive(t, evaluations)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	require.Len(t, files, 1, "the refit is kept")

	evaluations = 0
	second, err := refitCached(ctx, eng, ex, opt, dir, "fp", "key-1")
	require.NoError(t, err)
	assert.Zero(t, evaluations, "a kept refit is loaded, not fitted again")
	for _, x := range ex {
		assert.Equal(t, first.Evaluate(x.Report), second.Evaluate(x.Report), "report %s", x.ID)
	}

	_, err = refitCached(ctx, eng, ex, opt, dir, "fp", "key-2")
	require.NoError(t, err)
	assert.Positive(t, evaluations, "another key fits afresh")

	// A damaged entry is fitted again, not trusted.
	require.NoError(t, os.WriteFile(files[0], []byte("{"), 0o600))
	evaluations = 0
	_, err = refitCached(ctx, eng, ex, opt, dir, "fp", "key-1")
	require.NoError(t, err)
	assert.Positive(t, evaluations)
}
