package baseline

import (
	"fmt"
	"strings"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/exit"
)

// TrainCorpusFlags returns the flags of `secscreen train` (TrainCorpus),
// in the order of its help, which the flags of the threat model and its
// rules follow. (A function: the usage of --lambda formats Lambdas, which
// every start paid for when this was a variable.)
func TrainCorpusFlags() []cliflag.Flag {
	return []cliflag.Flag{
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
}

// NewTrainCorpusOptions returns the options the flags v give
// (TrainCorpusFlags), checked by trainFlags.Options; the
// caller sets the threat model.
func NewTrainCorpusOptions(v cliflag.Values) (TrainCorpusOptions, error) {
	opt, err := trainFlags{Algo: v.String("algo"), Lambda: v.Float64("lambda"), RuleScale: v.Float64("rule-scale"),
		Alpha: v.Float64("alpha"), RuleWeight: v.Int("rule-weight"), MinCount: v.Int("min-count"), MaxFeatures: v.Int("max-features"),
		CharGrams: v.Int("char-grams"), Folds: v.Int("folds"), Seed: v.Int("seed"), TargetRecall: v.Float64("target-recall"), Given: v.IsSet}.Options()
	if err != nil {
		return TrainCorpusOptions{}, err
	}
	return TrainCorpusOptions{Corpus: v.String("corpus"), Split: v.String("split"), Output: v.String("output"), TrainOptions: opt}, nil
}

// trainFlags are the training options as `secscreen train`'s flags give
// them, before they are checked and made TrainOptions: each field is the
// flag of the same name, and the options of the algorithm not chosen are
// ignored unless given, which is refused.
type trainFlags struct {
	Algo                              string
	Lambda, RuleScale, Alpha          float64
	RuleWeight, MinCount, MaxFeatures int
	// CharGrams 0 reads words and word pairs only.
	CharGrams, Folds, Seed int
	TargetRecall           float64
	// Given reports whether the user set the flag name; nil means none.
	Given func(name string) bool
}

// Options checks the flags and returns the training options they give.
// What is wrong is a usage error naming the flag.
func (f trainFlags) Options() (TrainOptions, error) {
	opt := TrainOptions{Algo: f.Algo, MinCount: f.MinCount, MaxFeatures: f.MaxFeatures, CharGrams: f.CharGrams,
		Folds: f.Folds, Seed: uint64(f.Seed), TargetRecall: f.TargetRecall}
	if opt.CharGrams == 0 {
		opt.CharGrams = -1 // none: zero options would take the default
	}
	other := map[string][]string{AlgoLogReg: {"alpha", "rule-weight"}, AlgoNaiveBayes: {"lambda", "rule-scale"}}[f.Algo]
	logreg, nb := f.Algo == AlgoLogReg, f.Algo == AlgoNaiveBayes
	if logreg {
		opt.Lambda, opt.RuleScale = f.Lambda, f.RuleScale
	} else {
		opt.Alpha, opt.RuleWeight = f.Alpha, f.RuleWeight
	}
	isSet := func(name string) bool { return f.Given != nil && f.Given(name) }
	given := ""
	for _, name := range other {
		if isSet(name) && given == "" {
			given = name
		}
	}
	why := ""
	switch {
	case other == nil:
		why = fmt.Sprintf("--algo %q: want %s or %s", f.Algo, AlgoLogReg, AlgoNaiveBayes)
	case logreg && isSet("lambda") && !(f.Lambda > 0):
		why = "--lambda must be positive"
	case logreg && !(f.RuleScale > 0):
		why = "--rule-scale must be positive"
	case nb && !(f.Alpha > 0):
		why = "--alpha must be positive"
	case nb && f.RuleWeight < 1:
		why = "--rule-weight must be at least 1"
	case given != "":
		why = fmt.Sprintf("--%s does not apply to --algo %s", given, f.Algo)
	case f.MinCount < 1:
		why = "--min-count must be at least 1"
	case f.MaxFeatures < 1:
		why = "--max-features must be at least 1"
	case f.CharGrams < 0:
		why = "--char-grams must not be negative"
	case f.Folds < 2:
		why = "--folds must be at least 2"
	case f.Seed < 1:
		why = "--seed must be at least 1"
	case !(f.TargetRecall > 0 && f.TargetRecall <= 1):
		why = "--target-recall must be in (0, 1]"
	default:
		return opt, nil
	}
	return opt, exit.Usagef("train: %s", why)
}
