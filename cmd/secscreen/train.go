package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener/backend/baseline"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// trainCommand is `secscreen train`: fit the offline baseline classifier
// to a labeled corpus.
func trainCommand() *cli.Command {
	return &cli.Command{
		Name:  "train",
		Usage: "train the offline baseline classifier on a labeled corpus",
		Description: "Reads the dev split of --corpus (labels.jsonl and the reports it names; the test split is\n" +
			"sealed for measuring), evaluates every report with the rules, fits a classifier over words, word pairs and the rules'\n" +
			"findings (--algo logreg: L2-regularised logistic regression, the default; nb: naive Bayes),\n" +
			"calibrates it on --folds held-out folds (a temperature, and the security threshold that reaches\n" +
			"--target-recall), and writes it to -o. Trained on dev only, a model scores the test split\n" +
			"directly. A report file that cannot be read is reported and skipped. The built-in\n" +
			"model is made with `secscreen train --corpus corpus --split dev -o screener/backend/baseline/model.json`.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "corpus", Value: "corpus", Usage: "corpus `DIR` holding labels.jsonl and the reports"},
			&cli.StringFlag{Name: "split", Value: corpus.SplitDev, Usage: "corpus `SPLIT` to train on; only dev: the test split is sealed"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true, Usage: "write the model to `FILE` (\"-\": stdout)"},
			&cli.StringFlag{Name: "algo", Value: baseline.DefaultAlgo, Usage: "`ALGO`: logreg (logistic regression) or nb (naive Bayes)"},
			&cli.Float64Flag{Name: "lambda", Usage: "logreg: L2 strength `L` (default: chosen by cross-validation among " + lambdaList() + ")"},
			&cli.Float64Flag{Name: "rule-scale", Value: baseline.DefaultRuleScale, Usage: "logreg: length `X` of the rules' block of the feature vector (the words' has length 1)"},
			&cli.Float64Flag{Name: "alpha", Value: baseline.DefaultAlpha, Usage: "nb: additive smoothing `ALPHA` of the counts"},
			&cli.IntFlag{Name: "rule-weight", Value: baseline.DefaultRuleWeight, Usage: "nb: count each rule or fact feature `N` times"},
			&cli.IntFlag{Name: "min-count", Value: baseline.DefaultMinCount, Usage: "keep words found in at least `N` training reports"},
			&cli.IntFlag{Name: "max-features", Value: baseline.DefaultMaxFeatures, Usage: "read at most `N` distinct words and word pairs per report"},
			&cli.IntFlag{Name: "folds", Value: baseline.DefaultFolds, Usage: "calibrate on `K` stratified held-out folds"},
			&cli.IntFlag{Name: "seed", Value: baseline.DefaultSeed, Usage: "seed `N` of the calibration folds"},
			&cli.Float64Flag{Name: "target-recall", Value: baseline.DefaultTargetRecall, Usage: "choose the security threshold for held-out security recall `R`"},
			threatModelFlag,
			rulesFlag,
			seriesFlag,
		},
		Action: trainRun,
	}
}

func lambdaList() string {
	var s []string
	for _, l := range baseline.Lambdas {
		s = append(s, fmt.Sprint(l))
	}
	return strings.Join(s, ", ")
}

// trainOptions reads the training options from the flags. Flags of the
// other algorithm are refused when given.
func trainOptions(c *cli.Context) (baseline.TrainOptions, error) {
	opt := baseline.TrainOptions{
		Algo:         c.String("algo"),
		MinCount:     c.Int("min-count"),
		MaxFeatures:  c.Int("max-features"),
		Folds:        c.Int("folds"),
		Seed:         uint64(c.Int("seed")),
		TargetRecall: c.Float64("target-recall"),
	}
	var other []string
	switch opt.Algo {
	case baseline.AlgoLogReg:
		opt.Lambda, opt.RuleScale = c.Float64("lambda"), c.Float64("rule-scale")
		other = []string{"alpha", "rule-weight"}
		switch {
		case c.IsSet("lambda") && !(opt.Lambda > 0):
			return opt, usageErr("train: --lambda must be positive")
		case !(opt.RuleScale > 0):
			return opt, usageErr("train: --rule-scale must be positive")
		}
	case baseline.AlgoNaiveBayes:
		opt.Alpha, opt.RuleWeight = c.Float64("alpha"), c.Int("rule-weight")
		other = []string{"lambda", "rule-scale"}
		switch {
		case !(opt.Alpha > 0):
			return opt, usageErr("train: --alpha must be positive")
		case opt.RuleWeight < 1:
			return opt, usageErr("train: --rule-weight must be at least 1")
		}
	default:
		return opt, usageErr("train: --algo %q: want %s or %s", opt.Algo, baseline.AlgoLogReg, baseline.AlgoNaiveBayes)
	}
	for _, f := range other {
		if c.IsSet(f) {
			return opt, usageErr("train: --%s does not apply to --algo %s", f, opt.Algo)
		}
	}
	switch {
	case opt.MinCount < 1:
		return opt, usageErr("train: --min-count must be at least 1")
	case opt.MaxFeatures < 1:
		return opt, usageErr("train: --max-features must be at least 1")
	case opt.Folds < 2:
		return opt, usageErr("train: --folds must be at least 2")
	case c.Int("seed") < 1:
		return opt, usageErr("train: --seed must be at least 1")
	case !(opt.TargetRecall > 0 && opt.TargetRecall <= 1):
		return opt, usageErr("train: --target-recall must be in (0, 1]")
	}
	return opt, nil
}

