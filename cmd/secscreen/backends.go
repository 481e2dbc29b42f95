package main

import (
	"cmp"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/auto"
	"github.com/secscreen/secscreen/screener/baseline"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// settingFlags are the flags of config's settings in group g, named,
// typed, defaulted and explained as config.Table says, with the variable
// that stands for each in its help: config.Resolve reads the variables
// itself (flags > environment > file), so the flags do not.
func settingFlags(g config.Group) []cli.Flag {
	var flags []cli.Flag
	for _, st := range config.Table() {
		if st.Flag == "" || st.Group != g {
			continue
		}
		n, a, u, dt := st.Flag, st.Aliases, st.Usage, st.DefaultText
		if st.Env != "" {
			u += " [$" + st.Env + "]"
		}
		switch v := cmp.Or(intakeDefaults[n], st.Default).(type) {
		case string:
			flags = append(flags, &cli.StringFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		case bool:
			flags = append(flags, &cli.BoolFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		case int:
			flags = append(flags, &cli.IntFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		case int64:
			flags = append(flags, &cli.Int64Flag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		case float64:
			flags = append(flags, &cli.Float64Flag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		case time.Duration:
			flags = append(flags, &cli.DurationFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		default:
			panic("no flag type for --" + n) // TestGeneratedFlagsAgreeWithResolve catches it
		}
	}
	return flags
}

// intakeDefaults are the limits the settings' 0 stands for, shown as the
// flags' defaults.
var intakeDefaults = map[string]any{"max-message-bytes": intake.DefaultMaxMessageBytes, "max-attachment-bytes": intake.DefaultMaxAttachmentBytes}

// inputFlags are the flags that control reading reports.
func inputFlags() []cli.Flag {
	return append([]cli.Flag{&cli.StringFlag{Name: "input-format", Value: "auto",
		Usage: "input `KIND`: auto (detect from content), email, mbox, maildir, jsonl, text"}}, settingFlags(config.InputGroup)...)
}

// pipelineFlags are the flags that build the screener: threat model,
// rules, and the settings' model and run options. A flag of own replaces
// the setting's flag of the same name (eval's --corpus is the corpus it
// scores, not only the one --shots picks from).
func pipelineFlags(own ...cli.Flag) []cli.Flag {
	flags := append([]cli.Flag{threatModelFlag, rulesFlag, seriesFlag}, settingFlags(config.ScreeningGroup)...)
	for _, f := range own {
		i := slices.IndexFunc(flags, func(g cli.Flag) bool { return g.Names()[0] == f.Names()[0] })
		if i < 0 {
			flags = append(flags, f)
		} else {
			flags[i] = f
		}
	}
	return flags
}

// resolveSettings merges the flags given on the command line with the
// environment and the config file (config.Resolve), once per command.
func resolveSettings(c *cli.Context) (config.Settings, error) {
	given := map[string]any{}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if c.IsSet(name) {
			given[name] = c.Value(name)
		}
	}
	s, err := config.Resolve(config.Input{Flags: given})
	if err != nil {
		return config.Settings{}, usageErr("%w", err)
	}
	return s, nil
}

// modelBackend is the classifier the settings choose: a language model's
// transport (Backend) with its prompt, the offline baseline in its place
// (baseline), or neither (the rules alone).
type modelBackend struct {
	auto.Built
	prompt *prompts.Template
	// baseline is the offline classifier's model when it answers in the
	// model's place; nil otherwise.
	baseline *baseline.Model
	// evalCache keeps the rules' evaluations beside the reply cache; nil
	// when there is no reply cache.
	evalCache *screener.EvalCache
}

// newModelBackend builds the backend the settings name (auto.Build).
func newModelBackend(c *cli.Context, s config.Settings) (*modelBackend, error) {
	logger := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))
	built, err := auto.Build(c.Context, s, auto.BuildOptions{Logger: logger, Offline: baseline.Name})
	var ce *config.Error
	if errors.As(err, &ce) {
		return nil, usageErr("%w", err)
	} else if err != nil {
		return nil, err
	}
	mb := &modelBackend{Built: built}
	// The prompt is checked whatever answers: a wrong one in the config
	// file is an error even on a run that renders none.
	if mb.prompt, err = prompts.Resolve(s.Prompt); err != nil {
		return nil, usageErr("%w", s.Errorf("prompt", "%w", err))
	}
	if built.Offline {
		if mb.baseline, err = loadBaselineModel(s); err != nil {
			return nil, err
		}
		mb.Choice.Model = mb.baseline.Name()
		if s.Backend == baseline.Name {
			mb.Description = "baseline (offline classifier " + mb.baseline.Name() + ")"
		}
		return mb, nil
	}
	if built.Backend == nil {
		return mb, nil
	}
	if built.CacheDir != "" {
		mb.evalCache = newEvalCache(c, built.CacheDir)
	}
	return mb, nil
}

// configure copies the settings a screener takes into cfg and sets its
// classifier: the offline baseline, or the language model behind b with
// the prompt (nil b: the rules alone).
func (mb *modelBackend) configure(c *cli.Context, s config.Settings, cfg *screener.Config) error {
	cfg.SkipModelWhenDecisive = s.SkipModelWhenDecisive
	cfg.Concurrency = s.Concurrency
	cfg.EvalCache = mb.evalCache
	switch {
	case mb.baseline != nil:
		cfg.Classifier = baseline.NewClassifier(mb.baseline, cfg.Rules)
	case mb.Backend != nil:
		llm, err := newLLM(c, s, mb.Backend, mb.prompt, cfg.ThreatModel)
		if err != nil {
			return err
		}
		cfg.Classifier = llm
	}
	return nil
}

// newLLM is the language-model classifier over b with the settings' body
// limit, seed and few-shot examples.
func newLLM(c *cli.Context, s config.Settings, b backend.Backend, p *prompts.Template, tm *threatmodel.Model) (*screener.LLM, error) {
	lc := screener.LLMConfig{Backend: b, Prompt: p, ThreatModel: tm, MaxBodyChars: s.BodyChars, Seed: s.Seed}
	if s.Shots > 0 {
		if s.ShotsCorpus == "" {
			return nil, usageErr("--shots needs --corpus DIR")
		}
		pick, err := shotsFromCorpus(c, s.ShotsCorpus, s.Shots)
		if err != nil {
			return nil, err
		}
		lc.Shots = pick
	}
	return screener.NewLLM(lc)
}

// loadBaselineModel returns the offline classifier's model: the settings'
// --baseline-model FILE, or the model embedded at build time.
func loadBaselineModel(s config.Settings) (*baseline.Model, error) {
	if s.BaselineModel == "" {
		return baseline.Embedded()
	}
	m, err := baseline.LoadModelFile(s.BaselineModel)
	if err != nil {
		return nil, usageErr("baseline model: %w", err)
	}
	return m, nil
}

// newEvalCache is the cache of the rules' evaluations kept beside the
// reply cache in dir, or nil when the rules in force cannot be
// fingerprinted.
func newEvalCache(c *cli.Context, dir string) *screener.EvalCache {
	fp := rulesFingerprint(c)
	if fp == "" {
		return nil
	}
	return screener.NewEvalCache(filepath.Join(dir, "rules"), fp)
}

// rulesFingerprint is screener.RulesFingerprint of the files the flags
// name.
func rulesFingerprint(c *cli.Context) string {
	var files []screener.RulesFile
	for _, f := range []*cli.StringFlag{threatModelFlag, rulesFlag, seriesFlag} {
		files = append(files, screener.RulesFile{Flag: f.Name, Path: c.String(f.Name)})
	}
	return screener.RulesFingerprint(files...)
}
