package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/auto"
	"github.com/secscreen/secscreen/screener/backend/baseline"
	"github.com/secscreen/secscreen/screener/backend/ollama"
	"github.com/secscreen/secscreen/screener/backend/openai"
	"github.com/secscreen/secscreen/screener/intake"
)

// defaultBackend is used when neither a flag, its environment variable nor
// the config file names a backend.
const defaultBackend = "auto"

// backendFlags choose and configure the model backend. Precedence: a flag
// on the command line, then its environment variable, then the config file,
// then the default.
func backendFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Usage: "config `FILE` (default $XDG_CONFIG_HOME/secscreen/config.yaml)", EnvVars: []string{"SECSCREEN_CONFIG"}},
		&cli.StringFlag{Name: "backend", Aliases: []string{"b"}, Value: defaultBackend, EnvVars: []string{"SECSCREEN_BACKEND"},
			Usage: "`NAME`: auto (stays on this machine: Ollama on loopback, else an OpenAI-compatible server at a loopback --base-url, else baseline), rules, baseline, openai, ollama"},
		&cli.StringFlag{Name: "model", Aliases: []string{"m"}, EnvVars: []string{"SECSCREEN_MODEL"}, Usage: "model `NAME` for openai or ollama"},
		&cli.StringFlag{Name: "base-url", EnvVars: []string{"OPENAI_BASE_URL"}, Usage: "OpenAI-compatible API root `URL` (vLLM, llama.cpp, LM Studio, OpenRouter, Ollama's /v1)"},
		&cli.StringFlag{Name: "api-key-env", Usage: "environment variable `NAME` holding the API key (default OPENAI_API_KEY); the key itself is never a flag"},
		&cli.StringFlag{Name: "ollama-host", Usage: "Ollama server `URL` (default $OLLAMA_HOST, else http://localhost:11434)"},
		&cli.StringFlag{Name: "baseline-model", Usage: "baseline model `FILE` from 'secscreen train' (default: the embedded one)"},
		&cli.StringFlag{Name: "prompt", Usage: "prompt template: NAME@VERSION (e.g. screen@v1) or a template `FILE`"},
		&cli.DurationFlag{Name: "timeout", Usage: "bound on one model call, retries excluded", DefaultText: "2m for openai, 5m for ollama"},
		&cli.IntFlag{Name: "retries", Value: 3, Usage: "retries after a 429, 5xx or timeout (with backoff, honouring Retry-After)"},
		&cli.Float64Flag{Name: "rps", Usage: "most model calls per second (0: no limit)"},
		&cli.IntFlag{Name: "burst", Value: 1, Usage: "calls allowed at once above --rps"},
		&cli.StringFlag{Name: "cache", Usage: "reply cache `DIR` (default: the user cache dir)"},
		&cli.BoolFlag{Name: "no-cache", Usage: "neither read nor write the reply cache"},
		&cli.BoolFlag{Name: "offline", Usage: "replay model answers from the cache only; a miss is an error row"},
		&cli.IntFlag{Name: "max-body-chars", Value: 60000, Usage: "most report characters sent to a model (0: no limit); longer reports are cut with a marker"},
		&cli.IntFlag{Name: "seed", Value: 42, Usage: "sampling seed sent to the model"},
		&cli.BoolFlag{Name: "skip-model-when-rules-decide", Usage: "do not ask the model when the rules alone are decisive (counted as saved calls)"},
		&cli.IntFlag{Name: "shots", Usage: "few-shot examples from --corpus shown to the model (never the report itself)"},
		&cli.StringFlag{Name: "corpus", Usage: "labeled corpus `DIR` for --shots"},
	}
}

// settings are the backend options after flags, environment and the
// config file were merged.
type settings struct {
	backend, model, baseURL, keyEnv, ollamaHost, prompt, cacheDir, cacheMode string
	timeout                                                                  time.Duration
	rps                                                                      float64
	burst, concurrency, bodyChars                                            int
	prices                                                                   backend.PriceTable
}

