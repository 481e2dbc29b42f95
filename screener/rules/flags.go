package rules

import (
	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/docformat"
)

// corpusFlag is the corpus that rules lint and fit read.
var corpusFlag = cliflag.Flag{Name: "corpus", Usage: "labeled corpus `DIR`", Required: true}

// LintCorpusFlags are the flags of `secscreen rules lint` (LintCorpus) that
// follow the threat model's and the rules'.
var LintCorpusFlags = []cliflag.Flag{corpusFlag,
	{Name: "split", Default: corpus.SplitDev, Usage: "corpus `SPLIT` to use; only dev: the test split is sealed"},
	{Name: "min-reports", Default: DefaultMinReports, Usage: "least number of distinct reports an alternative must fire on"},
	docformat.Flag,
}

// NewLintCorpusOptions returns the options the flags v give
// (LintCorpusFlags).
func NewLintCorpusOptions(v cliflag.Values) LintCorpusOptions {
	return LintCorpusOptions{CorpusOptions: newCorpusOptions(v), MinReports: v.Int("min-reports"), Format: docformat.Format(v.String("format"))}
}

// FitCorpusFlags are the flags of `secscreen rules fit` (FitCorpus) that
// follow the threat model's and the rules'.
var FitCorpusFlags = []cliflag.Flag{corpusFlag,
	{Name: "split", Default: corpus.SplitDev, Usage: "corpus `SPLIT` to fit on; only dev: the test split is sealed"},
	{Name: "folds", Default: DefaultFolds, Usage: "cross-validation folds"},
	{Name: "seed", Default: int64(DefaultSeed), Usage: "seed of the fold assignment"},
	{Name: "lambda", Default: DefaultLambda, Usage: "L2 penalty on the weights"},
	{Name: "output", Aliases: []string{"o"}, Usage: "write the weights to `FILE`"},
}

// NewFitCorpusOptions returns the options the flags v give
// (FitCorpusFlags).
func NewFitCorpusOptions(v cliflag.Values) FitCorpusOptions {
	return FitCorpusOptions{CorpusOptions: newCorpusOptions(v),
		FitOptions: FitOptions{Lambda: v.Float64("lambda"), Folds: v.Int("folds"), Seed: v.Int64("seed")}, Output: v.String("output")}
}

// newCorpusOptions are the --corpus and --split of lint and fit.
func newCorpusOptions(v cliflag.Values) CorpusOptions {
	return CorpusOptions{Corpus: v.String(corpusFlag.Name), Split: v.String("split")}
}
