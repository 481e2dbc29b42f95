package auto

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/config"
)

// chatServer is an OpenAI-compatible server that counts its calls.
func chatServer(t *testing.T, calls *atomic.Int32) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": `{"verdict":"invalid"}`}}},
			"usage": map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
		})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// settings resolves flags (and a config file's content, when not empty)
// with an empty environment but for vars.
func settings(t *testing.T, file string, flags map[string]any, vars map[string]string) config.Settings {
	t.Helper()
	if flags == nil {
		flags = map[string]any{}
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(file), 0o600))
	flags["config"] = path
	s, err := config.Resolve(config.Input{Flags: flags, Getenv: env(vars)})
	require.NoError(t, err)
	return s
}

func request() backend.Request {
	return backend.Request{ReportID: "r1", Messages: []backend.Message{{Role: "user", Content: "report"}}, PromptVersion: "p@1"}
}

func TestBuildCachesAModelServerButNotTheOfflineClassifier(t *testing.T) {
	var calls atomic.Int32
	url := chatServer(t, &calls)
	cache := t.TempDir()
	s := settings(t, "backend: openai\nmodel: m\n", map[string]any{"base-url": url, "cache": cache}, nil)
	b, err := Build(context.Background(), s, BuildOptions{Getenv: env(nil)})
	require.NoError(t, err)
	assert.True(t, b.Choice.Remote)
	assert.Equal(t, cache, b.CacheDir)
	assert.Equal(t, "openai (m at "+url+")", b.Description)
	for range 2 {
		_, err := b.Backend.Complete(context.Background(), request())
		require.NoError(t, err)
	}
	assert.Equal(t, int32(1), calls.Load(), "the second call is a cache hit")

	s = settings(t, "backend: baseline\n", map[string]any{"cache": cache}, nil)
	b, err = Build(context.Background(), s, BuildOptions{Offline: "baseline"})
	require.NoError(t, err)
	assert.True(t, b.Offline, "the caller builds the offline classifier")
	assert.Nil(t, b.Backend)
	assert.False(t, b.Choice.Remote)
	assert.Empty(t, b.CacheDir, "a classifier on this machine is not cached")
	assert.Equal(t, "baseline (offline classifier)", b.Description)

	_, err = Build(context.Background(), s, BuildOptions{})
	assert.ErrorContains(t, err, "no offline classifier")
}

func TestBuildErrorsNameWhereTheBackendCameFrom(t *testing.T) {
	s := settings(t, "backend: openai\n", nil, nil)
	_, err := Build(context.Background(), s, BuildOptions{Getenv: env(nil)})
	var ce *config.Error
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.Equal(t, config.FromFile, ce.Source.Kind)
	assert.Contains(t, err.Error(), s.File+": backend: openai needs an API key: set OPENAI_API_KEY")

	s = settings(t, "", map[string]any{"backend": "ollama"}, nil)
	_, err = Build(context.Background(), s, BuildOptions{Getenv: env(nil)})
	assert.ErrorContains(t, err, "--backend: ollama needs a model")

	s = settings(t, "backend: openai\n", map[string]any{"base-url": "http://127.0.0.1:1/v1"}, nil)
	_, err = Build(context.Background(), s, BuildOptions{Getenv: env(nil)})
	assert.ErrorContains(t, err, s.File+": backend: openai at http://127.0.0.1:1 needs a model")

	s = settings(t, "", map[string]any{"backend": "openai", "model": "m", "base-url": "ftp://x"}, nil)
	_, err = Build(context.Background(), s, BuildOptions{Getenv: env(nil)})
	assert.ErrorContains(t, err, "--base-url: openai: base URL")

	s = settings(t, "", map[string]any{"backend": "baseline"}, nil)
	_, err = Build(context.Background(), s, BuildOptions{})
	assert.ErrorContains(t, err, "no offline classifier")
}

func TestBuildAutoTriesOllamaUnlessTheBaseURLWasGivenOnPurpose(t *testing.T) {
	var calls atomic.Int32
	url := chatServer(t, &calls)
	host := ollamaServer(t, "llama3.1:8b")

	// The file's base URL is a standing default: a local Ollama wins.
	s := settings(t, "base_url: "+url+"\nmodel: m\n", nil, map[string]string{"OLLAMA_HOST": host})
	b, err := Build(context.Background(), s, BuildOptions{Getenv: env(map[string]string{"OLLAMA_HOST": host})})
	require.NoError(t, err)
	assert.Equal(t, "ollama", b.Choice.Backend)

	// The same URL from the environment (or --base-url) is a request.
	vars := map[string]string{"OLLAMA_HOST": host, "OPENAI_BASE_URL": url}
	s = settings(t, "model: m\n", nil, vars)
	b, err = Build(context.Background(), s, BuildOptions{Getenv: env(vars)})
	require.NoError(t, err)
	assert.Equal(t, "openai", b.Choice.Backend)
	assert.True(t, b.Choice.Remote)
	assert.Contains(t, b.Description, "auto: openai")
}

func TestBuildRulesAndOfflineAuto(t *testing.T) {
	s := settings(t, "backend: rules\n", nil, nil)
	b, err := Build(context.Background(), s, BuildOptions{})
	require.NoError(t, err)
	assert.Nil(t, b.Backend)
	assert.Equal(t, "rules (no model)", b.Description)

	s = settings(t, "", map[string]any{"offline": true}, nil)
	b, err = Build(context.Background(), s, BuildOptions{Offline: "baseline"})
	require.NoError(t, err)
	assert.True(t, b.Offline)
	assert.Equal(t, "baseline", b.Choice.Backend, "--offline probes no server")
	assert.False(t, b.Choice.Remote)
}

// Settings made by hand, without Resolve's check, get Resolve's error.
func TestBuildRejectsAnUnknownBackendLikeResolve(t *testing.T) {
	s := config.Defaults()
	s.Backend = "gpt"
	_, err := Build(context.Background(), s, BuildOptions{Getenv: env(nil)})
	assert.ErrorContains(t, err, `unknown backend "gpt" (want one of auto, openai, ollama, baseline, rules)`)
}
