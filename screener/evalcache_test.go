package screener

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/injection"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// A cached evaluation must be the evaluation, to the last field: every
// report of the bundled corpus goes through the cache and comes back equal.
func TestEvalCacheGivesBackTheSameEvaluationForTheWholeCorpus(t *testing.T) {
	set := rules.KernelRules()
	eng, err := rules.NewEngine(threatmodel.Kernel(), set, rules.Options{})
	require.NoError(t, err)
	c := NewEvalCache(t.TempDir(), "fp1")
	ctx := context.Background()
	n, withSpans := 0, 0
	for it := range intake.Read(ctx, []string{"../corpus/reports", "../examples", "injection/testdata/suite"}, intake.Options{}) {
		if it.Report == nil {
			continue
		}
		n++
		want, wantSpans := eng.Evaluate(it.Report), injection.Detect(it.Report)
		if len(wantSpans) > 0 {
			withSpans++
		}
		first, spans, err := c.Analysis(ctx, it.Report, eng.EvaluateContext, injection.Detect)
		require.NoError(t, err)
		again, againSpans, err := c.Analysis(ctx, it.Report, func(context.Context, *intake.Report) (rules.Evaluation, error) {
			t.Fatalf("%s: evaluated again: the cache missed", it.Source)
			return rules.Evaluation{}, nil
		}, injection.Detect)
		require.NoError(t, err)
		assert.Equal(t, want, first, it.Source)
		assert.Equal(t, want, again, "%s: the cached evaluation differs from the engine's", it.Source)
		assert.Equal(t, wantSpans, spans, it.Source)
		assert.Equal(t, wantSpans, againSpans, "%s: the cached injection spans differ from the detector's", it.Source)
	}
	assert.Greater(t, n, 200)
	assert.Greater(t, withSpans, 20, "the injection suite exercises the spans")
}

func TestEvalCacheKeysOnTheFingerprintAndTheWholeReport(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	calls := 0
	evaluate := func(_ context.Context, r *intake.Report) (rules.Evaluation, error) {
		calls++
		return rules.Evaluation{Label: threatmodel.Label{Category: r.Subject}, Findings: []rules.Finding{}}, nil
	}
	none := func(*intake.Report) []injection.Span { return nil }
	eval := func(c *EvalCache, r *intake.Report) { c.Analysis(ctx, r, evaluate, none) }
	r := &intake.Report{ID: "a", Subject: "one", Body: "body"}
	a := NewEvalCache(dir, "rules v1")
	eval(a, r)
	eval(a, r)
	assert.Equal(t, 1, calls)
	eval(NewEvalCache(dir, "rules v2"), r)
	assert.Equal(t, 2, calls, "other rules: another key")
	changed := *r
	changed.Body = "body, edited"
	eval(a, &changed)
	assert.Equal(t, 3, calls, "another report: another key")
	eval(NewEvalCache(dir, ""), r)
	eval(NewEvalCache(dir, ""), r)
	assert.Equal(t, 5, calls, "no fingerprint: nothing is kept")
	var nilCache *EvalCache
	eval(nilCache, r)
	assert.Equal(t, 6, calls)

	// A corrupt entry is a miss, then repaired.
	entries, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		require.NoError(t, os.WriteFile(e, []byte("{broken"), 0o600))
	}
	eval(a, r)
	eval(a, r)
	assert.Equal(t, 7, calls)

	// A failed evaluation (a cancelled run) is not kept.
	failing := func(context.Context, *intake.Report) (rules.Evaluation, error) {
		calls++
		return rules.Evaluation{}, context.Canceled
	}
	other := &intake.Report{ID: "b", Body: "x"}
	_, _, err = a.Analysis(ctx, other, failing, none)
	assert.ErrorIs(t, err, context.Canceled)
	eval(a, other)
	assert.Equal(t, 9, calls)
}

// The keys remembered for the last reports are never those of another
// report: reports made and dropped one after the other (so that a new one
// may take an old one's address) each get their own entry, with their own
// subject; and no more than recentKeysKept are remembered.
func TestRememberedKeysAreTheReportsOwn(t *testing.T) {
	c := NewEvalCache(t.TempDir(), "rules v1")
	ctx := context.Background()
	calls := 0
	evaluate := func(_ context.Context, r *intake.Report) (rules.Evaluation, error) {
		calls++
		return rules.Evaluation{Label: threatmodel.Label{Category: r.Subject}, Findings: []rules.Finding{}}, nil
	}
	none := func(*intake.Report) []injection.Span { return nil }
	const n = recentKeysKept + 500
	for i := range n {
		r := &intake.Report{ID: fmt.Sprint(i), Subject: fmt.Sprint("subject ", i), Body: "the same body"}
		ev, _, err := c.Analysis(ctx, r, evaluate, none)
		require.NoError(t, err)
		require.Equal(t, r.Subject, ev.Category)
		if i%256 == 0 {
			runtime.GC()
		}
	}
	assert.Equal(t, n, calls, "every report evaluated: none found under another's key")
	c.keys.mu.Lock()
	assert.LessOrEqual(t, len(c.keys.keys), recentKeysKept)
	c.keys.mu.Unlock()
}

