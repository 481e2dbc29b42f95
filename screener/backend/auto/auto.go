// Package auto picks a model backend from what this machine offers, so that
// `secscreen screen` works without flags wherever it can, and never sends a
// report off the machine unasked: reports are often embargoed
// vulnerabilities, and a key that happens to be in the environment is no
// consent to ship them to a hosted provider.
//
//  1. a local Ollama server, if OLLAMA_HOST (or the configured host) is on
//     this machine (loopback), answers, and has a model to use;
//  2. else an OpenAI-compatible server, if a base URL on this machine is
//     configured (llama.cpp, vLLM or LM Studio on localhost); its key
//     variable (OPENAI_API_KEY unless configured otherwise) is passed on;
//  3. else the caller's offline fallback (the baseline, which the caller
//     builds: it is no transport), or no model at all (rules only).
//
// A remote Ollama host, a remote base URL or an API key alone is passed
// over with a note saying how to use it on purpose (--backend openai or
// ollama, or the config file's backend entry). Remote hosts are not even
// probed.
//
// The Choice it returns says what was picked and why, in words fit for a
// log line or a report header.
//
// Usage:
//
//	b, choice, err := auto.Select(ctx, auto.Options{Offline: "baseline"})
//	log.Printf("backend: %s (%s)", choice.Backend, choice.Reason)
//	if b == nil && choice.Backend == "baseline" { /* build the baseline */ }
//	if b == nil && choice.Backend == "rules" { /* rules only */ }
package auto

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/ollama"
)

// DefaultAPIKeyEnv is the variable read for the API key unless
// Options.APIKeyEnv names another.
const DefaultAPIKeyEnv = "OPENAI_API_KEY"

// Options configures Select. Every field is optional.
type Options struct {
	// Getenv reads environment variables; nil means os.Getenv.
	Getenv func(string) string
	// OllamaHost overrides OLLAMA_HOST.
	OllamaHost string
	// OllamaModel is the Ollama model. When empty, Model is used if the
	// server has it, else the first model the server lists.
	OllamaModel string
	// Model is the model for an OpenAI-compatible server.
	Model string
	// BaseURL is an OpenAI-compatible server's API root; setting it
	// selects that server even without a key (local servers need none).
	BaseURL string
	// APIKeyEnv names the variable holding the API key
	// (default DefaultAPIKeyEnv).
	APIKeyEnv string
	// Timeout bounds one model call (each backend's default when 0).
	Timeout time.Duration
	// HTTPClient is passed to the chosen backend.
	HTTPClient *http.Client
	// Logger is passed to the chosen backend.
	Logger *slog.Logger
	// SkipOllama leaves Ollama out, e.g. when a base URL was given on the
	// command line.
	SkipOllama bool
	// Offline names the offline classifier to fall back on when no model
	// server is available (e.g. "baseline"); Select does not build it, it
	// names it in Choice.Backend. Empty means no fallback (rules only).
	Offline string
}

// Choice reports what Select picked.
type Choice struct {
	// Backend is "ollama", "openai", Options.Offline when falling back to
	// it, or "rules" when there is no backend at all.
	Backend string
	// Model is the model to be used ("" for rules only).
	Model string
	// Where is the server's URL, if any.
	Where string
	// Remote says the backend sends reports to a server (it implements
	// backend.Remote): report text leaves the process, and its replies are
	// worth caching. The offline classifier and the rules are not remote.
	Remote bool
	// Reason explains the pick and what was passed over, in one line.
	Reason string
}

// Select probes for a backend in the order the package doc gives. It
// returns a nil Backend with a nil error when no model server is available:
// Choice.Backend is then Options.Offline for the caller to build, or
// "rules". Errors come only from building a backend that was picked (a
// malformed base URL, say), never from a failed probe.
func Select(ctx context.Context, opts Options) (backend.Backend, Choice, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var passed []string

	if !opts.SkipOllama {
		b, ch, note := tryOllama(ctx, opts, getenv)
		if b != nil {
			return b, ch, nil
		}
		passed = append(passed, note)
	}

	keyEnv := opts.APIKeyEnv
	if keyEnv == "" {
		keyEnv = DefaultAPIKeyEnv
	}
	key := getenv(keyEnv)
	switch {
	case opts.BaseURL != "" && !backend.IsLoopback(opts.BaseURL):
		passed = append(passed, fmt.Sprintf("base URL %s is not on this machine (auto keeps reports here: use --backend openai to send them there)", backend.ServerOf(opts.BaseURL)))
	case opts.BaseURL != "":
		model := opts.Model
		c, err := newOpenAI(opts.BaseURL, key, model, opts.Timeout, opts.HTTPClient, opts.Logger)
		if err != nil {
			return nil, Choice{}, fmt.Errorf("auto: %w", err)
		}
		why := "a base URL on this machine is configured"
		if key != "" {
			why += " (with the key in " + keyEnv + ")"
		}
		return c, Choice{
			Backend: "openai", Model: model, Where: c.BaseURL(), Remote: backend.DestinationOf(c) != "",
			Reason: join(passed, why),
		}, nil
	case key != "":
		passed = append(passed, keyEnv+" is set, but auto never sends reports to a hosted provider (use --backend openai for that)")
	default:
		passed = append(passed, "no local OpenAI-compatible base URL")
	}

	if opts.Offline != "" {
		return nil, Choice{Backend: opts.Offline, Reason: join(passed, "using the offline backend")}, nil
	}
	return nil, Choice{Backend: "rules", Reason: join(passed, "screening with rules only")}, nil
}

// tryOllama returns an Ollama backend, or nil and a note saying why not.
func tryOllama(ctx context.Context, opts Options, getenv func(string) string) (backend.Backend, Choice, string) {
	cfg := ollama.Config{
		Host: opts.OllamaHost, Getenv: getenv, Model: "probe",
		Timeout: opts.Timeout, HTTPClient: opts.HTTPClient, Logger: opts.Logger,
	}
	probe, err := ollama.New(cfg)
	if err != nil {
		return nil, Choice{}, fmt.Sprintf("Ollama host unusable (%v)", err)
	}
	host := probe.Host()
	if !backend.IsLoopback(host) {
		return nil, Choice{}, fmt.Sprintf("Ollama host %s is not on this machine, so it was not contacted (use --backend ollama to send reports there)", backend.ServerOf(host))
	}
	version, err := probe.Ping(ctx)
	if err != nil {
		return nil, Choice{}, "no Ollama server at " + host
	}
	model, how := opts.OllamaModel, "as configured"
	if model == "" {
		models, err := probe.Models(ctx)
		switch {
		case err != nil:
			return nil, Choice{}, fmt.Sprintf("Ollama at %s did not list its models", host)
		case len(models) == 0:
			return nil, Choice{}, fmt.Sprintf("Ollama at %s has no models (try `ollama pull`)", host)
		case opts.Model != "" && slices.Contains(models, opts.Model):
			model = opts.Model
		default:
			model, how = models[0], "the first model it lists"
		}
	}
	cfg.Model = model
	c, err := ollama.New(cfg)
	if err != nil {
		return nil, Choice{}, fmt.Sprintf("Ollama unusable (%v)", err)
	}
	return c, Choice{
		Backend: "ollama", Model: model, Where: host, Remote: backend.DestinationOf(c) != "",
		Reason: fmt.Sprintf("Ollama %s answers at %s; model %s %s", version, host, model, how),
	}, ""
}

func join(passed []string, why string) string {
	return strings.Join(append(slices.Clone(passed), why), "; ")
}
