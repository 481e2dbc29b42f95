package eval

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/setup"
)

func TestNewJobReadsEveryOwnFlag(t *testing.T) {
	j, err := NewJob(cliflag.Given(Flags(), nil))
	require.NoError(t, err)
	assert.Equal(t, Job{Split: "all", Options: Options{Repeat: 1, Resamples: 1000}}, j)

	j, err = NewJob(cliflag.Given(Flags(), map[string]any{"corpus": "c", "split": "dev", "folds": 3, "simulate": "0.2,7",
		"repeat": 2, "resamples": 50, "min-accuracy": 0.5, "min-security-recall": 0.6, "min-macro-f1": 0.7,
		"json": "r.json", "md": "r.md", "html": "r.html", "quiet": true}))
	require.NoError(t, err)
	assert.Equal(t, Job{Corpus: "c", Split: "dev", Folds: 3, Simulate: "0.2,7",
		Options: Options{Repeat: 2, Resamples: 50, MinAccuracy: 0.5, MinSecurityRecall: 0.6, MinMacroF1: 0.7},
		JSON:    "r.json", Markdown: "r.md", HTML: "r.html", Quiet: true}, j)

	for _, folds := range []int{0, 1} {
		_, err = NewJob(cliflag.Given(Flags(), map[string]any{"folds": folds}))
		assert.EqualError(t, err, "eval: --folds must be at least 2", "--folds %d given", folds)
		assert.Equal(t, exit.Usage, exit.Code(err))
	}
}

// eval's --corpus takes the place of the pipeline's, which only names the
// --shots examples.
func TestEvalsCorpusFlagReplacesThePipelines(t *testing.T) {
	flags := Flags()
	var corpora []cliflag.Flag
	for _, f := range flags {
		if f.Name == "corpus" {
			corpora = append(corpora, f)
		}
	}
	require.Len(t, corpora, 1)
	assert.Equal(t, corpusFlag, corpora[0])
	assert.Equal(t, len(jobFlags)+len(setup.PipelineFlags())+len(setup.InputFlags()), len(flags))
}
