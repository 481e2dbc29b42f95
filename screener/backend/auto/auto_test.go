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

// noContact is an HTTP client that fails the test on any request: auto must
// not contact a host that is not on this machine, not even to probe it.
func noContact(t *testing.T) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("auto contacted %s", r.URL)
		return nil, errors.New("no network in this test")
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestAnAPIKeyAloneNeverSelectsAHostedProvider(t *testing.T) {
	host := ollamaServer(t)
	b, ch, err := Select(context.Background(), Options{
		OllamaHost: host, Getenv: env(map[string]string{"OPENAI_API_KEY": fakeKey}),
		Offline: "baseline",
	})
	require.NoError(t, err)
	assert.Nil(t, b, "the offline backend, not the hosted API")
	assert.Equal(t, "baseline", ch.Backend)
	assert.Empty(t, ch.Where)
	assert.Contains(t, ch.Reason, "has no models")
	assert.Contains(t, ch.Reason, "OPENAI_API_KEY is set, but auto never sends reports to a hosted provider")
	assert.Contains(t, ch.Reason, "--backend openai")
	assert.NotContains(t, ch.Reason, fakeKey)
}

func TestARemoteBaseURLOrOllamaHostIsNotContacted(t *testing.T) {
	b, ch, err := Select(context.Background(), Options{
		APIKeyEnv:  "OPENROUTER_API_KEY",
		BaseURL:    "https://user:tok3n@openrouter.example/api/v1?x=1",
		Model:      "meta/llama-3.1-70b",
		HTTPClient: noContact(t),
		Getenv:     env(map[string]string{"OLLAMA_HOST": "http://gpu-box.example:11434", "OPENROUTER_API_KEY": fakeKey}),
	})
	require.NoError(t, err)
	assert.Nil(t, b, "rules only: nothing local answered")
	assert.Equal(t, "rules", ch.Backend)
	assert.Contains(t, ch.Reason, "Ollama host http://gpu-box.example:11434 is not on this machine, so it was not contacted")
	assert.Contains(t, ch.Reason, "base URL https://openrouter.example is not on this machine")
	assert.NotContains(t, ch.Reason, "tok3n", "credentials in a URL are not repeated")
	assert.NotContains(t, ch.Reason, fakeKey)
}

func TestIsLoopback(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://127.0.0.1:11434":        true,
		"http://127.8.9.10":             true,
		"http://localhost:8000/v1":      true,
		"http://[::1]:8080":             true,
		"localhost:11434":               true,
		"http://api.openai.com/v1":      false,
		"http://10.0.0.5:11434":         false,
		"http://localhost.evil.example": false,
		"https://127.0.0.1.nip.example": false,
	} {
		assert.Equal(t, want, backend.IsLoopback(raw), raw)
	}
}

func TestBaseURLWithoutKeySelectsLocalServer(t *testing.T) {
	b, ch, err := Select(context.Background(), Options{
		SkipOllama: true, BaseURL: "http://127.0.0.1:8000/v1", Model: "local", Getenv: env(nil),
	})
	require.NoError(t, err)
	assert.Equal(t, "openai", b.Name())
	assert.Equal(t, "a base URL on this machine is configured", ch.Reason)
	assert.Equal(t, "http://127.0.0.1:8000", backend.DestinationOf(b))
}

func TestBaseURLWithoutModelIsAnError(t *testing.T) {
	_, _, err := Select(context.Background(), Options{SkipOllama: true, BaseURL: "http://127.0.0.1:8000/v1", Getenv: env(nil)})
	assert.ErrorContains(t, err, "no model")
}

func TestOfflineFallback(t *testing.T) {
	b, ch, err := Select(context.Background(), Options{
		OllamaHost: deadHost(t), Getenv: env(nil), Offline: "baseline",
	})
	require.NoError(t, err)
	assert.Nil(t, b, "the caller builds the offline classifier")
	assert.Equal(t, "baseline", ch.Backend)
	assert.Contains(t, ch.Reason, "no local OpenAI-compatible base URL")
	assert.Contains(t, ch.Reason, "using the offline backend")
}

func TestRulesOnlyWhenNothingIsAvailable(t *testing.T) {
	b, ch, err := Select(context.Background(), Options{Getenv: env(map[string]string{"OLLAMA_HOST": deadHost(t)})})
	require.NoError(t, err)
	assert.Nil(t, b)
	assert.Equal(t, "rules", ch.Backend)
	assert.Contains(t, ch.Reason, "rules only")
}
