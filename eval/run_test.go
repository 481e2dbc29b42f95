package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// fakeBackend answers from a table keyed by report id. A report listed in
// flip gets its answers from that list in turn, one per call.
type fakeBackend struct {
	mu      sync.Mutex
	answers map[string][2]string
	flip    map[string][][2]string
	calls   map[string]int
}

func (f *fakeBackend) Name() string  { return "fake" }
func (f *fakeBackend) Model() string { return "fake-1" }

func (f *fakeBackend) Complete(ctx context.Context, req backend.Request) (backend.Reply, error) {
	f.mu.Lock()
	n := f.calls[req.ReportID]
	f.calls[req.ReportID]++
	a, ok := f.answers[req.ReportID]
	if seq, flips := f.flip[req.ReportID]; flips {
		a, ok = seq[n%len(seq)], true
	}
	f.mu.Unlock()
	usage := backend.Usage{Backend: "fake", Model: "fake-1", PromptTokens: 100, CompletionTokens: 20, Latency: 5 * time.Millisecond, Attempts: 1}
	if !ok {
		return backend.Reply{Usage: usage}, fmt.Errorf("fake: no answer for %s", req.ReportID)
	}
	body, err := json.Marshal(map[string]any{
		"verdict": a[0], "category": a[1], "confidence": 0.8,
		"attacker_privileges": "unprivileged", "boundary_crossed": "none",
		"missing_information": []string{}, "ai_generated_signs": []string{},
		"rationale": "fake answer", "cited_clauses": []string{a[1]},
	})
	if err != nil {
		return backend.Reply{}, err
	}
	return backend.Reply{Content: string(body), Usage: usage}, nil
}

func newScreener(t *testing.T, b backend.Backend) *screener.Screener {
	t.Helper()
	tm := threatmodel.Kernel()
	set := rules.KernelRules()
	eng, err := rules.NewEngine(tm, set, rules.Options{})
	require.NoError(t, err)
	cfg := screener.Config{ThreatModel: tm, Rules: eng, Concurrency: 2}
	if b != nil {
		tpl, err := prompts.Load("")
		require.NoError(t, err)
		cfg.Classifier, err = screener.NewLLM(screener.LLMConfig{Backend: b, Prompt: tpl, ThreatModel: tm})
		require.NoError(t, err)
	}
	s, err := screener.New(cfg)
	require.NoError(t, err)
	return s
}