// loadSettings merges the command line (and its environment variables)
// over the config file.
func loadSettings(c *cli.Context) (settings, error) {
	file, err := loadConfigFile(c)
	if err != nil {
		return settings{}, err
	}
	// A flag given on the command line or through a non-empty environment
	// variable wins; then the file; then the flag's default.
	str := func(flag, fromFile string) string {
		if v := c.String(flag); c.IsSet(flag) && v != "" {
			return v
		}
		if fromFile != "" {
			return fromFile
		}
		return c.String(flag)
	}
	s := settings{
		backend:    cmp.Or(str("backend", file.Backend), defaultBackend),
		model:      str("model", file.Model),
		baseURL:    str("base-url", file.BaseURL),
		keyEnv:     str("api-key-env", file.APIKeyEnv),
		ollamaHost: str("ollama-host", file.OllamaHost),
		prompt:     str("prompt", file.Prompt),
		cacheDir:   str("cache", file.CacheDir),
		cacheMode:  file.Cache,
		timeout:    c.Duration("timeout"),
		rps:        c.Float64("rps"),
		burst:      c.Int("burst"),
		bodyChars:  c.Int("max-body-chars"),
		prices:     file.Prices,
	}
	if !c.IsSet("timeout") && file.Timeout > 0 {
		s.timeout = file.Timeout
	}
	if !c.IsSet("rps") && file.RPS > 0 {
		s.rps = file.RPS
	}
	if !c.IsSet("burst") && file.Burst > 0 {
		s.burst = file.Burst
	}
	if !c.IsSet("max-body-chars") && file.Limits.BodyChars > 0 {
		s.bodyChars = file.Limits.BodyChars
	}
	if !c.IsSet("concurrency") && file.Concurrency > 0 {
		s.concurrency = file.Concurrency
	}
	switch {
	case c.Bool("offline") && c.Bool("no-cache"):
		return settings{}, usageErr("--offline replays the cache; it cannot go with --no-cache")
	case c.Bool("offline"):
		s.cacheMode = "offline"
	case c.Bool("no-cache"):
		s.cacheMode = "off"
	}
	return s, nil
}

// modelBackend is the chosen classifier with its prompt and how it was
// chosen: a language model's transport (backend), the offline baseline in
// its place (baseline), or neither (rules only).
type modelBackend struct {
	// backend is the model's transport, wrapped with cache, retries and
	// rate limit; nil for the baseline and for rules only.
	backend backend.Backend
	// baseline is the offline classifier's model when it answers in the
	// model's place; nil otherwise.
	baseline *baseline.Model
	prompt   *prompts.Template
	choice   string
	model    string
	prices   backend.PriceTable
	set      settings
	// shots picks the few-shot examples of --shots; nil without.
	shots func() (func(*intake.Report) []prompts.Shot, error)
	// evalCache keeps the rules' evaluations beside the reply cache, in
	// cacheRoot; nil when there is no reply cache.
	evalCache *screener.EvalCache
	cacheRoot string
}

// configure copies the model options into the screener's config and sets
// its classifier.
func (m *modelBackend) configure(c *cli.Context, cfg *screener.Config) error {
	cfg.SkipModelWhenDecisive = c.Bool("skip-model-when-rules-decide")
	cfg.EvalCache = m.evalCache
	if m.set.concurrency > 0 {
		cfg.Concurrency = m.set.concurrency
	}
	switch {
	case m.baseline != nil:
		cfg.Classifier = baseline.NewClassifier(m.baseline, cfg.Rules)
	case m.backend != nil:
		lc := screener.LLMConfig{Backend: m.backend, Prompt: m.prompt, ThreatModel: cfg.ThreatModel,
			MaxBodyChars: m.set.bodyChars, Seed: c.Int("seed")}
		if m.shots != nil {
			pick, err := m.shots()
			if err != nil {
				return err
			}
			lc.Shots = pick
		}
		llm, err := screener.NewLLM(lc)
		if err != nil {
			return err
		}
		cfg.Classifier = llm
	}
	return nil
}

