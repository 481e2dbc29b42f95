package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Flags shared by the commands that load a threat model and rules.
var (
	threatModelFlag = &cli.StringFlag{
		Name:    "threat-model",
		Usage:   "threat model `FILE` (kernel RST, Markdown or YAML); default: the built-in kernel model",
		EnvVars: []string{"SECSCREEN_THREAT_MODEL"},
	}
	rulesFlag = &cli.StringFlag{
		Name:  "rules",
		Usage: "rule `FILE` (YAML) that adds rules to the threat model's rule pack or overrides them by id",
	}
	seriesFlag = &cli.StringFlag{
		Name:  "series",
		Usage: "maintained kernel series `FILE` (YAML) replacing the built-in list",
	}
)

// loadThreatModel returns the model named by --threat-model, or the
// built-in kernel model.
func loadThreatModel(c *cli.Context) (*threatmodel.Model, error) {
	path := c.String(threatModelFlag.Name)
	if path == "" {
		return threatmodel.Kernel(), nil
	}
	tm, err := threatmodel.Load(path)
	if err != nil {
		return nil, usageErr("threat model: %w", err)
	}
	return tm, nil
}

// loadThreatModelAndRules loads the threat model and builds the rule
// engine against it, as every command that reads reports needs both.
func loadThreatModelAndRules(c *cli.Context) (*threatmodel.Model, *rules.Engine, error) {
	tm, err := loadThreatModel(c)
	if err != nil {
		return nil, nil, err
	}
	eng, err := loadRules(c, tm)
	if err != nil {
		return nil, nil, err
	}
	return tm, eng, nil
}

// loadRules builds the rule engine from the threat model's rule pack (see
// rules.PackFor), --rules and --series. A model other than the built-in
// one gets a note on standard error saying which pack it screens with.
func loadRules(c *cli.Context, tm *threatmodel.Model) (*rules.Engine, error) {
	set, note, err := rules.PackFor(tm)
	if err != nil {
		return nil, usageErr("rules: %w", err)
	}
	if tm.Source != "built-in" {
		fmt.Fprintf(c.App.ErrWriter, "rules: %s\n", note)
	}
	if path := c.String(rulesFlag.Name); path != "" {
		extra, err := rules.LoadFile(path)
		if err != nil {
			return nil, usageErr("rules: %w", err)
		}
		set = set.Merge(extra)
	}
	var opt rules.Options
	if path := c.String(seriesFlag.Name); path != "" {
		series, err := rules.LoadSeries(path)
		if err != nil {
			return nil, usageErr("series: %w", err)
		}
		opt.Series = series
	}
	eng, err := rules.NewEngine(tm, set, opt)
	if err != nil {
		return nil, usageErr("rules: %w", err)
	}
	return eng, nil
}
