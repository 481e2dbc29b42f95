package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyFile copies a test fixture into dir.
func copyFile(t *testing.T, src, dir string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	dst := filepath.Join(dir, filepath.Base(src))
	require.NoError(t, os.WriteFile(dst, data, 0o600))
	return dst
}

// Another project's threat model screens with the pack beside it, or with
// none, instead of failing on the kernel rules' category ids.
func TestOtherThreatModelWithItsPackAndWithNone(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	model := copyFile(t, "../../screener/rules/testdata/curl/curl.yaml", dir)
	copyFile(t, "../../screener/rules/testdata/curl/curl.rules.yaml", dir)
	report := filepath.Join(dir, "report.txt")
	require.NoError(t, os.WriteFile(report, []byte("Subject: crash\n\nA malicious server overflows the header buffer of the client.\n"), 0o600))

	code, out, errOut := secscreen(t, "rules", "list", "--threat-model", model)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "curl.hostile-server")
	assert.NotContains(t, out, "fs.crafted-image")
	assert.Contains(t, errOut, "curl.rules.yaml, beside threat model")

	code, out, errOut = secscreen(t, "screen", "--backend", "rules", "--format", "jsonl", "--threat-model", model, report)
	require.Equal(t, exitOK, code, errOut)
	rows := jsonl(t, out)
	require.Len(t, rows, 1)
	assert.Equal(t, "security", rows[0]["verdict"])
	assert.Equal(t, "memory.remote", rows[0]["category"])

	// The same model without its pack: no rules, no failure.
	require.NoError(t, os.Remove(filepath.Join(dir, "curl.rules.yaml")))
	code, out, errOut = secscreen(t, "screen", "--backend", "rules", "--format", "jsonl", "--threat-model", model, report)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "no rule pack")
	rows = jsonl(t, out)
	require.Len(t, rows, 1)
	assert.Empty(t, rows[0]["rules"])
	assert.Nil(t, rows[0]["error"])
}

func TestLintFailsAndRefusesTheTestSplit(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	extra := filepath.Join(dir, "extra.yaml")
	require.NoError(t, os.WriteFile(extra, []byte("rules:\n  - {id: t.never, description: x, category: lab.cost, weight: 1, match: ['\\bno report says this\\b']}\n"), 0o600))
	code, out, errOut := secscreen(t, "rules", "lint", "--corpus", "../../corpus", "--rules", extra)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, out, "t.never")
	assert.Contains(t, errOut, "fire on fewer than 3 dev reports")

	code, _, errOut = secscreen(t, "rules", "lint", "--corpus", "../../corpus", "--split", "test")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "sealed")
}

// rules fit prints its figures and writes the weights only when asked
// (the weights themselves: rules.TestFitCorpusWritesTheBuiltInWeights).
func TestRulesFitWritesWeightsOnlyWhenAsked(t *testing.T) {
	isolate(t)
	code, stdout, errOut := secscreen(t, "rules", "fit", "--corpus", "../../corpus", "--split", "dev", "--folds", "2")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, stdout, "cross-validated")
	assert.Equal(t, "rules fit: weights not written (give -o FILE)\n", errOut)

	code, _, errOut = secscreen(t, "rules", "fit", "--corpus", "../../corpus", "--split", "test")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "sealed")
}
