package eval

import (
	"slices"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/setup"
)

// jobFlags are eval's own flags, in the order of its help.
var jobFlags = []cliflag.Flag{
	{Name: "json", Usage: "write every metric and prediction as JSON to `FILE` (\"-\": stdout), for `eval compare`"},
	{Name: "md", Usage: "write a Markdown report to `FILE` (\"-\": stdout)"},
	{Name: "html", Usage: "write a self-contained HTML report to `FILE` (\"-\": stdout)"},
	{Name: "quiet", Aliases: []string{"q"}, Default: false, Usage: "do not print the text summary (implied when a report goes to stdout)"},
	{Name: "split", Default: "all", Usage: "score one part of the corpus: `dev`, test or all"},
	{Name: "simulate", Usage: "replace the model by a simulated one that knows the labels and answers wrong on a share of the reports: `ERROR_RATE[,SEED]` (e.g. 0.25,7); no server, no cache"},
	{Name: "repeat", Default: 1, Usage: "screen each report `N` times (cache off) and report answer consistency"},
	{Name: "folds", Default: 0, Usage: "cross-fit with `K` stratified folds: on K-1 folds refit the rules' weights and train a baseline like --baseline-model, screen the held-out fold with them"},
	{Name: "resamples", Default: 1000, Usage: "bootstrap resamples for the 95% intervals"},
	{Name: "min-accuracy", Default: 0.0, Usage: "fail (exit 1) when verdict accuracy is below `X`"},
	{Name: "min-security-recall", Default: 0.0, Usage: "fail (exit 1) when security recall is below `X`"},
	{Name: "min-macro-f1", Default: 0.0, Usage: "fail (exit 1) when macro-F1 over the verdicts is below `X`"},
}

// corpusFlag is the corpus eval scores; it takes the place of the
// pipeline's --corpus, which only gives the --shots examples.
var corpusFlag = cliflag.Flag{Name: "corpus", Usage: "the labeled corpus `DIR` to score (default ./corpus); its dev split also gives the --shots examples"}

// Flags are the flags of `secscreen eval`: its own, the pipeline's
// (setup) with its --corpus, and the input flags.
func Flags() []cliflag.Flag {
	return slices.Concat(jobFlags, cliflag.Replace(setup.PipelineFlags(), corpusFlag), setup.InputFlags())
}

// NewJob returns the job eval's own flags in v describe (Flags); the
// caller sets its settings, files, intake and writers. --folds given below
// 2 is a usage error here, since Job reads 0 as no folds.
func NewJob(v cliflag.Values) (Job, error) {
	if v.IsSet("folds") && v.Int("folds") < 2 {
		return Job{}, exit.Usagef("eval: --folds must be at least 2")
	}
	var j Job
	j.Corpus, j.Split, j.Folds, j.Simulate = v.String(corpusFlag.Name), v.String("split"), v.Int("folds"), v.String("simulate")
	j.Options = Options{Repeat: v.Int("repeat"), Resamples: v.Int("resamples"), MinAccuracy: v.Float64("min-accuracy"),
		MinSecurityRecall: v.Float64("min-security-recall"), MinMacroF1: v.Float64("min-macro-f1")}
	j.JSON, j.Markdown, j.HTML, j.Quiet = v.String("json"), v.String("md"), v.String("html"), v.Bool("quiet")
	return j, nil
}

// CompareFlags are the flags of `secscreen eval compare` (CompareFiles).
var CompareFlags = []cliflag.Flag{{Name: "json", Usage: "also write the comparison as JSON to `FILE` (\"-\": stdout)"}}