// countingVoter votes by the report's subject and counts its votes.
type countingVoter struct {
	calls atomic.Int32
	fail  bool
}

func (*countingVoter) Describe() Description { return Description{Name: "counting"} }
func (v *countingVoter) Classify(_ context.Context, r *intake.Report, _ *rules.Evaluation) (Classification, error) {
	v.calls.Add(1)
	if v.fail {
		return Classification{}, errors.New("no opinion")
	}
	return Classification{Answer: prompts.Answer{Label: threatmodel.Label{Verdict: threatmodel.Security, Category: r.Subject}, Confidence: 1.0 / 3}}, nil
}

func TestEvalCacheKeepsVotesByVoterIDAndReport(t *testing.T) {
	dir := t.TempDir()
	v := &countingVoter{}
	c := NewEvalCache(dir, "fp")
	r1 := &intake.Report{ID: "a", Subject: "memory.uaf", Body: "one"}
	r2 := &intake.Report{ID: "b", Subject: "memory.oob", Body: "two"}
	cv := c.Voter(v, "model-1")
	assert.Equal(t, "counting", cv.Describe().Name)
	first, err := cv.Classify(context.Background(), r1, nil)
	require.NoError(t, err)
	again, err := NewEvalCache(dir, "fp").Voter(v, "model-1").Classify(context.Background(), r1, nil)
	require.NoError(t, err)
	assert.Equal(t, first, again, "replayed exactly, float included")
	assert.EqualValues(t, 1, v.calls.Load())

	for _, other := range []struct {
		c  *EvalCache
		id string
		r  *intake.Report
	}{{c, "model-2", r1}, {c, "model-1", r2}, {NewEvalCache(dir, "fp2"), "model-1", r1}} {
		before := v.calls.Load()
		_, err := other.c.Voter(v, other.id).Classify(context.Background(), other.r, nil)
		require.NoError(t, err)
		assert.Equal(t, before+1, v.calls.Load(), "another model, report or rules fingerprint votes afresh")
	}

	failing := &countingVoter{fail: true}
	for range 2 {
		_, err := c.Voter(failing, "model-3").Classify(context.Background(), r1, nil)
		require.Error(t, err)
	}
	assert.EqualValues(t, 2, failing.calls.Load(), "a failed vote is not kept")

	assert.Same(t, Classifier(v), NewEvalCache(dir, "").Voter(v, "model-1"), "no fingerprint: nothing kept")
	assert.Same(t, Classifier(v), c.Voter(v, ""), "no id: nothing kept")
	assert.Nil(t, c.Voter(nil, "model-1"))
	var none *EvalCache
	assert.Same(t, Classifier(v), none.Voter(v, "model-1"))
}

// A vote is kept in the report's analysis entry, so that a warm run reads
// one file per report: the next run's Analysis finds it there and the
// voter is neither asked nor its own entry read. A vote kept in its own
// entry, as earlier versions kept every vote, is still found; a corrupt
// analysis entry loses its votes with it (a miss, voted again), and
// another voter id never takes the vote kept for another.
func TestEvalCacheKeepsVotesInTheAnalysisEntry(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	evaluate := func(_ context.Context, r *intake.Report) (rules.Evaluation, error) {
		return rules.Evaluation{Label: threatmodel.Label{Category: r.Subject}, Findings: []rules.Finding{}}, nil
	}
	none := func(*intake.Report) []injection.Span { return nil }
	v := &countingVoter{}
	// run screens r as a run does: its analysis, then its vote, with a
	// new cache (a new run) and a new report read from the same input.
	run := func(id string) Classification {
		t.Helper()
		c := NewEvalCache(dir, "fp")
		r := &intake.Report{ID: "a", Subject: "memory.uaf", Body: "one"}
		_, _, err := c.Analysis(ctx, r, evaluate, none)
		require.NoError(t, err)
		op, err := c.Voter(v, id).Classify(ctx, r, nil)
		require.NoError(t, err)
		return op
	}
	entries := func() []string {
		t.Helper()
		files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
		require.NoError(t, err)
		return files
	}
	first := run("model-1")
	assert.EqualValues(t, 1, v.calls.Load())
	require.Len(t, entries(), 1, "the vote is in the analysis entry, not a file of its own")
	data, err := os.ReadFile(entries()[0])
	require.NoError(t, err)
	assert.Contains(t, string(data), `"votes":`)

	assert.Equal(t, first, run("model-1"), "replayed exactly, float included")
	assert.EqualValues(t, 1, v.calls.Load(), "the vote came from the analysis entry")

	run("model-2")
	assert.EqualValues(t, 2, v.calls.Load(), "another voter id votes afresh")
	assert.Equal(t, first, run("model-1"), "and is kept beside the first voter's vote")
	assert.EqualValues(t, 2, v.calls.Load())
	assert.Len(t, entries(), 1)

	// An earlier version's cache: the analysis entry holds no votes, the
	// vote has its own entry.
	path := entries()[0]
	var e evalEntry
	require.NoError(t, json.Unmarshal(data, &e))
	require.Len(t, e.Votes, 1)
	var voteKey string
	for k := range e.Votes {
		voteKey = k
	}
	e.Votes = nil
	old, err := json.Marshal(e)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, old, 0o600))
	own, err := json.Marshal(voteEntry{Key: voteKey, Vote: first})
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, voteKey[:2]), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, voteKey[:2], voteKey+".json"), own, 0o600))
	assert.Equal(t, first, run("model-1"), "a vote in its own entry is found")
	assert.EqualValues(t, 2, v.calls.Load())

	// A corrupt analysis entry is a miss, its votes with it.
	require.NoError(t, os.Remove(filepath.Join(dir, voteKey[:2], voteKey+".json")))
	require.NoError(t, os.WriteFile(path, []byte(`{"key":"`+e.Key+`","votes":{`), 0o600))
	assert.Equal(t, first, run("model-1"))
	assert.EqualValues(t, 3, v.calls.Load(), "voted again")
	assert.Equal(t, first, run("model-1"))
	assert.EqualValues(t, 3, v.calls.Load(), "and kept again")
}

