package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/docformat"
)

// The flags' defaults are Lint's and Fit's, and each flag reaches its
// option.
func TestCorpusOptionsFromTheFlags(t *testing.T) {
	assert.Equal(t, LintCorpusOptions{CorpusOptions: CorpusOptions{Corpus: "c", Split: "dev"}, MinReports: DefaultMinReports, Format: docformat.Text},
		NewLintCorpusOptions(cliflag.Given(LintCorpusFlags, map[string]any{"corpus": "c"})))
	assert.Equal(t, LintCorpusOptions{CorpusOptions: CorpusOptions{Corpus: "c", Split: "test"}, MinReports: 1, Format: docformat.JSON},
		NewLintCorpusOptions(cliflag.Given(LintCorpusFlags, map[string]any{"corpus": "c", "split": "test", "min-reports": 1, "format": "json"})))

	assert.Equal(t, FitCorpusOptions{CorpusOptions: CorpusOptions{Corpus: "c", Split: "dev"},
		FitOptions: FitOptions{Lambda: DefaultLambda, Folds: DefaultFolds, Seed: DefaultSeed}},
		NewFitCorpusOptions(cliflag.Given(FitCorpusFlags, map[string]any{"corpus": "c"})))
	assert.Equal(t, FitCorpusOptions{CorpusOptions: CorpusOptions{Corpus: "c", Split: "all"},
		FitOptions: FitOptions{Lambda: 0.5, Folds: 3, Seed: 8}, Output: "w.yaml"},
		NewFitCorpusOptions(cliflag.Given(FitCorpusFlags, map[string]any{"corpus": "c", "split": "all", "lambda": 0.5, "folds": 3,
			"seed": int64(8), "output": "w.yaml"})))
	assert.True(t, LintCorpusFlags[0].Required && FitCorpusFlags[0].Required, "--corpus has no default")
}
