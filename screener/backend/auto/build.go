package auto

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/ollama"
	"github.com/secscreen/secscreen/screener/backend/openai"
	"github.com/secscreen/secscreen/screener/config"
)

// BuildOptions are what Build needs besides the settings. Every field is
// optional.
type BuildOptions struct {
	// Getenv reads environment variables (the API key); nil means
	// os.Getenv.
	Getenv func(string) string
	// HTTPClient is passed to a model server's client.
	HTTPClient *http.Client
	// Logger receives the clients' warnings and the retries; nil discards
	// them.
	Logger *slog.Logger
	// Offline names the offline classifier (the baseline), chosen by
	// --backend baseline and as auto's fallback. It is not a transport, so
	// Build does not make it: Built.Offline tells the caller to. "" makes
	// --backend baseline an error and auto fall back to the rules alone.
	Offline string
}

// Built is a backend ready to screen with.
type Built struct {
	// Backend answers, wrapped with retries, the rate limit and, for a
	// model server, the reply cache (backend.Wrap). Nil means the offline
	// classifier (when Offline is set) or the rules alone.
	Backend backend.Backend
	// Offline says the offline classifier named by BuildOptions.Offline
	// answers; the caller builds it.
	Offline bool
	// Choice says what answers and why.
	Choice Choice
	// Description is the one-line account of the choice for a run's
	// summary, e.g. "openai (gpt-4o-mini at https://api.openai.com/v1)".
	Description string
	// CacheDir is the reply cache's directory when replies are cached
	// (read, written or replayed); "" otherwise.
	CacheDir string
}

// Build makes the backend the settings name: the one factory behind every
// command, so that openai, ollama and auto are configured alike wherever
// they are used. Errors in the settings are *config.Error naming the flag,
// variable or file the value came from; a failure to build what auto
// picked is a plain error.
func Build(ctx context.Context, s config.Settings, o BuildOptions) (Built, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	keyEnv := s.APIKeyEnv
	if keyEnv == "" {
		keyEnv = DefaultAPIKeyEnv
	}
	var (
		b   backend.Backend
		ch  Choice
		err error
	)
	var out Built
	switch s.Backend {
	case "rules":
		return Built{Choice: Choice{Backend: "rules", Reason: "--backend rules"}, Description: "rules (no model)"}, nil
	case "baseline":
		if o.Offline == "" {
			return Built{}, errors.New("no offline classifier is available")
		}
		return Built{Offline: true, Choice: Choice{Backend: o.Offline, Reason: "as configured"}, Description: o.Offline + " (offline classifier)"}, nil
	case "openai":
		key := getenv(keyEnv)
		if key == "" && s.BaseURL == "" && s.Cache != backend.CacheOffline {
			return Built{}, s.Errorf("backend", "openai needs an API key: set %s, or --base-url for a server that needs no key", keyEnv)
		}
		if s.Model == "" && s.BaseURL != "" {
			return Built{}, s.Errorf("backend", "openai at %s needs a model: name one with --model", backend.ServerOf(s.BaseURL))
		}
		oc, err := newOpenAI(s.BaseURL, key, s.Model, s.Timeout, o.HTTPClient, logger)
		if err != nil { // the base URL is malformed
			return Built{}, s.Errorf("base_url", "%w", err)
		}
		b, ch = oc, Choice{Backend: "openai", Model: oc.Model(), Where: oc.BaseURL(), Reason: "as configured"}
		out.Description = fmt.Sprintf("openai (%s at %s)", oc.Model(), oc.BaseURL())
	case "ollama":
		if s.Model == "" {
			return Built{}, s.Errorf("backend", "ollama needs a model: name one with --model (e.g. llama3.1:8b)")
		}
		oc, err := ollama.New(ollama.Config{Host: s.OllamaHost, Getenv: getenv, Model: s.Model, Timeout: s.Timeout, HTTPClient: o.HTTPClient, Logger: logger})
		if err != nil {
			return Built{}, s.Errorf("backend", "%w", err)
		}
		b, ch = oc, Choice{Backend: "ollama", Model: oc.Model(), Where: oc.Host(), Reason: "as configured"}
		out.Description = fmt.Sprintf("ollama (%s at %s)", oc.Model(), oc.Host())
	case "auto":
		if s.Cache == backend.CacheOffline {
			// Replaying contacts no server, so there is nothing to probe;
			// the cached answers of a named backend need that backend.
			if o.Offline == "" {
				return Built{}, errors.New("no offline classifier is available")
			}
			return Built{Offline: true, Choice: Choice{Backend: o.Offline, Reason: "--offline contacts no server"},
				Description: "auto: " + o.Offline + " (--offline contacts no server; name --backend openai or ollama with --model to replay their cached answers)"}, nil
		}
		b, ch, err = Select(ctx, Options{
			Getenv: getenv, OllamaHost: s.OllamaHost, OllamaModel: s.Model, Model: s.Model, BaseURL: s.BaseURL,
			APIKeyEnv: s.APIKeyEnv, Timeout: s.Timeout, HTTPClient: o.HTTPClient, Logger: logger,
			// A base URL given on purpose (a flag or its variable, not
			// the file's standing default) goes before a local Ollama.
			SkipOllama: s.Source("base_url").Kind >= config.FromEnv,
			Offline:    o.Offline,
		})
		if err != nil {
			return Built{}, fmt.Errorf("choose a backend: %w", err)
		}
		out.Description = fmt.Sprintf("auto: %s (%s)", ch.Backend, ch.Reason)
		if b == nil {
			out.Choice = ch
			out.Offline = o.Offline != "" && ch.Backend == o.Offline
			return out, nil
		}
	default:
		// Settings made by hand skip Resolve's check: the same error.
		_, err := config.ParseBackend(s.Backend)
		if err == nil {
			err = fmt.Errorf("backend %q has no factory", s.Backend)
		}
		return Built{}, s.Errorf("backend", "%w", err)
	}

	// A backend that sends reports to a server (backend.Remote) is worth
	// caching; a classifier on this machine is not.
	ch.Remote = backend.DestinationOf(b) != ""
	layers := backend.Layers{
		Retry: backend.RetryPolicy{MaxAttempts: s.Retries + 1, OnRetry: func(attempt int, d time.Duration, err error) {
			logger.Warn("retrying model call", "attempt", attempt, "wait", d.Round(time.Millisecond), "error", err)
		}},
		RPS: s.RPS, Burst: s.Burst,
	}
	if ch.Remote {
		layers.Cache = &backend.Cache{Dir: s.CacheDir, Mode: s.Cache, Logger: logger}
		if s.Cache != backend.CacheDisabled {
			out.CacheDir = s.CacheDir
			if out.CacheDir == "" {
				out.CacheDir, _ = backend.DefaultCacheDir()
			}
		}
	}
	out.Backend, out.Choice = backend.Wrap(b, layers), ch
	return out, nil
}

// newOpenAI builds the client for an OpenAI-compatible server. Without a
// base URL it is OpenAI's own API, whose model defaults to
// openai.DefaultModel; another server's model must be named.
func newOpenAI(baseURL, key, model string, timeout time.Duration, client *http.Client, logger *slog.Logger) (*openai.Client, error) {
	if model == "" && baseURL == "" {
		model = openai.DefaultModel
	}
	return openai.New(openai.Config{BaseURL: baseURL, APIKey: key, Model: model, Timeout: timeout, HTTPClient: client, Logger: logger})
}
