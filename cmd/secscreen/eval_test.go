package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// evalCorpus writes a small corpus of reports the built-in baseline was
// not trained on: four per verdict, every third one in the test split.
func evalCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	kinds := []struct{ verdict, category, text string }{
		{"security", "isolation.memory", "An unprivileged local user can read another user's process memory through a use-after-free in the %s driver on 6.12.%d; reproducer attached, run as uid 1000.\n\nint main(void) { return 0; }\n"},
		{"not-security", "privilege.root", "As root, writing a malformed value to /sys/kernel/debug/%s/ctl crashes 6.6.%d. Only root can open the file.\n"},
		{"needs-info", "info.missing", "I think the %s code has a problem somewhere, maybe an overflow (seen %d times).\n"},
		{"invalid", "invalid.intended", "The %s sysctl is world-readable on 6.1.%d and the documentation says it is meant to be.\n"},
	}
	subsys := []string{"tty", "sound", "netfilter", "ext4"}
	var labels []string
	n := 0
	for _, k := range kinds {
		for i, s := range subsys {
			id := fmt.Sprintf("%s-%d", k.verdict, i)
			file := id + ".txt"
			require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(fmt.Sprintf(k.text, s, 10+i)), 0o644))
			split := "dev"
			if n%3 == 2 {
				split = "test"
			}
			n++
			labels = append(labels, fmt.Sprintf(`{"id":%q,"file":%q,"verdict":%q,"category":%q,"split":%q}`, id, file, k.verdict, k.category, split))
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "labels.jsonl"), []byte(strings.Join(labels, "\n")+"\n"), 0o644))
	return dir
}

type evalDoc struct {
	Split       string `json:"split"`
	Backend     string `json:"backend"`
	PublicLeaks struct {
		Count           int      `json:"count"`
		SecurityReports int      `json:"security_reports"`
		IDs             []string `json:"ids"`
	} `json:"public_leaks"`
	CrossCheck []struct {
		Predictor string `json:"predictor"`
	} `json:"cross_check"`
	Rows []struct {
		ID       string         `json:"id"`
		Model    map[string]any `json:"model"`
		Baseline map[string]any `json:"baseline"`
	} `json:"rows"`
}

func evalJSON(t *testing.T, args ...string) evalDoc {
	t.Helper()
	code, out, errOut := secscreen(t, append([]string{"eval", "--json", "-", "--resamples", "50"}, args...)...)
	require.Equal(t, exitOK, code, errOut)
	var doc evalDoc
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	return doc
}

func TestEvalScoresOneSplit(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	all := evalJSON(t, "--corpus", dir, "--backend", "rules")
	assert.Equal(t, "all", all.Split)
	assert.Len(t, all.Rows, 16)
	test := evalJSON(t, "--corpus", dir, "--backend", "rules", "--split", "test")
	assert.Equal(t, "test", test.Split)
	assert.Len(t, test.Rows, 5)
	dev := evalJSON(t, "--corpus", dir, "--backend", "rules", "--split", "dev")
	assert.Len(t, dev.Rows, 11)
	for _, r := range test.Rows {
		for _, d := range dev.Rows {
			assert.NotEqual(t, r.ID, d.ID, "the splits are disjoint")
		}
	}

	code, out, errOut := secscreen(t, "eval", "--corpus", dir, "--backend", "rules", "--split", "test", "--resamples", "50")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "(split test)")
	assert.Less(t, strings.Index(out, "public leaks"), strings.Index(out, "cross-check value"))
	assert.Less(t, strings.Index(out, "review load"), strings.Index(out, "Cohen's kappa"))

	code, _, errOut = secscreen(t, "eval", "--corpus", dir, "--split", "holdout")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "unknown split")
}

func TestEvalSimulateIsDeterministicWithTheBaselineVoting(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	args := []string{"--corpus", dir, "--simulate", "0.5,3"}
	a := evalJSON(t, args...)
	b := evalJSON(t, args...)
	assert.Equal(t, "simulated", a.Backend)
	require.Len(t, a.Rows, 16)
	wrong := 0
	var labels []struct{ ID, Verdict string }
	data, err := os.ReadFile(filepath.Join(dir, "labels.jsonl"))
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var l struct{ ID, Verdict string }
		require.NoError(t, json.Unmarshal([]byte(line), &l))
		labels = append(labels, l)
	}
	for i, r := range a.Rows {
		require.NotNil(t, r.Model)
		assert.Equal(t, r.Model["verdict"], b.Rows[i].Model["verdict"], "same seed, same answers")
		assert.Equal(t, r.Model["confidence"], b.Rows[i].Model["confidence"])
		assert.NotNil(t, r.Baseline, "the offline baseline votes beside the simulated model")
		if r.Model["verdict"] != labels[i].Verdict {
			wrong++
		}
	}
	assert.Equal(t, 8, wrong, "half of the reports, two per verdict")
	var names []string
	for _, l := range a.CrossCheck {
		names = append(names, l.Predictor)
	}
	assert.Equal(t, []string{"final", "model", "rules", "baseline"}, names)
	assert.Equal(t, 4, a.PublicLeaks.SecurityReports)

	// Cross-validated, the baseline voter is trained on each fold's rest.
	cv := evalJSON(t, "--corpus", dir, "--simulate", "0.5,3", "--folds", "2", "--split", "dev")
	assert.Equal(t, "dev", cv.Split)
	assert.Len(t, cv.Rows, 11)
	for _, r := range cv.Rows {
		assert.NotNil(t, r.Baseline)
	}
}

func TestEvalSimulateUsage(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	for _, args := range [][]string{
		{"--simulate", "1.5"},
		{"--simulate", "0.2,x"},
		{"--simulate", "0.2", "--backend", "openai"},
	} {
		code, _, errOut := secscreen(t, append([]string{"eval", "--corpus", dir}, args...)...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
	code, _, _ := secscreen(t, "screen", "--simulate", "0.2", "../../examples")
	assert.Equal(t, exitUsage, code, "only eval offers --simulate")
}

func TestEvalRefusesABaselineVoterTrainedOnTheCorpus(t *testing.T) {
	isolate(t)
	// The built-in baseline was trained on the bundled corpus's dev split:
	// as a voter beside the simulated model it would remember the answers.
	code, _, errOut := secscreen(t, "eval", "--corpus", "../../corpus", "--split", "dev", "--simulate", "0")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "was trained on 338 of the 338 reports")
	assert.Contains(t, errOut, "--folds")
}

func TestScreenWithAModelHasTheBaselineVote(t *testing.T) {
	isolate(t)
	var calls atomic.Int32
	srv := fakeOpenAI(t, &calls)
	report := "../../examples/04-crafted-ext4-image.eml"
	code, out, errOut := secscreen(t, "screen", "--backend", "openai", "--base-url", srv.URL+"/v1", "--model", "m", "--no-cache", "-f", "jsonl", report)
	require.Equal(t, exitOK, code, errOut)
	row := jsonl(t, out)[0]
	require.NotNil(t, row["baseline"], "the baseline votes beside a model")
	assert.NotEmpty(t, row["baseline"].(map[string]any)["verdict"])
	assert.Contains(t, errOut, "the offline baseline votes beside it")

	for _, b := range []string{"rules", "baseline"} {
		code, out, errOut = secscreen(t, "screen", "--backend", b, "-f", "jsonl", report)
		require.Equal(t, exitOK, code, errOut)
		assert.Nil(t, jsonl(t, out)[0]["baseline"], "--backend %s: no third voter", b)
	}
}
