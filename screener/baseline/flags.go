package baseline

import (
	"fmt"
	"strings"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/internal/cliflag"
)

// TrainCorpusFlags are the flags of `secscreen train` (TrainCorpus), in the
// order of its help, which the flags of the threat model and its rules
// follow.
var TrainCorpusFlags = []cliflag.Flag{
	{Name: "corpus", Default: "corpus", Usage: "corpus `DIR` holding labels.jsonl and the reports"},
	{Name: "split", Default: corpus.SplitDev, Usage: "corpus `SPLIT` to train on; only dev: the test split is sealed"},
	{Name: "output", Aliases: []string{"o"}, Required: true, Usage: "write the model to `FILE` (\"-\": stdout)"},
	{Name: "algo", Default: DefaultAlgo, Usage: "`ALGO`: logreg (logistic regression) or nb (naive Bayes)"},
	{Name: "lambda", Default: 0.0, Usage: "logreg: L2 strength `L` (default: chosen by cross-validation among " +
		strings.ReplaceAll(strings.Trim(fmt.Sprint(Lambdas), "[]"), " ", ", ") + ")"},
	{Name: "rule-scale", Default: DefaultRuleScale, Usage: "logreg: length `X` of the rules' block of the feature vector (the words' has length 1)"},
	{Name: "alpha", Default: DefaultAlpha, Usage: "nb: additive smoothing `ALPHA` of the counts"},
	{Name: "rule-weight", Default: DefaultRuleWeight, Usage: "nb: count each rule or fact feature `N` times"},
	{Name: "min-count", Default: DefaultMinCount, Usage: "keep words found in at least `N` training reports"},
	{Name: "max-features", Default: DefaultMaxFeatures, Usage: "read at most `N` distinct words and word pairs per report"},
	{Name: "char-grams", Default: DefaultCharGrams, Usage: "also read the character `N`-grams of the words (0: words and word pairs only)"},
	{Name: "folds", Default: DefaultFolds, Usage: "calibrate on `K` stratified held-out folds"},
	{Name: "seed", Default: DefaultSeed, Usage: "seed `N` of the calibration folds"},
	{Name: "target-recall", Default: DefaultTargetRecall, Usage: "choose the security threshold for held-out security recall `R`"},
}

// NewTrainCorpusOptions returns the options the flags v give
// (TrainCorpusFlags), checked as TrainFlags.Options checks them; the
// caller sets the threat model.
func NewTrainCorpusOptions(v cliflag.Values) (TrainCorpusOptions, error) {
	opt, err := TrainFlags{Algo: v.String("algo"), Lambda: v.Float64("lambda"), RuleScale: v.Float64("rule-scale"),
		Alpha: v.Float64("alpha"), RuleWeight: v.Int("rule-weight"), MinCount: v.Int("min-count"), MaxFeatures: v.Int("max-features"),
		CharGrams: v.Int("char-grams"), Folds: v.Int("folds"), Seed: v.Int("seed"), TargetRecall: v.Float64("target-recall"), Given: v.IsSet}.Options()
	if err != nil {
		return TrainCorpusOptions{}, err
	}
	return TrainCorpusOptions{Corpus: v.String("corpus"), Split: v.String("split"), Output: v.String("output"), TrainOptions: opt}, nil
}