// testCorpus writes four plain-text reports, and a label for a fifth whose
// file is missing.
func testCorpus(t *testing.T) *corpus.Corpus {
	t.Helper()
	dir := t.TempDir()
	reports := map[string]string{
		"r1.txt": "Use-after-free in the af_unix garbage collector on 6.12.3, reachable by an unprivileged user; reproducer below.\n\nint main(void) { return 0; }\n",
		"r2.txt": "As root I can write to /dev/mem with CAP_SYS_RAWIO on 6.6.30 and crash the machine.\n",
		"r3.txt": "I think there is an overflow somewhere.\n",
		"r4.txt": "The documentation says this sysctl is world-readable and it is.\n",
	}
	for name, text := range reports {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	lines := []string{
		`{"id":"r1","file":"r1.txt","verdict":"security","category":"isolation.memory"}`,
		`{"id":"r2","file":"r2.txt","verdict":"not-security","category":"privilege.root"}`,
		`{"id":"r3","file":"r3.txt","verdict":"needs-info","category":"info.missing"}`,
		`{"id":"r4","file":"r4.txt","verdict":"invalid","category":"invalid.intended"}`,
		`{"id":"r5","file":"gone.txt","verdict":"invalid","category":"invalid.nonexistent"}`,
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, corpus.LabelsFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	c, err := corpus.Load(dir)
	require.NoError(t, err)
	return c
}

func TestEvaluateWithModel(t *testing.T) {
	c := testCorpus(t)
	fb := &fakeBackend{calls: map[string]int{}, answers: map[string][2]string{
		"r1": {"security", "isolation.memory"},
		"r2": {"not-security", "privilege.root"},
		"r3": {"needs-info", "info.missing"},
		// r4: the fake fails, so the model has no answer.
	}}
	run, err := Evaluate(context.Background(), c, newScreener(t, fb), Options{Resamples: 100})
	require.NoError(t, err)

	require.Len(t, run.Rows, 5, "every label yields a row")
	for i, id := range []string{"r1", "r2", "r3", "r4", "r5"} {
		assert.Equal(t, id, run.Rows[i].ID, "rows keep corpus order and ids")
	}
	assert.Equal(t, "fake", run.Backend)
	assert.Equal(t, "fake-1", run.ModelName)

	// The missing file is an error row, wrong and listed.
	r5 := run.Rows[4]
	assert.Contains(t, r5.Error, "gone.txt")
	assert.False(t, r5.Correct)
	assert.Contains(t, run.Final.ErrorIDs, "r5")
	assert.Equal(t, 5, run.Final.N)

	// The model's own answers are recorded as it gave them.
	for i, want := range []threatmodel.Verdict{threatmodel.Security, threatmodel.NotSecurity, threatmodel.NeedsInfo} {
		m := run.Rows[i].Model
		if m == nil {
			continue // rules were decisive and the model was skipped
		}
		assert.Equal(t, want, m.Verdict, run.Rows[i].ID)
	}
	require.NotNil(t, run.Rows[3].Model, "r4 was sent to the model")
	assert.Empty(t, run.Rows[3].Model.Verdict)
	assert.NotEmpty(t, run.Rows[3].Model.Error)
	require.NotNil(t, run.Model)
	assert.Contains(t, run.Model.ErrorIDs, "r4")
	assert.Equal(t, run.Usage.Calls, run.Model.N)
	assert.Equal(t, 100*run.Usage.Calls, run.Usage.PromptTokens, "one call per report, no repair needed")
	for _, row := range run.Rows[:4] {
		assert.NotEmpty(t, row.Rules.Verdict, "the rules always give an opinion")
		assert.NotEmpty(t, row.Verdict)
	}
	assert.Nil(t, run.Consistency)
}

func TestEvaluateRulesOnlyAndRepeat(t *testing.T) {
	c := testCorpus(t)
	run, err := Evaluate(context.Background(), c, newScreener(t, nil), Options{Resamples: 50, Repeat: 3})
	require.NoError(t, err)
	assert.Equal(t, "rules", run.Backend)
	assert.Nil(t, run.Model)
	require.NotNil(t, run.Consistency)
	assert.Equal(t, 3, run.Consistency.Runs)
	assert.Equal(t, 4, run.Consistency.N, "the unreadable report is never screened")
	assert.Equal(t, 4, run.Consistency.Consistent, "the rules are deterministic")
	for _, row := range run.Rows[:4] {
		require.Len(t, row.Repeats, 3)
		assert.Equal(t, row.Verdict, row.Repeats[0])
		// Rules-only: the final decision is the rules' own.
		assert.Equal(t, row.Rules.Verdict, row.Verdict)
	}
	near(t, float64(run.Rules.Accuracy), run.Final.Accuracy)
}

func TestEvaluateRepeatFindsInconsistentAnswers(t *testing.T) {
	c := testCorpus(t)
	fb := &fakeBackend{calls: map[string]int{},
		answers: map[string][2]string{"r1": {"security", "isolation.memory"}, "r2": {"not-security", "privilege.root"},
			"r3": {"needs-info", "info.missing"}, "r4": {"invalid", "invalid.intended"}},
		flip: map[string][][2]string{"r3": {{"needs-info", "info.missing"}, {"invalid", "invalid.nonexistent"}}},
	}
	run, err := Evaluate(context.Background(), c, newScreener(t, fb), Options{Resamples: 50, Repeat: 2})
	require.NoError(t, err)
	require.NotNil(t, run.Consistency)
	assert.Equal(t, 2, run.Consistency.Runs)
	if fb.calls["r3"] == 2 {
		// The model was asked both times; its answers differed, and the
		// final verdicts follow unless the rules overrode both.
		r3 := run.Rows[2]
		if r3.Repeats[0] != r3.Repeats[1] {
			assert.Contains(t, run.Consistency.Inconsistent, "r3")
		}
	}
	for _, id := range run.Consistency.Inconsistent {
		assert.Equal(t, "r3", id, "only r3 got different answers")
	}
}

func TestEvaluateRejectsDuplicateIDsAndStopsOnCancel(t *testing.T) {
	c := testCorpus(t)
	dup := &corpus.Corpus{Dir: c.Dir, Labels: append(c.Labels[:1:1], c.Labels[0])}
	_, err := Evaluate(context.Background(), dup, newScreener(t, nil), Options{})
	require.ErrorContains(t, err, "duplicate id")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Evaluate(ctx, c, newScreener(t, nil), Options{})
	require.ErrorIs(t, err, context.Canceled)
}
