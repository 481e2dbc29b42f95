package baseline

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func TestEmbedded(t *testing.T) {
	m := Embedded()
	again := Embedded()
	assert.Same(t, m, again)
	assert.Equal(t, "linux-kernel", m.ThreatModel)
	assert.Greater(t, m.Stats.Examples, 100)
	tm := threatmodel.Kernel()
	for _, cl := range m.Classes {
		require.NoError(t, tm.Check(threatmodel.Verdict(cl.Verdict), cl.ID))
	}
	js, err := os.ReadFile("model.json")
	require.NoError(t, err)
	assert.Equal(t, string(js), string(saved(t, m)), "the embedded model is model.json")
	// It answers on a report it has never seen.
	eng := kernelEngine(t)
	c, err := NewClassifier(m, eng).Classify(context.Background(), handReport(1, 3), nil)
	require.NoError(t, err)
	require.NoError(t, tm.Check(c.Verdict, c.Category))
	assert.Equal(t, m.Name(), c.Usage.Model)
}

// benchReport is a report of about 10 KB: prose, a sanitizer trace and a
// reproducer.
func benchReport() *intake.Report {
	var b strings.Builder
	b.WriteString("An unprivileged user can trigger a use-after-free in foo_release() in net/foo/af_foo.c.\n" +
		"Tested on 6.12.40 with the Debian config as uid 1000. The reproducer is below.\n\n" +
		"BUG: KASAN: slab-use-after-free in foo_release+0x1f/0x80\nCall Trace:\n")
	for i := range 60 {
		fmt.Fprintf(&b, " foo_frame_%d+0x%x/0x%x\n", i, 16+i, 128+i)
	}
	b.WriteString("\n#include <sys/socket.h>\nint main(void)\n{\n")
	for i := range 120 {
		fmt.Fprintf(&b, "\tsetsockopt(fd, SOL_FOO, FOO_OPT_%d, &v, sizeof(v)); /* step %d */\n", i, i)
	}
	b.WriteString("}\n")
	return &intake.Report{ID: "bench", Subject: "foo: use-after-free in foo_release", Body: b.String()}
}

func BenchmarkPredict(b *testing.B) {
	m := Embedded()
	eng := kernelEngine(b)
	r := benchReport()
	ev := eng.Evaluate(r)
	b.SetBytes(int64(len(r.Body)))
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(r, &ev)
	}
}

func BenchmarkClassify(b *testing.B) {
	m := Embedded()
	c := NewClassifier(m, kernelEngine(b))
	r := benchReport()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Classify(context.Background(), r, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// The embedded model must be trained on exactly the bundled corpus's dev
// split.
func TestEmbeddedIsCurrent(t *testing.T) {
	ex := bundledExamples(t)
	m := Embedded()
	hashes := make([]string, len(ex))
	for i, e := range ex {
		hashes[i] = ReportHash(e.Report)
	}
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	require.Equal(t, fingerprint(hashes), m.Fingerprint,
		"the embedded model was not trained on the dev split of the current corpus: run `go generate ./screener/baseline`")
	assert.Equal(t, DefaultAlgo, m.Options.Algo)
}

// Retraining on the dev split of the bundled corpus with the default
// options must give the embedded model byte for byte: a changed label, report or rule (the rules'
// findings are features) makes the embedded model stale, and this says so.
func TestEmbeddedMatchesARetrain(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	m, err := Train(bundledExamples(t), kernelEngine(t), TrainOptions{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, m.Save(&buf))
	js, err := os.ReadFile("model.json")
	require.NoError(t, err)
	require.True(t, bytes.Equal(js, buf.Bytes()),
		"model.json differs from a model trained on the current corpus and rules: run `go generate ./screener/baseline`")
	bin, _ := appendTables(m)
	require.True(t, bytes.Equal([]byte(embeddedTables), bin),
		"the embedded model.bin differs from a model trained on the current corpus and rules: run `go generate ./screener/baseline`")
}

// bundledEvaluations yields the bundled corpus's dev reports (the first
// 40 with -short) with the kernel engine's evaluation of each.
func bundledEvaluations(t *testing.T) iter.Seq2[*intake.Report, *rules.Evaluation] {
	eng := kernelEngine(t)
	ex := bundledExamples(t)
	if testing.Short() {
		ex = ex[:40]
	}
	return func(yield func(*intake.Report, *rules.Evaluation) bool) {
		for _, e := range ex {
			ev := eng.Evaluate(e.Report)
			if !yield(e.Report, &ev) {
				return
			}
		}
	}
}

// The byte-per-count table of naive Bayes (the bundled model's counts all
// fit) scores every report exactly as the float64 table does.
func TestCompactLogProbsEqualDense(t *testing.T) {
	compact := Embedded()
	require.NotNil(t, compact.counts, "the bundled model's counts fit in a byte")
	defer func(n int) { compactMaxCount = n }(compactMaxCount)
	compactMaxCount = -1
	js, err := os.ReadFile("model.json")
	require.NoError(t, err)
	dense, err := LoadModel(bytes.NewReader(js))
	require.NoError(t, err)
	require.NotNil(t, dense.logp)
	for r, ev := range bundledEvaluations(t) {
		terms := compact.known(extract(r, ev, compact.Options.MaxFeatures, compact.Options.RuleWeight, compact.Options.CharGrams))
		require.Equal(t, dense.rawNB(terms), compact.rawNB(terms), r.ID)
		require.Equal(t, dense.Predict(r, ev), compact.Predict(r, ev), r.ID)
	}
}
