package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/baseline"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/output"
	"github.com/secscreen/secscreen/screener/sourcetree"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// intakeOptions are the input flags with the limits the settings give.
func intakeOptions(c *cli.Context, s config.Settings) (intake.Options, error) {
	f, err := intake.ParseFormat(c.String("input-format"))
	if err != nil {
		return intake.Options{}, usageErr("%w", err)
	}
	return intake.Options{Format: f, Limits: intake.Limits{MaxMessageBytes: s.MessageBytes, MaxAttachmentBytes: s.AttachmentBytes}}, nil
}

// sourceFlag names a kernel tree whose code reports are checked against;
// screen and check take it.
var sourceFlag = &cli.StringFlag{
	Name:  "source",
	Usage: "kernel source `DIR` (a tree, or a git checkout read at the version a report names): cited files, functions, CONFIG options and syscalls it lacks are evidence for invalid.nonexistent",
}

// openSource opens the --source tree, when the command has the flag and
// it is set. An interface holding a nil *Tree would not be nil: the
// screener's Source stays unset without a tree.
func openSource(c *cli.Context) (screener.SourceChecker, error) {
	dir := c.String(sourceFlag.Name)
	if dir == "" {
		return nil, nil
	}
	tree, err := sourcetree.Open(dir)
	if err != nil {
		return nil, usageErr("--source: %w", err)
	}
	return tree, nil
}

// pipeline is a screener with what the summary line needs to know.
type pipeline struct {
	screener *screener.Screener
	choice   string
	prices   backend.PriceTable
	// modelName is the model that answered, for the price table.
	modelName string
	// baseline is the offline classifier's model when it answers, as the
	// backend or as the voter beside a model (nil otherwise).
	baseline *baseline.Model
	// tm is the threat model the screener speaks.
	tm *threatmodel.Model
}

// summaryLine is the run's one-line account (output.SummaryLine).
func (p *pipeline) summaryLine(sum screener.Summary) string {
	var cost float64
	ok := false
	if len(p.prices) > 0 {
		cost, ok = p.prices.Cost(backend.Usage{Model: p.modelName, PromptTokens: sum.PromptTokens, CompletionTokens: sum.CompletionTokens})
	}
	return output.SummaryLine(sum, p.choice, cost, ok)
}

// buildPipeline assembles the screener from the settings; mutate, if
// given, completes its configuration (screen adds duplicate detection).
func buildPipeline(c *cli.Context, s config.Settings, progress func(screener.Summary), mutate ...func(*screener.Config)) (*pipeline, error) {
	tm, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return nil, err
	}
	mb, err := newModelBackend(c, s)
	if err != nil {
		return nil, err
	}
	cfg := screener.Config{ThreatModel: tm, Rules: eng, Progress: progress}
	if err := mb.configure(c, s, &cfg); err != nil {
		return nil, err
	}
	p := &pipeline{choice: mb.Description, prices: s.Prices, modelName: mb.Choice.Model, tm: tm}
	if cfg.Source, err = openSource(c); err != nil {
		return nil, err
	}
	if cfg.Source != nil {
		p.choice += "; cited code looked up in " + c.String(sourceFlag.Name)
	}
	switch {
	case mb.baseline != nil:
		// The baseline answers in the model's place; it must not vote twice.
		p.baseline = mb.baseline
	case mb.Backend == nil:
		// --backend rules: the rules alone.
	default:
		// A model answers: the offline baseline votes beside the rules, so
		// that the two together can catch a wrong model.
		m, err := loadBaselineModel(s)
		if err != nil {
			return nil, err
		}
		if cfg.Voter = baseline.Voter(m, tm, eng); cfg.Voter != nil {
			p.baseline = m
			p.choice += "; the offline baseline votes beside it"
		}
	}
	for _, m := range mutate {
		m(&cfg)
	}
	if p.screener, err = screener.New(cfg); err != nil {
		return nil, fmt.Errorf("build screener: %w", err)
	}
	return p, nil
}
