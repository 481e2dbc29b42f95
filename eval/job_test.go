package eval

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/config"
)

// settings resolves flags as the command line would give them, with no
// environment and no config file.
func settings(t *testing.T, flags map[string]any) config.Settings {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	s, err := config.Resolve(config.Input{Flags: flags, Getenv: func(string) string { return "" }})
	require.NoError(t, err)
	return s
}

// rulesJob scores testCorpus with the rules alone.
func rulesJob(t *testing.T) (Job, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	return Job{Settings: settings(t, map[string]any{"backend": "rules"}), Corpus: testCorpus(t).Dir,
		Options: Options{Repeat: 1, Resamples: 20}, Stdout: &out, Stderr: &bytes.Buffer{}}, &out
}

func TestJobWritesTheSummaryAndTheReportsAskedFor(t *testing.T) {
	j, out := rulesJob(t)
	require.NoError(t, j.Run(context.Background()))
	assert.Contains(t, out.String(), "secscreen eval: corpus "+j.Corpus+" (split all), backend rules")

	// A report on standard output takes the summary's place.
	j.JSON, j.Markdown = filepath.Join(t.TempDir(), "run.json"), "-"
	out.Reset()
	require.NoError(t, j.Run(context.Background()))
	assert.True(t, strings.HasPrefix(out.String(), "# "), out.String())
	assert.NotContains(t, out.String(), "secscreen eval: corpus")
	run, err := ReadJSON(j.JSON)
	require.NoError(t, err)
	assert.Len(t, run.Rows, 5)
	assert.Equal(t, "all", run.Split)

	j.JSON, j.Markdown, j.Quiet = "", "", true
	out.Reset()
	require.NoError(t, j.Run(context.Background()))
	assert.Empty(t, out.String())
}

func TestJobRefusesWhatTheUserAskedWrongly(t *testing.T) {
	for _, c := range []struct {
		change func(*Job)
		want   string
	}{
		{func(j *Job) { j.Options.Repeat = 0 }, "--repeat must be at least 1"},
		{func(j *Job) { j.Simulate = "lots" }, "eval: --simulate: "},
		{func(j *Job) { j.Simulate = "0.2" }, "--simulate replaces the model; it cannot go with --backend"},
		{func(j *Job) { j.Options.Repeat, j.Settings = 2, settings(t, map[string]any{"offline": true}) }, "--repeat asks the model again; it cannot go with --offline"},
		{func(j *Job) { j.Split = "holdout" }, "eval: --split: unknown split"},
		{func(j *Job) { j.Split = "test" }, "the test split of CORPUS holds no reports"},
		{func(j *Job) { j.Folds = 9 }, "eval: --folds: "},
		{func(j *Job) { j.Corpus = filepath.Join(t.TempDir(), "none") }, "load corpus"},
	} {
		j, _ := rulesJob(t)
		want := strings.ReplaceAll(c.want, "CORPUS", j.Corpus)
		c.change(&j)
		err := j.Run(context.Background())
		assert.ErrorContains(t, err, want)
		assert.Equal(t, exit.Usage, exit.Code(err), c.want)
	}
}

func TestJobGateFailsAfterTheSummaryAndAnInterruptedRunSaysSo(t *testing.T) {
	j, out := rulesJob(t)
	j.Options.MinAccuracy = 1
	err := j.Run(context.Background())
	var ge *GateError
	require.True(t, errors.As(err, &ge), "%v", err)
	assert.Equal(t, exit.Failure, exit.Code(err))
	assert.Contains(t, out.String(), "secscreen eval: corpus", "the summary comes first")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	j.Options.MinAccuracy = 0
	err = j.Run(ctx)
	assert.Equal(t, exit.Interrupted, exit.Code(err), "%v", err)
}

func TestJobSimulatesAModelWithTheBaselineVoting(t *testing.T) {
	var out bytes.Buffer
	j := Job{Settings: settings(t, nil), Corpus: testCorpus(t).Dir, Simulate: "0,1", JSON: "-",
		Options: Options{Repeat: 1, Resamples: 20}, Stdout: &out, Stderr: &bytes.Buffer{}}
	require.NoError(t, j.Run(context.Background()))
	path := filepath.Join(t.TempDir(), "run.json")
	require.NoError(t, os.WriteFile(path, out.Bytes(), 0o600))
	run, err := ReadJSON(path)
	require.NoError(t, err)
	assert.Equal(t, SimulatedName, run.Backend)
	for _, r := range run.Rows[:4] {
		require.NotNil(t, r.Model, r.ID)
		assert.Equal(t, r.True.Verdict, r.Model.Verdict, "error rate 0: the simulation answers every label")
	}
	assert.NotNil(t, run.Baseline, "the built-in baseline votes beside the simulated model")
}

func TestCompareFiles(t *testing.T) {
	j, _ := rulesJob(t)
	j.JSON, j.Quiet = filepath.Join(t.TempDir(), "a.json"), true
	require.NoError(t, j.Run(context.Background()))
	cmpJSON := filepath.Join(t.TempDir(), "c.json")
	var out bytes.Buffer
	require.NoError(t, CompareFiles(&out, j.JSON, j.JSON, cmpJSON))
	assert.Contains(t, out.String(), "accuracy")
	data, err := os.ReadFile(cmpJSON)
	require.NoError(t, err)
	assert.Contains(t, string(data), "\n  \"paired\": 5,")

	out.Reset()
	require.NoError(t, CompareFiles(&out, j.JSON, j.JSON, "-"))
	assert.Contains(t, out.String(), "\"paired\": 5")

	err = CompareFiles(&out, filepath.Join(t.TempDir(), "none.json"), j.JSON, "")
	assert.ErrorContains(t, err, "eval compare: ")
	assert.Equal(t, exit.Usage, exit.Code(err))
}