func trainRun(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("train: unexpected arguments %q (the corpus is given with --corpus)", c.Args().Slice())
	}
	opt, err := trainOptions(c)
	if err != nil {
		return err
	}
	tm, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return err
	}
	opt.ThreatModel = tm
	if split := c.String("split"); split != corpus.SplitDev {
		return usageErr("train: --split %q: the baseline is trained on the dev split only; the test split is sealed for measuring", split)
	}
	crp, err := corpus.Load(c.String("corpus"))
	if err != nil {
		return usageErr("train: %w", err)
	}
	split := corpus.SplitDev
	if crp, err = crp.OnlySplit(split); err != nil {
		return usageErr("train: %w", err)
	}
	if len(crp.Labels) == 0 {
		return usageErr("train: the %s split of %s holds no reports", split, crp.Dir)
	}

	ex, skipped, err := readExamples(c, crp)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if len(ex) == 0 {
		return fmt.Errorf("train: no readable reports in %s (%d skipped)", crp.Dir, skipped)
	}
	m, err := baseline.Train(ex, eng, opt)
	if err != nil {
		return fmt.Errorf("train: %w (run `secscreen corpus check %s`)", err, crp.Dir)
	}

	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	out, summary := c.String("output"), c.App.Writer
	if out == "-" {
		if _, err := c.App.Writer.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("train: write model: %w", err)
		}
		summary = c.App.ErrWriter
	} else if err := writeFileAtomic(out, buf.Bytes()); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	printTrainSummary(summary, m, ex, skipped, tm, split, out)
	return nil
}

// readExamples reads the report of every label. A label whose file does
// not yield exactly one report is reported on stderr and skipped.
func readExamples(c *cli.Context, crp *corpus.Corpus) ([]baseline.Example, int, error) {
	read, err := crp.ReadReports(c.Context, intake.Options{})
	if err != nil {
		return nil, 0, err
	}
	var ex []baseline.Example
	skipped := 0
	for _, lr := range read {
		if lr.Err != nil {
			skipped++
			fmt.Fprintf(c.App.ErrWriter, "train: skipping %s: %v\n", lr.Label.ID, lr.Err)
			continue
		}
		ex = append(ex, baseline.Example{Report: lr.Report, Label: lr.Label.Label})
	}
	return ex, skipped, nil
}

// printTrainSummary says what was trained, how well it did on the
// held-out folds and where it went.
func printTrainSummary(w io.Writer, m *baseline.Model, ex []baseline.Example, skipped int, tm *threatmodel.Model, split, out string) {
	perVerdict := map[string]int{}
	for _, e := range ex {
		perVerdict[string(e.Verdict)]++
	}
	var parts []string
	for _, v := range threatmodel.Verdicts {
		if n := perVerdict[string(v)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", v, n))
		}
	}
	fmt.Fprintf(w, "trained %s on %d reports of the %s split (%s), %d skipped\n", m.Kind, len(ex), split, strings.Join(parts, ", "), skipped)
	fmt.Fprintf(w, "threat model %s: %d of %d categories learned, %d features", tm.Name, len(m.Classes), len(tm.Clauses), m.Stats.Features)
	if m.Kind == baseline.KindLogReg {
		fmt.Fprintf(w, ", lambda %g", m.Lambda)
	}
	fmt.Fprintln(w)
	st := m.Stats
	fmt.Fprintf(w, "held out (%d folds): verdict accuracy %.3f", m.Options.Folds, st.CVVerdictAccuracy)
	if st.CVCategoryAccuracy > 0 {
		fmt.Fprintf(w, ", category accuracy %.3f", st.CVCategoryAccuracy)
	}
	fmt.Fprintf(w, ", macro-F1 %.3f, security recall %.3f, precision %.3f, log-loss %.3f, ECE %.3f\n",
		st.CVMacroF1, st.CVSecurityRecall, st.CVSecurityPrecision, st.CVLogLoss, st.CVECE)
	fmt.Fprintf(w, "calibration: temperature %g; security when P(security) >= %.2f (target recall %.2f)\n",
		m.Temperature, m.SecurityThreshold, m.Options.TargetRecall)
	fmt.Fprintf(w, "fingerprint %s\n", m.Fingerprint)
	if out != "-" {
		fmt.Fprintf(w, "wrote %s\n", out)
	}
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it over path, so a failed run never leaves a half-written model.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write model: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write model: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write model: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write model: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write model: %w", err)
	}
	return nil
}
