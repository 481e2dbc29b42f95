package main

import (
	"errors"
	"log/slog"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/auto"
	"github.com/secscreen/secscreen/screener/baseline"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// withEnv names the environment variable that stands for a flag in its
// help. config.Resolve reads the variables itself (flags > environment >
// file), so the flags do not.
func withEnv(flag, usage string) string {
	if v := config.EnvVar(flag); v != "" {
		return usage + " [$" + v + "]"
	}
	return usage
}

// backendFlags choose and configure the model backend; see config.Resolve
// for how they merge with the environment and the config file.
func backendFlags() []cli.Flag {
	d := config.Defaults()
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Usage: withEnv("config", "config `FILE` (default $XDG_CONFIG_HOME/secscreen/config.yaml)")},
		&cli.StringFlag{Name: "backend", Aliases: []string{"b"}, Value: d.Backend,
			Usage: withEnv("backend", "`NAME`: auto (stays on this machine: Ollama on loopback, else an OpenAI-compatible server at a loopback --base-url, else baseline), rules, baseline, openai, ollama")},
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: withEnv("model", "model `NAME` for openai or ollama")},
		&cli.StringFlag{Name: "base-url", Usage: withEnv("base-url", "OpenAI-compatible API root `URL` (vLLM, llama.cpp, LM Studio, OpenRouter, Ollama's /v1)")},
		&cli.StringFlag{Name: "api-key-env", Usage: "environment variable `NAME` holding the API key (default OPENAI_API_KEY); the key itself is never a flag"},
		&cli.StringFlag{Name: "ollama-host", Usage: "Ollama server `URL` (default $OLLAMA_HOST, else http://localhost:11434)"},
		&cli.StringFlag{Name: "baseline-model", Usage: "baseline model `FILE` from 'secscreen train' (default: the embedded one)"},
		&cli.StringFlag{Name: "prompt", Usage: "prompt template: NAME@VERSION (e.g. screen@v1) or a template `FILE`"},
		&cli.DurationFlag{Name: "timeout", Usage: "bound on one model call, retries excluded", DefaultText: "2m for openai, 5m for ollama"},
		&cli.IntFlag{Name: "retries", Value: d.Retries, Usage: "retries after a 429, 5xx or timeout (with backoff, honouring Retry-After)"},
		&cli.Float64Flag{Name: "rps", Usage: "most model calls per second (0: no limit)"},
		&cli.IntFlag{Name: "burst", Value: d.Burst, Usage: "calls allowed at once above --rps"},
		&cli.StringFlag{Name: "cache", Usage: "reply cache `DIR` (default: the user cache dir)"},
		&cli.BoolFlag{Name: "no-cache", Usage: "neither read nor write the reply cache"},
		&cli.BoolFlag{Name: "offline", Usage: "replay model answers from the cache only; a miss is an error row"},
		&cli.IntFlag{Name: "max-body-chars", Value: d.BodyChars, Usage: "most report characters sent to a model (0: no limit); longer reports are cut with a marker"},
		&cli.IntFlag{Name: "seed", Value: d.Seed, Usage: "sampling seed sent to the model"},
		&cli.BoolFlag{Name: "skip-model-when-rules-decide", Usage: "do not ask the model when the rules alone are decisive (counted as saved calls)"},
		&cli.IntFlag{Name: "shots", Usage: "few-shot examples from --corpus shown to the model (never the report itself)"},
	}
}

// shotsCorpusFlag is the corpus --shots picks from; eval has its own
// --corpus (the corpus it scores, whose dev split also gives the shots).
var shotsCorpusFlag = &cli.StringFlag{Name: "corpus", Usage: "labeled corpus `DIR` for --shots"}

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
