package baseline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener/intake"
)

// bundledDir is the bundled corpus, relative to this package.
var bundledDir = filepath.Join("..", "..", "corpus")

// bundledExamples reads the dev split of the bundled corpus, the part the
// embedded model is trained on (the test split is sealed for measuring); a
// checkout without it fails.
func bundledExamples(t testing.TB) []Example {
	t.Helper()
	return corpusExamples(t, true)
}

// allCorpusExamples reads both splits of the bundled corpus, for tests
// that prove two ways of computing the same thing agree (nothing is tuned
// on them).
func allCorpusExamples(t testing.TB) []Example {
	t.Helper()
	return corpusExamples(t, false)
}

// corpusExamples reads the bundled corpus: its dev split alone, or all of
// it.
func corpusExamples(t testing.TB, devOnly bool) []Example {
	t.Helper()
	_, err := os.Stat(filepath.Join(bundledDir, corpus.LabelsFile))
	require.NoError(t, err, "the bundled corpus is part of the repository")
	c, err := corpus.Load(bundledDir)
	require.NoError(t, err)
	if devOnly {
		c, err = c.OnlySplit(corpus.SplitDev)
		require.NoError(t, err)
	}
	read, err := c.ReadReports(context.Background(), intake.Options{})
	require.NoError(t, err)
	var ex []Example
	for _, lr := range read {
		require.NoError(t, lr.Err, lr.Label.File)
		ex = append(ex, Example{Report: lr.Report, Label: lr.Label.Label})
	}
	return ex
}

// On the dev split of the bundled corpus, cross-validated, the baseline
// must clearly beat always answering the most common verdict, find the
// security reports, and its confidence must track its accuracy.
func TestCrossValidatedOnBundledCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("trains five models")
	}
	ex := bundledExamples(t)
	eng := kernelEngine(t)
	const k = 5
	counts := map[string]int{}
	for _, e := range ex {
		counts[string(e.Verdict)]++
	}
	majority := 0
	for _, n := range counts {
		majority = max(majority, n)
	}
	right, secRight := 0, 0
	conf := 0.0
	for f := range k {
		var train []Example
		for i, e := range ex {
			if i%k != f {
				train = append(train, e)
			}
		}
		m, err := Train(train, eng, TrainOptions{})
		require.NoError(t, err)
		for i, e := range ex {
			if i%k != f {
				continue
			}
			require.Zero(t, m.Overlap([]string{ReportHash(e.Report)}), "held-out report %s was trained on", e.Report.ID)
			ev := eng.Evaluate(e.Report)
			p := m.Predict(e.Report, &ev)
			conf += p.Confidence
			if p.Verdict == e.Verdict {
				right++
				if e.Verdict == "security" {
					secRight++
				}
			}
		}
	}
	n := float64(len(ex))
	acc, base := float64(right)/n, float64(majority)/n
	meanConf := conf / n
	t.Logf("%d reports: verdict accuracy %.3f (majority %.3f), security recall %.3f, mean confidence %.3f",
		len(ex), acc, base, float64(secRight)/float64(counts["security"]), meanConf)
	require.Greater(t, acc, base+0.1, "the baseline should beat the majority verdict clearly")
	require.InDelta(t, acc, meanConf, 0.1, "confidence should track accuracy")
	require.Greater(t, float64(secRight)/float64(counts["security"]), 0.9, "security recall")
}
