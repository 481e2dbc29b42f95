package rules

import (
	"context"
	"github.com/secscreen/secscreen/internal/benchsupport"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener/intake"
)

// readReports reads every report the inputs hold.
func readReports(t testing.TB, inputs ...string) []*intake.Report {
	t.Helper()
	var out []*intake.Report
	for it := range intake.Read(context.Background(), inputs, intake.Options{}) {
		require.NoError(t, it.Err, it.Source)
		out = append(out, it.Report)
	}
	return out
}

// equalityReports returns the reports the fast engine is checked on:
// every report of the bundled corpus (both splits: this is a check of
// equality, nothing is tuned on it), the examples, the rule cases and
// seeded synthetic reports.
func equalityReports(t *testing.T) []*intake.Report {
	t.Helper()
	dir := filepath.Join("..", "..", "corpus")
	c, err := corpus.Load(dir)
	require.NoError(t, err)
	var paths []string
	for _, l := range c.Labels {
		paths = append(paths, c.Path(l))
	}
	rs := readReports(t, paths...)
	require.GreaterOrEqual(t, len(rs), len(c.Labels), "every labelled report reads")
	examples, err := filepath.Glob(filepath.Join("..", "..", "examples", "*"))
	require.NoError(t, err)
	var files []string
	for _, p := range examples {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			files = append(files, p)
		}
	}
	require.NotEmpty(t, files)
	rs = append(rs, readReports(t, files...)...)
	for _, c := range loadCases(t) {
		rs = append(rs, c.report())
	}
	rs = append(rs, benchReport())
	rs = append(rs, benchsupport.SynthReports(t, 150, 7)...)
	return rs
}

// The token filter, the pruned branches and the line windows change how
// fast the rules run, never what they find: on every report the fast
// evaluation equals the reference one, which runs every pattern whole on
// every paragraph (findings with their spans, facts, truncations and the
// label).
func TestFastEvaluationEqualsReference(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the reference engine over the whole corpus")
	}
	e := kernelEngine(t)
	for _, r := range equalityReports(t) {
		want := e.evaluateReference(r)
		got := e.Evaluate(r)
		if !assert.Equal(t, want, got, "report %s (%s)", r.ID, r.Subject) {
			return
		}
	}
}
