package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
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
	files, _ := filepath.Glob(filepath.Join(dir, "*.gob"))
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

	// A damaged entry, or one in v1's JSON, is fitted again, not trusted.
	v1, err := json.Marshal(fitWeights(t, eng, ex, opt))
	require.NoError(t, err)
	for _, bad := range [][]byte{[]byte("{"), v1, {}} {
		require.NoError(t, os.WriteFile(files[0], bad, 0o600))
		evaluations = 0
		_, err = refitCached(ctx, eng, ex, opt, dir, "fp", "key-1")
		require.NoError(t, err)
		assert.Positive(t, evaluations, "entry %q", bad)
	}
}

// fitWeights is the weights eng.Refit fits on ex.
func fitWeights(t *testing.T, eng *rules.Engine, ex []rules.Example, opt rules.FitOptions) *rules.Weights {
	t.Helper()
	_, fit, err := eng.Refit(context.Background(), ex, opt)
	require.NoError(t, err)
	return fit.Weights
}

// The refit cache's encoding gives back the very weights it was given:
// every field of a Weights with all of them set (a field added to
// rules.Weights must be set here too, or the test fails), and the weights
// of a real fit.
func TestRefitWeightsEncodingRoundTrips(t *testing.T) {
	full := &rules.Weights{
		GeneratedBy: "secscreen rules fit", Date: "2026-12-04",
		Corpus: &rules.CorpusInfo{Dir: "corpus", Split: "dev", Reports: 397, Fingerprint: "bcac3946d0abfd45"},
		Method: "logistic", CV: &rules.CVFigures{Folds: 5, Seed: 1, Accuracy: 0.7305, CategoryAccuracy: 0.4559, SecurityRecall: 0.713, SecurityReports: 115},
		Bias: map[string]float64{"privilege.root": -4.6308, "info.missing": 0},
		Rules: map[string]rules.RuleWeights{"uaf": {Fingerprint: "f1", Hits: 12, Correct: 11, LowerBound: 0.6461, Decisive: true,
			Weights: map[string]float64{"isolation.memory": 1.0 / 3, "privilege.root": -0}}, "empty": {}},
		Features: map[string]map[string]float64{"has_reproducer": {"isolation.memory": 0.1}, "none": {}},
	}
	allSet(t, reflect.ValueOf(*full), "Weights")
	allSet(t, reflect.ValueOf(full.Rules["uaf"]), "RuleWeights")
	allSet(t, reflect.ValueOf(*full.Corpus), "CorpusInfo")
	allSet(t, reflect.ValueOf(*full.CV), "CVFigures")

	tm := threatmodel.Kernel()
	eng, err := rules.NewEngine(tm, rules.KernelRules(), rules.Options{})
	require.NoError(t, err)
	var ex []rules.Example
	for i := range 12 {
		ex = append(ex, rules.Example{ID: fmt.Sprint(i), Report: &intake.Report{ID: fmt.Sprint(i),
			Body: fmt.Sprintf("report %d: a use-after-free in net/sched reachable by an unprivileged user, kernel 6.%d", i, i%12)},
			Category: []string{"isolation.memory", "privilege.root"}[i%2]})
	}
	fitted := fitWeights(t, eng, ex, rules.FitOptions{Seed: rules.DefaultSeed, Iterations: 50})

	for _, w := range []*rules.Weights{full, fitted, {}} {
		data, err := encodeWeights(w)
		require.NoError(t, err)
		var got rules.Weights
		require.NoError(t, decodeWeights(data, &got))
		// Empty maps may come back nil, as from JSON with omitempty;
		// everything else is equal.
		assert.Equal(t, normalWeights(w), normalWeights(&got))
		require.Error(t, decodeWeights(append(data, 0), new(rules.Weights)), "trailing bytes")
	}
}

// allSet fails the test when a field of the struct v is its zero value.
func allSet(t *testing.T, v reflect.Value, name string) {
	t.Helper()
	for i := range v.NumField() {
		assert.False(t, v.Field(i).IsZero(), "%s.%s is not set in the test", name, v.Type().Field(i).Name)
	}
}

// normalWeights is w with its empty maps nil.
func normalWeights(w *rules.Weights) rules.Weights {
	n := *w
	if len(n.Bias) == 0 {
		n.Bias = nil
	}
	if len(n.Features) == 0 {
		n.Features = nil
	}
	if len(n.Rules) == 0 {
		n.Rules = nil
	}
	features := map[string]map[string]float64{}
	for k, f := range n.Features {
		if len(f) == 0 {
			f = nil
		}
		features[k] = f
	}
	if n.Features != nil {
		n.Features = features
	}
	ruleWeights := map[string]rules.RuleWeights{}
	for k, r := range n.Rules {
		if len(r.Weights) == 0 {
			r.Weights = nil
		}
		ruleWeights[k] = r
	}
	if n.Rules != nil {
		n.Rules = ruleWeights
	}
	return n
}

// A fold's key changes with anything its refit depends on: the rules in
// force, an example's id, category or parts (subject, body, text
// attachments and their names), and the examples' order; the same
// examples, in other reports of equal content, give the same key.
func TestFoldKeyNamesWhatTheRefitDependsOn(t *testing.T) {
	report := func(subject, body, attachment string) *intake.Report {
		r := &intake.Report{Subject: subject, Body: body}
		if attachment != "" {
			r.Attachments = []intake.Attachment{{Name: attachment, Text: "patch"}}
		}
		return r
	}
	base := func() []rules.Example {
		return []rules.Example{
			{ID: "a", Category: "privilege.root", Report: report("s1", "body one", "")},
			{ID: "b", Category: "info.missing", Report: report("s2", "body two", "fix.diff")},
		}
	}
	digest := memoByReport(partsDigest)
	key := func(fp string, ex []rules.Example) string { return foldKey(fp, ex, digest) }
	want := key("fp", base())
	assert.Equal(t, want, key("fp", base()), "same content, other reports")
	assert.Equal(t, want, foldKey("fp", base(), partsDigest), "memoized digest")

	changes := map[string]func(ex []rules.Example) (string, []rules.Example){
		"fingerprint": func(ex []rules.Example) (string, []rules.Example) { return "fp2", ex },
		"id":          func(ex []rules.Example) (string, []rules.Example) { ex[0].ID = "c"; return "fp", ex },
		"category":    func(ex []rules.Example) (string, []rules.Example) { ex[1].Category = "privilege.root"; return "fp", ex },
		"subject":     func(ex []rules.Example) (string, []rules.Example) { ex[0].Report.Subject = "s9"; return "fp", ex },
		"body":        func(ex []rules.Example) (string, []rules.Example) { ex[0].Report.Body = "body on"; return "fp", ex },
		"attachment name": func(ex []rules.Example) (string, []rules.Example) {
			ex[1].Report.Attachments[0].Name = "fix.patch"
			return "fp", ex
		},
		"attachment text": func(ex []rules.Example) (string, []rules.Example) {
			ex[1].Report.Attachments[0].Text = "patch2"
			return "fp", ex
		},
		"order": func(ex []rules.Example) (string, []rules.Example) { ex[0], ex[1] = ex[1], ex[0]; return "fp", ex },
		"framing": func(ex []rules.Example) (string, []rules.Example) {
			ex[0].Report.Subject, ex[0].Report.Body = "s1body", " one"
			return "fp", ex
		},
		"one fewer": func(ex []rules.Example) (string, []rules.Example) { return "fp", ex[:1] },
	}
	for name, change := range changes {
		fp, ex := change(base())
		assert.NotEqual(t, want, foldKey(fp, ex, partsDigest), name)
	}
}
