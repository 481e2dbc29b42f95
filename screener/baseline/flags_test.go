package baseline

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/exit"
)

// The flags' defaults are the training defaults, and each flag reaches
// its option.
func TestTrainCorpusOptionsFromTheFlags(t *testing.T) {
	want, err := defaultFlags(DefaultAlgo).Options()
	require.NoError(t, err)
	got, err := NewTrainCorpusOptions(cliflag.Given(TrainCorpusFlags(), map[string]any{"output": "m.json"}))
	require.NoError(t, err)
	assert.Equal(t, TrainCorpusOptions{Corpus: "corpus", Split: "dev", Output: "m.json", TrainOptions: want}, got)

	got, err = NewTrainCorpusOptions(cliflag.Given(TrainCorpusFlags(), map[string]any{"corpus": "c", "split": "test", "output": "-",
		"algo": AlgoLogReg, "lambda": 0.25, "rule-scale": 2.0, "min-count": 2, "max-features": 10, "char-grams": 0,
		"folds": 3, "seed": 9, "target-recall": 0.5}))
	require.NoError(t, err)
	assert.Equal(t, TrainCorpusOptions{Corpus: "c", Split: "test", Output: "-", TrainOptions: TrainOptions{Algo: AlgoLogReg,
		Lambda: 0.25, RuleScale: 2, MinCount: 2, MaxFeatures: 10, CharGrams: -1, Folds: 3, Seed: 9, TargetRecall: 0.5}}, got)

	got, err = NewTrainCorpusOptions(cliflag.Given(TrainCorpusFlags(), map[string]any{"alpha": 0.5, "rule-weight": 4}))
	require.NoError(t, err)
	assert.Equal(t, 0.5, got.Alpha)
	assert.Equal(t, 4, got.RuleWeight)

	// A flag of the other algorithm is refused because it was given, even
	// at its default value.
	_, err = NewTrainCorpusOptions(cliflag.Given(TrainCorpusFlags(), map[string]any{"rule-scale": DefaultRuleScale}))
	assert.EqualError(t, err, "train: --rule-scale does not apply to --algo nb")
	assert.Equal(t, exit.Usage, exit.Code(err))
}
