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
			"sealed for measuring), evaluates every report with the rules, fits a naive Bayes model over\n" +
			"words, word pairs and the rules' findings, and writes it\n" +
			"to -o. A report file that cannot be read is reported and skipped. The built-in model is made with\n" +
			"`secscreen train --corpus corpus -o screener/backend/baseline/model.json`.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "corpus", Value: "corpus", Usage: "corpus `DIR` holding labels.jsonl and the reports"},
			&cli.StringFlag{Name: "split", Value: corpus.SplitDev, Usage: "corpus `SPLIT` to train on; only dev: the test split is sealed"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Required: true, Usage: "write the model to `FILE` (\"-\": stdout)"},
			&cli.Float64Flag{Name: "alpha", Value: baseline.DefaultAlpha, Usage: "additive smoothing `ALPHA` of the counts"},
			&cli.IntFlag{Name: "min-count", Value: baseline.DefaultMinCount, Usage: "keep words found in at least `N` training reports"},
			&cli.IntFlag{Name: "max-features", Value: baseline.DefaultMaxFeatures, Usage: "read at most `N` distinct words and word pairs per report"},
			&cli.IntFlag{Name: "rule-weight", Value: baseline.DefaultRuleWeight, Usage: "count each rule or fact feature `N` times"},
			threatModelFlag,
			rulesFlag,
			seriesFlag,
		},
		Action: trainRun,
	}
}

func trainRun(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("train: unexpected arguments %q (the corpus is given with --corpus)", c.Args().Slice())
	}
	opt := baseline.TrainOptions{
		Alpha:       c.Float64("alpha"),
		MinCount:    c.Int("min-count"),
		MaxFeatures: c.Int("max-features"),
		RuleWeight:  c.Int("rule-weight"),
	}
	switch {
	case !(opt.Alpha > 0):
		return usageErr("train: --alpha must be positive")
	case opt.MinCount < 1:
		return usageErr("train: --min-count must be at least 1")
	case opt.MaxFeatures < 1:
		return usageErr("train: --max-features must be at least 1")
	case opt.RuleWeight < 1:
		return usageErr("train: --rule-weight must be at least 1")
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
	if crp, err = crp.OnlySplit(corpus.SplitDev); err != nil {
		return usageErr("train: %w", err)
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
	printTrainSummary(summary, m, ex, skipped, tm, out)
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
		ex = append(ex, baseline.Example{Report: lr.Report, Verdict: lr.Label.Verdict, Category: lr.Label.Category})
	}
	return ex, skipped, nil
}

// printTrainSummary says what was trained, how well it did leaving one out
// and where it went.
func printTrainSummary(w io.Writer, m *baseline.Model, ex []baseline.Example, skipped int, tm *threatmodel.Model, out string) {
	perVerdict := map[string]int{}
	for _, e := range ex {
		perVerdict[e.Verdict]++
	}
	var parts []string
	for _, v := range threatmodel.Verdicts {
		if n := perVerdict[string(v)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", v, n))
		}
	}
	fmt.Fprintf(w, "trained %s on %d reports (%s), %d skipped\n", baseline.Kind, len(ex), strings.Join(parts, ", "), skipped)
	fmt.Fprintf(w, "threat model %s: %d of %d categories learned, %d features\n",
		tm.Name, len(m.Classes), len(tm.Clauses), m.Stats.Features)
	fmt.Fprintf(w, "leave-one-out on the training data: verdict accuracy %.3f, category accuracy %.3f, log-loss %.3f (temperature %g)\n",
		m.Stats.LOOVerdictAccuracy, m.Stats.LOOCategoryAccuracy, m.Stats.LOOLogLoss, m.Temperature)
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
