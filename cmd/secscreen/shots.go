package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
)

// shotsFromCorpus reads the dev split of the labeled corpus in dir and
// returns a picker of n few-shot examples per report. The test split is
// sealed for measuring: its reports are never shown to a model.
func shotsFromCorpus(c *cli.Context, dir string, n int) (func(*intake.Report) []prompts.Shot, error) {
	cp, err := corpus.Load(dir)
	if err != nil {
		return nil, usageErr("--corpus: %w", err)
	}
	if cp, err = cp.OnlySplit(corpus.SplitDev); err != nil {
		return nil, usageErr("--corpus: %w", err)
	}
	read, err := cp.ReadReports(c.Context, intake.Options{})
	if err != nil {
		return nil, fmt.Errorf("read shots: %w", err)
	}
	var shots []prompts.Shot
	for _, lr := range read {
		if lr.Err == nil {
			shots = append(shots, prompts.Shot{Report: lr.Report, Label: lr.Label.Label, Note: lr.Label.Notes})
		}
	}
	if len(shots) == 0 {
		return nil, usageErr("--corpus %s: no readable labeled reports for --shots", dir)
	}
	return screener.ShotPicker(shots, n), nil
}
