package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCorpusCheckExitsOneOnProblems(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	code, out, errOut := secscreen(t, "corpus", "check", "--max-cue-auc", "0", dir)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "16 labels, 0 problems")
	code, out, errOut = secscreen(t, "corpus", "check", "--json", "--max-cue-auc", "0", dir)
	require.Equal(t, exitOK, code, errOut)
	var rep struct{ Labels int }
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, 16, rep.Labels)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "stray.txt"), []byte("no label\n"), 0o644))
	code, out, errOut = secscreen(t, "corpus", "check", "--max-cue-auc", "0", dir)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, out, "stray.txt: unlabeled-file")
	assert.Contains(t, errOut, "has 1 problems")
	code, _, _ = secscreen(t, "corpus", "check", "--max-cue-auc", "2", dir)
	assert.Equal(t, exitUsage, code)
}

func TestCorpusSynthWritesTheSameBytesToAFile(t *testing.T) {
	isolate(t)
	code, out, errOut := secscreen(t, "corpus", "synth", "--n", "3", "--seed", "5")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, 3, strings.Count(out, "\nFrom ")+1, "three messages")
	path := filepath.Join(t.TempDir(), "s.mbox")
	code, _, errOut = secscreen(t, "corpus", "synth", "--n", "3", "--seed", "5", "-o", path)
	require.Equal(t, exitOK, code, errOut)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, out, string(data))
	code, _, _ = secscreen(t, "corpus", "synth", "--replies", "2")
	assert.Equal(t, exitUsage, code)
}

func TestEvalCompareTwoSavedRuns(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	a, b := filepath.Join(t.TempDir(), "a.json"), filepath.Join(t.TempDir(), "b.json")
	for _, run := range []struct{ path, split string }{{a, "dev"}, {b, "all"}} {
		code, _, errOut := secscreen(t, "eval", "--corpus", dir, "--backend", "rules", "--split", run.split, "--resamples", "20", "-q", "--json", run.path)
		require.Equal(t, exitOK, code, errOut)
	}
	code, out, errOut := secscreen(t, "eval", "compare", a, b, "--json", "-")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "A: rules @ ")
	assert.Contains(t, out, `"paired": 11`)
	code, _, errOut = secscreen(t, "eval", "compare", a)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "want two run files")
}
