package auto

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/ollama"
	"github.com/secscreen/secscreen/screener/backend/openai"
)

const fakeKey = "sk-auto-LEAKCANARY-0042"

// ollamaServer answers /api/version and lists models on /api/tags.
func ollamaServer(t *testing.T, models ...string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/version", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"version":"0.34.4"}`)
	})
	mux.HandleFunc("GET /api/tags", func(w http.ResponseWriter, _ *http.Request) {
		var parts []string
		for _, m := range models {
			parts = append(parts, `{"name":"`+m+`","model":"`+m+`"}`)
		}
		io.WriteString(w, `{"models":[`+strings.Join(parts, ",")+`]}`)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s.URL
}

// deadHost is a loopback address where nothing listens any more.
func deadHost(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.NotFoundHandler())
	s.Close()
	return s.URL
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

type offline struct{}

func (offline) Name() string  { return "baseline" }
func (offline) Model() string { return "baseline@1" }
func (offline) Complete(context.Context, backend.Request) (backend.Reply, error) {
	return backend.Reply{}, errors.New("not used here")
}

func TestOllamaWinsWhenItAnswers(t *testing.T) {
	host := ollamaServer(t, "llama3.1:8b", "qwen2.5:7b")
	b, ch, err := Select(context.Background(), Options{
		Getenv: env(map[string]string{"OLLAMA_HOST": host, "OPENAI_API_KEY": fakeKey}),
	})
	require.NoError(t, err)
	require.IsType(t, &ollama.Client{}, b)
	assert.Equal(t, "ollama", ch.Backend)
	assert.Equal(t, "llama3.1:8b", ch.Model)
	assert.Equal(t, "llama3.1:8b", b.Model())
	assert.Equal(t, host, ch.Where)
	assert.Contains(t, ch.Reason, "Ollama 0.34.4 answers")
	assert.Contains(t, ch.Reason, "first model")
}

func TestOllamaUsesTheConfiguredModel(t *testing.T) {
	host := ollamaServer(t, "llama3.1:8b", "qwen2.5:7b")
	_, ch, err := Select(context.Background(), Options{OllamaHost: host, Model: "qwen2.5:7b", Getenv: env(nil)})
	require.NoError(t, err)
	assert.Equal(t, "qwen2.5:7b", ch.Model)

	_, ch, err = Select(context.Background(), Options{OllamaHost: host, OllamaModel: "mistral:7b", Getenv: env(nil)})
	require.NoError(t, err)
	assert.Equal(t, "mistral:7b", ch.Model, "an explicit Ollama model is used even if not listed")
}

func TestOllamaWithoutModelsFallsThroughToOpenAI(t *testing.T) {
	host := ollamaServer(t)
	b, ch, err := Select(context.Background(), Options{
		OllamaHost: host, Getenv: env(map[string]string{"OPENAI_API_KEY": fakeKey}),
	})
	require.NoError(t, err)
	require.IsType(t, &openai.Client{}, b)
	assert.Equal(t, "openai", ch.Backend)
	assert.Equal(t, DefaultOpenAIModel, ch.Model)
	assert.Equal(t, openai.DefaultBaseURL, ch.Where)
	assert.Contains(t, ch.Reason, "has no models")
	assert.Contains(t, ch.Reason, "OPENAI_API_KEY is set")
	assert.NotContains(t, ch.Reason, fakeKey)
}

func TestNoOllamaKeyInCustomVariable(t *testing.T) {
	b, ch, err := Select(context.Background(), Options{
		APIKeyEnv: "OPENROUTER_API_KEY",
		BaseURL:   "https://openrouter.example/api/v1",
		Model:     "meta/llama-3.1-70b",
		Getenv:    env(map[string]string{"OLLAMA_HOST": deadHost(t), "OPENROUTER_API_KEY": fakeKey}),
	})
	require.NoError(t, err)
	assert.Equal(t, "openai", b.Name())
	assert.Equal(t, "meta/llama-3.1-70b", ch.Model)
	assert.Equal(t, "https://openrouter.example/api/v1", ch.Where)
	assert.Contains(t, ch.Reason, "no Ollama server at")
	assert.Contains(t, ch.Reason, "OPENROUTER_API_KEY is set and a base URL is configured")
	assert.NotContains(t, ch.Reason, fakeKey)
}

func TestBaseURLWithoutKeySelectsLocalServer(t *testing.T) {
	b, ch, err := Select(context.Background(), Options{
		SkipOllama: true, BaseURL: "http://127.0.0.1:8000/v1", Model: "local", Getenv: env(nil),
	})
	require.NoError(t, err)
	assert.Equal(t, "openai", b.Name())
	assert.Equal(t, "a base URL is configured", ch.Reason)
}

func TestBaseURLWithoutModelIsAnError(t *testing.T) {
	_, _, err := Select(context.Background(), Options{SkipOllama: true, BaseURL: "http://127.0.0.1:8000/v1", Getenv: env(nil)})
	assert.ErrorContains(t, err, "no model")
}

func TestOfflineFallback(t *testing.T) {
	called := false
	b, ch, err := Select(context.Background(), Options{
		OllamaHost: deadHost(t), Getenv: env(nil),
		Offline: func() (backend.Backend, error) { called = true; return offline{}, nil },
	})
	require.NoError(t, err)
	assert.True(t, called)
	assert.Equal(t, "baseline", b.Name())
	assert.Equal(t, "baseline", ch.Backend)
	assert.Contains(t, ch.Reason, "OPENAI_API_KEY is not set")

	_, _, err = Select(context.Background(), Options{
		OllamaHost: deadHost(t), Getenv: env(nil),
		Offline: func() (backend.Backend, error) { return nil, errors.New("no rules") },
	})
	assert.ErrorContains(t, err, "offline backend: no rules")
}

func TestRulesOnlyWhenNothingIsAvailable(t *testing.T) {
	b, ch, err := Select(context.Background(), Options{Getenv: env(map[string]string{"OLLAMA_HOST": deadHost(t)})})
	require.NoError(t, err)
	assert.Nil(t, b)
	assert.Equal(t, "rules", ch.Backend)
	assert.Contains(t, ch.Reason, "rules only")
}