// Every field of a report is in its key, the hidden parts included, and a
// text cannot move from one part to the next (or its length into the
// text) without changing the key: the long texts are hashed apart from the
// JSON of the rest, framed by their lengths.
func TestEvalCacheKeyCoversEveryFieldAndFramesTheTexts(t *testing.T) {
	c := NewEvalCache(t.TempDir(), "fp")
	base := intake.Report{
		ID: "id", Source: "src", Subject: "subject", From: "from", Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Body: "body", Attachments: []intake.Attachment{{Name: "a.c", ContentType: "text/x-csrc", Size: 4, Text: "code"}, {Name: "b.bin", Binary: true}},
		MessageID: "m@x", InReplyTo: "p@x", References: []string{"p@x"}, Hash: "h", Format: intake.FormatEmail,
		ThreadSize: 2, Replies: []string{"r@x"}, Updates: &intake.ThreadUpdate{HistoryID: 1}, Notes: []string{"note"},
		Hidden: []intake.Part{{Name: "header:X-A", Text: "one"}, {Name: "html-comment", Text: "two"}},
	}
	edits := map[string]func(r *intake.Report){
		"ID": func(r *intake.Report) { r.ID = "id2" }, "Source": func(r *intake.Report) { r.Source = "src2" },
		"Subject": func(r *intake.Report) { r.Subject = "subject2" }, "From": func(r *intake.Report) { r.From = "from2" },
		"Date": func(r *intake.Report) { r.Date = r.Date.Add(time.Second) },
		"Body": func(r *intake.Report) { r.Body = "body2" },
		"Attachments": func(r *intake.Report) {
			r.Attachments = []intake.Attachment{r.Attachments[0], {Name: "b.bin", Binary: true, Size: 1}}
		},
		"MessageID": func(r *intake.Report) { r.MessageID = "m2@x" }, "InReplyTo": func(r *intake.Report) { r.InReplyTo = "p2@x" },
		"References": func(r *intake.Report) { r.References = nil }, "Hash": func(r *intake.Report) { r.Hash = "h2" },
		"Format": func(r *intake.Report) { r.Format = intake.FormatText }, "ThreadSize": func(r *intake.Report) { r.ThreadSize = 3 },
		"Replies": func(r *intake.Report) { r.Replies = nil }, "Updates": func(r *intake.Report) { r.Updates = nil },
		"Notes":  func(r *intake.Report) { r.Notes = []string{"note2"} },
		"Hidden": func(r *intake.Report) { r.Hidden = []intake.Part{{Name: "header:X-B", Text: "one"}, r.Hidden[1]} },
	}
	typ := reflect.TypeFor[intake.Report]()
	for i := range typ.NumField() {
		assert.Contains(t, edits, typ.Field(i).Name, "a field the test does not change: add it")
	}
	texts := map[string]func(r *intake.Report){
		"a body's end moved into the first attachment": func(r *intake.Report) { r.Body, r.Attachments[0].Text = "bod", "ycode" },
		"an attachment's text moved into the next":     func(r *intake.Report) { r.Attachments[0].Text, r.Attachments[1].Text = "", "code" },
		"a hidden text moved into the next":            func(r *intake.Report) { r.Hidden[0].Text, r.Hidden[1].Text = "on", "etwo" },
		"a hidden part's text changed":                 func(r *intake.Report) { r.Hidden[1].Text = "three" },
		"an attachment's text changed":                 func(r *intake.Report) { r.Attachments[0].Text = "edoc" },
	}
	keyOf := func(edit func(*intake.Report)) string {
		r := base
		r.Attachments = slices.Clone(base.Attachments)
		r.Hidden = slices.Clone(base.Hidden)
		if edit != nil {
			edit(&r)
		}
		key, err := c.key(&r)
		require.NoError(t, err)
		return key
	}
	want := keyOf(nil)
	assert.Equal(t, want, keyOf(nil), "the same report, the same key")
	for name, edit := range edits {
		assert.NotEqual(t, want, keyOf(edit), name)
	}
	for name, edit := range texts {
		assert.NotEqual(t, want, keyOf(edit), name)
	}
}
