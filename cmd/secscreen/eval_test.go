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
	// The built-in baseline was trained on the dev split of the bundled
	// corpus: as a voter beside the simulated model it would remember the
	// answers.
	code, _, errOut := secscreen(t, "eval", "--corpus", "../../corpus", "--split", "dev", "--simulate", "0")
	assert.Equal(t, exitUsage, code)
	assert.Regexp(t, `was trained on (\d+) of the \d+ reports screened`, errOut)
	assert.Contains(t, errOut, "--folds")
}

// trainOn trains a baseline on the dev split of dir and returns its file.
func trainOn(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	model := filepath.Join(t.TempDir(), "model.json")
	args := append([]string{"train", "--corpus", dir, "--split", "dev", "--min-count", "1", "--folds", "2", "-o", model}, extra...)
	code, out, errOut := secscreen(t, args...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "on 11 reports of the dev split")
	assert.Contains(t, out, "security when P(security) >=")
	return model
}

// A baseline trained on the dev split scores the test split directly; a
// corpus that shares reports with its training set is refused, with their
// number, and a report re-sent with other headers, case and spacing is
// still recognised.
func TestEvalBaselineRefusesOnlyReportsItWasTrainedOn(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	model := trainOn(t, dir)

	doc := evalJSON(t, "--corpus", dir, "--split", "test", "--backend", "baseline", "--baseline-model", model)
	assert.Equal(t, "test", doc.Split)
	assert.Len(t, doc.Rows, 5)

	code, _, errOut := secscreen(t, "eval", "--corpus", dir, "--backend", "baseline", "--baseline-model", model)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "was trained on 11 of the 16 reports screened")
	assert.Contains(t, errOut, "--split test")
	code, _, errOut = secscreen(t, "eval", "--corpus", dir, "--split", "dev", "--simulate", "0", "--baseline-model", model)
	assert.Equal(t, exitUsage, code, "the baseline voting beside a model is refused too")
	assert.Contains(t, errOut, "was trained on 11 of the 11 reports")

	// A new corpus: two unseen reports and one dev report re-sent as an
	// email, shouted and re-wrapped.
	other := t.TempDir()
	text, err := os.ReadFile(filepath.Join(dir, "security-0.txt"))
	require.NoError(t, err)
	resent := "From: someone@example.org\nSubject: Fwd: please look again\n\n" + strings.ToUpper(strings.ReplaceAll(string(text), " ", "  \n"))
	files := map[string]string{
		"resent.eml": resent,
		"new-1.txt":  "Reading /proc/self/status as an ordinary user shows my own limits, as the documentation says it should on 6.12.4.\n",
		"new-2.txt":  "The bpf verifier on 6.12.7 lets an unprivileged user write past a map value; the reproducer gives root as uid 1000.\n",
	}
	labels := []string{
		`{"id":"resent","file":"resent.eml","verdict":"security","category":"isolation.memory","split":"test"}`,
		`{"id":"new-1","file":"new-1.txt","verdict":"invalid","category":"invalid.intended","split":"test"}`,
		`{"id":"new-2","file":"new-2.txt","verdict":"security","category":"capability.sys-admin","split":"test"}`,
	}
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(other, name), []byte(body), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(other, "labels.jsonl"), []byte(strings.Join(labels, "\n")+"\n"), 0o644))
	code, _, errOut = secscreen(t, "eval", "--corpus", other, "--split", "test", "--backend", "baseline", "--baseline-model", model)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "was trained on 1 of the 3 reports")
	assert.NotContains(t, errOut, "--split test", "already the test split")

	// Without the re-sent report, it is scored.
	require.NoError(t, os.WriteFile(filepath.Join(other, "labels.jsonl"), []byte(strings.Join(labels[1:], "\n")+"\n"), 0o644))
	require.NoError(t, os.Remove(filepath.Join(other, "resent.eml")))
	doc = evalJSON(t, "--corpus", other, "--backend", "baseline", "--baseline-model", model)
	assert.Len(t, doc.Rows, 2)
}

// eval --folds trains each fold's baseline like the --baseline-model
// given, so the two algorithms can be cross-validated alike.
func TestEvalFoldsTrainLikeTheBaselineModel(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	for _, algo := range []string{"nb", "logreg"} {
		model := trainOn(t, dir, "--algo", algo)
		code, out, errOut := secscreen(t, "eval", "--json", "-", "--resamples", "20", "--corpus", dir, "--split", "dev", "--backend", "baseline", "--baseline-model", model, "--folds", "2")
		require.Equal(t, exitOK, code, errOut)
		var doc struct {
			Model string `json:"model_name"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &doc))
		want := map[string]string{"nb": "naive-bayes@", "logreg": "logreg@"}[algo]
		assert.True(t, strings.HasPrefix(doc.Model, want), "%s: %q", algo, doc.Model)
	}
}

func TestTrainUsage(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	out := filepath.Join(t.TempDir(), "m.json")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--algo", "svm"}, `--algo "svm"`},
		{[]string{"--algo", "nb", "--lambda", "0.1"}, "--lambda does not apply to --algo nb"},
		{[]string{"--algo", "logreg", "--alpha", "0.5"}, "--alpha does not apply to --algo logreg"},
		{[]string{"--rule-scale", "1"}, "--rule-scale does not apply to --algo nb"},
		{[]string{"--split", "nope"}, "--split"},
		{[]string{"--folds", "1"}, "--folds must be at least 2"},
		{[]string{"--target-recall", "1.5"}, "--target-recall"},
	} {
		code, _, errOut := secscreen(t, append([]string{"train", "--corpus", dir, "-o", out}, c.args...)...)
		assert.Equal(t, exitUsage, code, "%v", c.args)
		assert.Contains(t, errOut, c.want, "%v", c.args)
	}
	_, err := os.Stat(out)
	assert.True(t, os.IsNotExist(err), "no model written")
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

// eval --folds cross-fits the rules too: with --backend rules (no baseline
// to train) it refits the rules' weights on each fold's training reports
// and scores the held-out folds, instead of refusing.
func TestEvalFoldsCrossFitTheRules(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	code, out, errOut := secscreen(t, "eval", "--json", "-", "--resamples", "20", "--corpus", dir, "--backend", "rules", "--folds", "2")
	require.Equal(t, exitOK, code, errOut)
	var doc struct {
		Folds int `json:"folds"`
		Rows  []struct {
			ID    string `json:"id"`
			Fold  int    `json:"fold"`
			Rules struct {
				Verdict string `json:"verdict"`
			} `json:"rules"`
		} `json:"rows"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	assert.Equal(t, 2, doc.Folds)
	require.Len(t, doc.Rows, 16)
	for _, r := range doc.Rows {
		assert.Contains(t, []int{1, 2}, r.Fold, r.ID)
		assert.NotEmpty(t, r.Rules.Verdict, r.ID)
	}
}
