package ollama

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/internal/fakeserver"
)

var testSchema = json.RawMessage(`{"type":"object","properties":{"verdict":{"type":"string"}},"required":["verdict"]}`)

func testRequest() backend.Request {
	return backend.Request{
		ReportID: "r1",
		Messages: []backend.Message{
			{Role: backend.System, Content: "You screen security reports."},
			{Role: backend.User, Content: "A use-after-free reachable by an unprivileged user."},
		},
		Schema:        testSchema,
		SchemaName:    "answer",
		Seed:          7,
		PromptVersion: "screen@1",
	}
}

// chatDone is the one JSON object Ollama sends for a non-streaming chat.
func chatDone(content string) string {
	b, _ := json.Marshal(map[string]any{
		"model": "qwen-test:7b", "created_at": "2026-01-01T00:00:00Z",
		"message":        map[string]any{"role": "assistant", "content": content},
		"done":           true,
		"done_reason":    "stop",
		"total_duration": 1000, "load_duration": 10,
		"prompt_eval_count": 321, "prompt_eval_duration": 100,
		"eval_count": 54, "eval_duration": 200,
	})
	return string(b) + "\n"
}

// newFake starts a fake Ollama server: it answers GET /api/version and
// GET /api/tags itself and hands each POST /api/chat, after recording its
// body, to chat (n is 0-based).
func newFake(t *testing.T, chat fakeserver.Handler) *fakeserver.Server {
	t.Helper()
	return fakeserver.New(t, chat, map[string]http.HandlerFunc{
		"GET /api/version": func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, `{"version":"0.34.4"}`)
		},
		"GET /api/tags": func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, `{"models":[{"name":"qwen-test:7b","model":"qwen-test:7b","size":1}]}`)
		},
	})
}

// chats returns the bodies of the chat requests f recorded.
func chats(f *fakeserver.Server) []map[string]any {
	var out []map[string]any
	for _, r := range f.Requests() {
		out = append(out, r.Body)
	}
	return out
}

func ok(content string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, chatDone(content))
	}
}

func newClient(t *testing.T, host string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{Host: host, Model: "qwen-test:7b", Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

func TestCompleteSendsFormatOptionsAndMessages(t *testing.T) {
	f := newFake(t, ok(`{"verdict":"not-a-bug"}`))
	c := newClient(t, f.URL, nil)
	rep, err := c.Complete(context.Background(), testRequest())
	require.NoError(t, err)

	assert.Equal(t, `{"verdict":"not-a-bug"}`, rep.Content)
	assert.Equal(t, backend.Usage{
		Backend: "ollama", Model: "qwen-test:7b", PromptTokens: 321, CompletionTokens: 54,
		Latency: rep.Usage.Latency, Attempts: 1,
	}, rep.Usage)
	assert.Positive(t, rep.Usage.Latency)

	reqs := chats(f)
	require.Len(t, reqs, 1)
	got := reqs[0]
	assert.Equal(t, "qwen-test:7b", got["model"])
	assert.Equal(t, false, got["stream"], "stream must be explicitly false")
	var want any
	require.NoError(t, json.Unmarshal(testSchema, &want))
	assert.Equal(t, want, got["format"], "the schema is sent as format")

	opts := got["options"].(map[string]any)
	temp, present := opts["temperature"]
	require.True(t, present, "temperature 0 must be sent")
	assert.Equal(t, 0.0, temp)
	assert.Equal(t, 7.0, opts["seed"])
	assert.Equal(t, float64(DefaultMinContext), opts["num_ctx"])
	assert.NotContains(t, opts, "num_predict", "the answer's length is the server's")

	msgs := got["messages"].([]any)
	require.Len(t, msgs, 2)
	assert.Equal(t, "system", msgs[0].(map[string]any)["role"])
	assert.Equal(t, "You screen security reports.", msgs[0].(map[string]any)["content"])
}

func TestLargePromptGrowsContextAndWarnsPastMax(t *testing.T) {
	f := newFake(t, ok(`{}`))
	var logs bytes.Buffer
	c := newClient(t, f.URL, func(c *Config) {
		c.MaxContext = 16384
		c.AnswerTokens = 500
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	req := testRequest()
	req.Messages[1].Content = strings.Repeat("x", 24000) // ~6k tokens + answer
	_, err := c.Complete(context.Background(), req)
	require.NoError(t, err)
	opts := chats(f)[0]["options"].(map[string]any)
	assert.Equal(t, 8192.0, opts["num_ctx"])
	assert.Empty(t, logs.String(), "it fits: no warning")

	req.Messages[1].Content = strings.Repeat("x", 100000) // ~25k tokens > 16384
	_, err = c.Complete(context.Background(), req)
	require.NoError(t, err)
	opts = chats(f)[1]["options"].(map[string]any)
	assert.Equal(t, 16384.0, opts["num_ctx"], "clamped to MaxContext")
	assert.Contains(t, logs.String(), "context window")
	assert.Contains(t, logs.String(), "report=r1")
}

func TestContextSize(t *testing.T) {
	n, est, fits := ContextSize(0, 0, 2048, 8192)
	assert.Equal(t, 2048, n)
	assert.True(t, fits)
	assert.Positive(t, est)

	n, est, fits = ContextSize(4*5000, 1000, 2048, 65536)
	assert.Equal(t, 8192, n)
	assert.GreaterOrEqual(t, n, est)
	assert.True(t, fits)

	n, _, fits = ContextSize(4*100000, 1000, 2048, 32768)
	assert.Equal(t, 32768, n)
	assert.False(t, fits)
}

func TestServerErrorsClassify(t *testing.T) {
	cases := []struct {
		name      string
		handler   func(http.ResponseWriter, *http.Request, int)
		retryable bool
		status    int
	}{
		{"model missing", func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":"model \"qwen-test:7b\" not found, try pulling it first"}`)
		}, false, 404},
		{"busy", func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"server busy, please try again.  maximum pending requests exceeded"}`)
		}, true, 503},
		{"truncated JSON", func(w http.ResponseWriter, _ *http.Request, _ int) {
			s := chatDone("{}")
			io.WriteString(w, s[:len(s)/2])
		}, true, 0},
		{"garbage", func(w http.ResponseWriter, _ *http.Request, _ int) {
			io.WriteString(w, "<html>proxy login</html>")
		}, false, 0},
		{"connection closed", func(w http.ResponseWriter, _ *http.Request, _ int) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if assert.NoError(t, err) {
				conn.Close()
			}
		}, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, newFake(t, tc.handler).URL, nil)
			_, err := c.Complete(context.Background(), testRequest())
			require.Error(t, err)
			assert.Equal(t, tc.retryable, backend.IsRetryable(err), "retryable? %v", err)
			assert.NotContains(t, err.Error(), "\n")
			var he *backend.HTTPError
			if tc.status != 0 {
				require.ErrorAs(t, err, &he)
				assert.Equal(t, tc.status, he.Status)
			} else {
				assert.False(t, errors.As(err, &he), "no HTTP error for a 200 reply or a dropped connection")
			}
		})
	}
}