// newModelBackend builds the backend named by --backend (or the config
// file) and wraps it with retries, rate limit and cache.
func newModelBackend(c *cli.Context) (*modelBackend, error) {
	s, err := loadSettings(c)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mb := &modelBackend{set: s, prices: s.prices}
	var b backend.Backend
	switch s.backend {
	case "rules":
		mb.choice = "rules (no model)"
		return mb, nil
	case "baseline":
		if mb.baseline, err = loadBaselineModel(c); err != nil {
			return nil, err
		}
		mb.choice = "baseline (offline classifier " + mb.baseline.Name() + ")"
	case "openai":
		key := os.Getenv(keyEnvName(s.keyEnv))
		if key == "" && s.baseURL == "" && s.cacheMode != "offline" {
			return nil, usageErr("backend openai: set %s, or --base-url for a server that needs no key", keyEnvName(s.keyEnv))
		}
		model := s.model
		if model == "" && s.baseURL == "" {
			model = openai.DefaultModel
		}
		oc, err := openai.New(openai.Config{BaseURL: s.baseURL, APIKey: key, Model: model, Timeout: s.timeout, Logger: logger})
		if err != nil {
			return nil, usageErr("backend openai: %w", err)
		}
		b = oc
		mb.choice = fmt.Sprintf("openai (%s at %s)", oc.Model(), oc.BaseURL())
	case "ollama":
		if s.model == "" {
			return nil, usageErr("backend ollama: name a model with --model (e.g. llama3.1:8b)")
		}
		oc, err := ollama.New(ollama.Config{Host: s.ollamaHost, Model: s.model, Timeout: s.timeout, Logger: logger})
		if err != nil {
			return nil, usageErr("backend ollama: %w", err)
		}
		b = oc
		mb.choice = fmt.Sprintf("ollama (%s at %s)", oc.Model(), oc.Host())
	case "auto":
		if s.cacheMode == "offline" {
			// Replaying contacts no server, so there is nothing to probe;
			// the cached answers of a named backend need that backend.
			if mb.baseline, err = loadBaselineModel(c); err != nil {
				return nil, err
			}
			mb.choice = "auto: baseline (--offline contacts no server; name --backend openai or ollama with --model to replay their cached answers)"
			break
		}
		sel, choice, err := auto.Select(c.Context, auto.Options{
			OllamaHost: s.ollamaHost, OllamaModel: s.model, Model: s.model, BaseURL: s.baseURL,
			APIKeyEnv: s.keyEnv, Timeout: s.timeout, Logger: logger, SkipOllama: c.IsSet("base-url"),
			Offline: baseline.Name,
		})
		if err != nil {
			return nil, fmt.Errorf("choose a backend: %w", err)
		}
		b = sel
		mb.choice = fmt.Sprintf("auto: %s (%s)", choice.Backend, choice.Reason)
		if sel == nil && choice.Backend == baseline.Name {
			if mb.baseline, err = loadBaselineModel(c); err != nil {
				return nil, fmt.Errorf("choose a backend: auto: building the offline backend: %w", err)
			}
		}
	default:
		return nil, usageErr("unknown backend %q (want auto, rules, baseline, openai or ollama)", s.backend)
	}
	if mb.baseline != nil {
		// A local classifier: no prompt, and nothing to save by caching it.
		mb.model = mb.baseline.Name()
		return mb, nil
	}
	if b == nil {
		return mb, nil // auto found nothing: rules only
	}
	mb.model = b.Model()

	if mb.prompt, err = prompts.Resolve(s.prompt); err != nil {
		return nil, usageErr("prompt: %w", err)
	}
	layers := backend.Layers{
		Retry: backend.RetryPolicy{MaxAttempts: c.Int("retries") + 1, OnRetry: func(attempt int, d time.Duration, err error) {
			logger.Warn("retrying model call", "attempt", attempt, "wait", d.Round(time.Millisecond), "error", err)
		}},
		RPS: s.rps, Burst: s.burst,
	}
	mode, err := backend.ParseCacheMode(s.cacheMode)
	if err != nil {
		return nil, usageErr("cache: %w", err)
	}
	layers.Cache = &backend.Cache{Dir: s.cacheDir, Mode: mode, Logger: logger}
	if mode != backend.CacheDisabled {
		mb.cacheRoot = cacheRoot(s.cacheDir)
		if mb.cacheRoot != "" {
			mb.evalCache = newEvalCache(c, mb.cacheRoot)
		}
	}
	mb.backend = backend.Wrap(b, layers)
	if n := c.Int("shots"); n > 0 {
		dir := c.String("corpus")
		if dir == "" {
			return nil, usageErr("--shots needs --corpus DIR")
		}
		mb.shots = func() (func(*intake.Report) []prompts.Shot, error) { return shotsFromCorpus(c, dir, n) }
	}
	return mb, nil
}

func keyEnvName(name string) string {
	if name == "" {
		return auto.DefaultAPIKeyEnv
	}
	return name
}
