package baseline

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/exit"
)

// handCorpus writes handExamples(n, 0) as a labeled corpus, every third
// report in the test split, and one dev label whose file is missing.
func handCorpus(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	var labels strings.Builder
	for i, e := range handExamples(n, 0) {
		file := fmt.Sprintf("r%02d.eml", i)
		msg := fmt.Sprintf("Subject: %s\nMessage-ID: <%s@test>\n\n%s", e.Report.Subject, e.Report.ID, e.Report.Body)
		require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(msg), 0o600))
		split := "dev"
		if i%3 == 2 {
			split = "test"
		}
		fmt.Fprintf(&labels, `{"id":%q,"file":%q,"verdict":%q,"category":%q,"split":%q}`+"\n", e.Report.ID, file, e.Verdict, e.Category, split)
	}
	labels.WriteString(`{"id":"gone","file":"gone.eml","verdict":"invalid","category":"invalid.intended"}` + "\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "labels.jsonl"), []byte(labels.String()), 0o600))
	return dir
}

func TestTrainCorpusTrainsOnDevAndSaysWhat(t *testing.T) {
	dir := handCorpus(t, 6)
	path := filepath.Join(t.TempDir(), "m.json")
	opt := TrainCorpusOptions{Corpus: dir, Split: "dev", Output: path, TrainOptions: TrainOptions{MinCount: 1, Folds: 2}}
	var out, log bytes.Buffer
	require.NoError(t, TrainCorpus(context.Background(), &out, &log, kernelEngine(t), opt))
	assert.Equal(t, "train: skipping gone: ", log.String()[:len("train: skipping gone: ")])
	dev := len(handExamples(6, 0)) * 2 / 3
	assert.Contains(t, out.String(), fmt.Sprintf("on %d reports of the dev split", dev))
	assert.Contains(t, out.String(), ", 1 skipped")
	assert.True(t, strings.HasSuffix(out.String(), "wrote "+path+"\n"), out.String())
	m, err := LoadModelFile(path)
	require.NoError(t, err)

	// To standard output: the model there, the summary on the log.
	opt.Output = "-"
	out.Reset()
	log.Reset()
	require.NoError(t, TrainCorpus(context.Background(), &out, &log, kernelEngine(t), opt))
	assert.Equal(t, saved(t, m), out.Bytes(), "the same model, byte for byte")
	assert.Contains(t, log.String(), "of the dev split")
	assert.NotContains(t, log.String(), "wrote")
}

func TestTrainCorpusRefusesWhatTheUserNamedWrongly(t *testing.T) {
	dir := handCorpus(t, 3)
	empty := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(empty, "labels.jsonl"), nil, 0o600))
	for _, c := range []struct {
		corpus, split, want string
	}{
		{dir, "test", `train: --split "test": the baseline is trained on the dev split only`},
		{filepath.Join(dir, "none"), "dev", "train: load corpus: "},
		{empty, "dev", "train: the dev split of " + empty + " holds no reports"},
	} {
		err := TrainCorpus(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, kernelEngine(t),
			TrainCorpusOptions{Corpus: c.corpus, Split: c.split, Output: filepath.Join(t.TempDir(), "m.json")})
		assert.ErrorContains(t, err, c.want)
		assert.Equal(t, exit.Usage, exit.Code(err), c.want)
	}
}

// defaultFlags are train's flags at their defaults, for algo.
func defaultFlags(algo string) trainFlags {
	return trainFlags{Algo: algo, RuleScale: DefaultRuleScale, Alpha: DefaultAlpha, RuleWeight: DefaultRuleWeight, MinCount: DefaultMinCount,
		MaxFeatures: DefaultMaxFeatures, CharGrams: DefaultCharGrams, Folds: DefaultFolds, Seed: DefaultSeed, TargetRecall: DefaultTargetRecall}
}

func TestTrainFlagsGiveTheOptionsOfTheChosenAlgorithm(t *testing.T) {
	f := defaultFlags(AlgoLogReg)
	f.Lambda, f.CharGrams = 0.5, 0
	opt, err := f.Options()
	require.NoError(t, err)
	assert.Equal(t, TrainOptions{Algo: AlgoLogReg, Lambda: 0.5, RuleScale: DefaultRuleScale, MinCount: DefaultMinCount, MaxFeatures: DefaultMaxFeatures,
		CharGrams: -1, Folds: DefaultFolds, Seed: DefaultSeed, TargetRecall: DefaultTargetRecall}, opt, "--char-grams 0: none; naive Bayes' options left out")
	opt, err = defaultFlags(AlgoNaiveBayes).Options()
	require.NoError(t, err)
	assert.Equal(t, DefaultAlpha, opt.Alpha)
	assert.Equal(t, DefaultRuleWeight, opt.RuleWeight)
	assert.Zero(t, opt.RuleScale)
}

func TestTrainFlagsRefuseWhatIsOutOfRangeOrOfTheOtherAlgorithm(t *testing.T) {
	given := func(names ...string) func(string) bool {
		return func(n string) bool { return slices.Contains(names, n) }
	}
	for _, c := range []struct {
		change func(*trainFlags)
		want   string
	}{
		{func(f *trainFlags) { f.Algo = "svm" }, `--algo "svm": want logreg or nb`},
		{func(f *trainFlags) { f.Given = given("lambda") }, "--lambda does not apply to --algo nb"},
		{func(f *trainFlags) { f.Algo, f.Given = AlgoLogReg, given("alpha") }, "--alpha does not apply to --algo logreg"},
		{func(f *trainFlags) { f.Algo, f.Given = AlgoLogReg, given("lambda") }, "--lambda must be positive"},
		{func(f *trainFlags) { f.Algo, f.RuleScale = AlgoLogReg, 0 }, "--rule-scale must be positive"},
		{func(f *trainFlags) { f.Alpha = 0 }, "--alpha must be positive"},
		{func(f *trainFlags) { f.RuleWeight = 0 }, "--rule-weight must be at least 1"},
		{func(f *trainFlags) { f.MinCount = 0 }, "--min-count must be at least 1"},
		{func(f *trainFlags) { f.MaxFeatures = 0 }, "--max-features must be at least 1"},
		{func(f *trainFlags) { f.CharGrams = -1 }, "--char-grams must not be negative"},
		{func(f *trainFlags) { f.Folds = 1 }, "--folds must be at least 2"},
		{func(f *trainFlags) { f.Seed = -1 }, "--seed must be at least 1"},
		{func(f *trainFlags) { f.TargetRecall = 1.5 }, "--target-recall must be in (0, 1]"},
	} {
		f := defaultFlags(AlgoNaiveBayes)
		c.change(&f)
		_, err := f.Options()
		assert.EqualError(t, err, "train: "+c.want)
		assert.Equal(t, exit.Usage, exit.Code(err), c.want)
	}
}
