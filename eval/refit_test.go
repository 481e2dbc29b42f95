package eval

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
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
	files, _ := filepath.Glob(filepath.Join(dir, "*.weights"))
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

	// A damaged or short entry, or one in v1's JSON or v2's gob, is
	// fitted again, not trusted.
	v1, err := json.Marshal(fitWeights(t, eng, ex, opt))
	require.NoError(t, err)
	var v2 bytes.Buffer
	require.NoError(t, gob.NewEncoder(&v2).Encode(fitWeights(t, eng, ex, opt)))
	kept, err := os.ReadFile(files[0])
	require.NoError(t, err)
	for _, bad := range [][]byte{[]byte("{"), v1, v2.Bytes(), {}, kept[:len(kept)-1], kept[:len(weightsMagic)+3]} {
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
		data := encodeWeights(w)
		var got rules.Weights
		require.NoError(t, decodeWeights(data, &got))
		// Empty maps may come back nil, as from JSON with omitempty;
		// everything else is equal.
		assert.Equal(t, normalWeights(w), normalWeights(&got))
		require.Error(t, decodeWeights(append(data, 0), new(rules.Weights)), "trailing bytes")
		for n := range len(data) {
			require.Error(t, decodeWeights(data[:n], new(rules.Weights)), "cut to %d of %d bytes", n, len(data))
		}
	}
	// Floats come back bit for bit.
	for _, f := range []float64{math.Copysign(0, -1), math.NaN(), math.Inf(-1), math.SmallestNonzeroFloat64} {
		data := encodeWeights(&rules.Weights{Bias: map[string]float64{"x": f}})
		var got rules.Weights
		require.NoError(t, decodeWeights(data, &got))
		assert.Equal(t, math.Float64bits(f), math.Float64bits(got.Bias["x"]), "%v", f)
	}
}

// An entry's lengths and flags are checked: a length past the entry's end
// or a flag other than 0 or 1 is an error, not a huge map or a guess.
func TestRefitWeightsDecodingRefusesDamage(t *testing.T) {
	data := encodeWeights(&rules.Weights{GeneratedBy: "g", Corpus: &rules.CorpusInfo{Dir: "d"}})
	require.NoError(t, decodeWeights(data, new(rules.Weights)))
	long := slices.Clone(data)
	long[len(weightsMagic)] = 0x7f // GeneratedBy's length
	assert.ErrorContains(t, decodeWeights(long, new(rules.Weights)), "ends early")
	flag := slices.Clone(data)
	flag[len(weightsMagic)+1+1+1] = 2 // after GeneratedBy and Date: Corpus's presence
	assert.ErrorContains(t, decodeWeights(flag, new(rules.Weights)), "neither 0 nor 1")
	huge := append([]byte(weightsMagic), 0, 0, 0, 0, 0)
	huge = binary.AppendUvarint(huge, 1<<40) // Bias's length
	assert.ErrorContains(t, decodeWeights(huge, new(rules.Weights)), "ends early")
	w := rules.Weights{Method: "kept"}
	require.Error(t, decodeWeights(data[:len(data)-1], &w))
	assert.Equal(t, rules.Weights{Method: "kept"}, w, "a failed decode leaves its target alone")
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

// The secscreen command links this package but not encoding/gob, whose
// initialisation every start paid for while only the refit cache used it.
func TestSecscreenLinksNoGob(t *testing.T) {
	const self = "github.com/secscreen/secscreen/eval"
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{if eq .ImportPath "encoding/gob" "`+self+`"}}{{.ImportPath}}{{end}}`, "github.com/secscreen/secscreen/cmd/secscreen").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, []string{self}, strings.Fields(string(out)))
}