func TestRetryBusyThenSuccessUsesRetryAfter(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"server busy"}`)
			return
		}
		ok(`{"v":1}`)(w, r, n)
	})
	var slept []time.Duration
	b := backend.WithRetry(newClient(t, f.URL, nil), backend.RetryPolicy{
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
	})
	rep, err := b.Complete(context.Background(), testRequest())
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Usage.Attempts)
	assert.Equal(t, []time.Duration{2 * time.Second}, slept)
}

func TestTimeout(t *testing.T) {
	f := newFake(t, func(_ http.ResponseWriter, r *http.Request, _ int) { <-r.Context().Done() })
	c := newClient(t, f.URL, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	_, err := c.Complete(context.Background(), testRequest())
	require.ErrorIs(t, err, backend.ErrTimeout)
	assert.True(t, backend.IsRetryable(err))
}

func TestPingModelsAvailable(t *testing.T) {
	f := newFake(t, ok(`{}`))
	c := newClient(t, f.URL, nil)
	v, err := c.Ping(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "0.34.4", v)
	models, err := c.Models(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"qwen-test:7b"}, models)

	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	_, err = newClient(t, url, nil).Ping(context.Background())
	assert.ErrorContains(t, err, "no server at")
}

func TestParseHostAndEnv(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "http://127.0.0.1:11434",
		"0.0.0.0":                "http://127.0.0.1:11434",
		"0.0.0.0:9999":           "http://127.0.0.1:9999",
		"gpu-box":                "http://gpu-box:11434",
		":8080":                  "http://127.0.0.1:8080",
		"http://gpu-box:1234/":   "http://gpu-box:1234",
		"https://ollama.example": "https://ollama.example:443",
		"[::1]:11434":            "http://[::1]:11434",
	} {
		u, err := ParseHost(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, u.String(), in)
		}
	}
	_, err := ParseHost("ftp://x")
	assert.Error(t, err)

	c, err := New(Config{Model: "m", Getenv: func(k string) string {
		if k == "OLLAMA_HOST" {
			return "gpu-box:7777"
		}
		return ""
	}})
	require.NoError(t, err)
	assert.Equal(t, "http://gpu-box:7777", c.Host())

	_, err = New(Config{})
	assert.ErrorContains(t, err, "no model")
}
