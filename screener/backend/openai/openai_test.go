package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/internal/fakeserver"
)

// fakeKey is distinctive so that a leak anywhere can be found by grep.
const fakeKey = "sk-test-LEAKCANARY-7f3a9c2e51d04b8e"

var testSchema = json.RawMessage(`{"type":"object","properties":{"verdict":{"type":"string"}},"required":["verdict"],"additionalProperties":false}`)

func testRequest() backend.Request {
	return backend.Request{
		ReportID: "r1",
		Messages: []backend.Message{
			{Role: backend.System, Content: "You screen security reports."},
			{Role: backend.User, Content: "A NULL dereference needs root."},
		},
		Schema:        testSchema,
		SchemaName:    "screening_answer",
		Temperature:   0,
		Seed:          42,
		PromptVersion: "screen@1",
	}
}

// chatResponse is the JSON an OpenAI server returns for a completion.
func chatResponse(content string) string {
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000,
		"model": "gpt-test-2024-01-01",
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content},
		}},
		"usage":              map[string]any{"prompt_tokens": 123, "completion_tokens": 45, "total_tokens": 168},
		"system_fingerprint": "fp_test",
	})
	return string(b)
}

// newFake starts a fake OpenAI server whose handler h runs after the
// request has been recorded; n is the 0-based number of the request.
func newFake(t *testing.T, h fakeserver.Handler) *fakeserver.Server {
	t.Helper()
	return fakeserver.New(t, h, nil)
}

func okHandler(content string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, chatResponse(content))
	}
}

func newClient(t *testing.T, url string, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: url + "/v1", APIKey: fakeKey, Model: "gpt-test", Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

func TestCompleteSendsSchemaTemperatureSeedAndKey(t *testing.T) {
	f := newFake(t, okHandler(`{"verdict":"not-a-bug"}`))
	c := newClient(t, f.URL, nil)

	rep, err := c.Complete(context.Background(), testRequest())
	require.NoError(t, err)
	assert.Equal(t, `{"verdict":"not-a-bug"}`, rep.Content)
	assert.Equal(t, "openai", rep.Usage.Backend)
	assert.Equal(t, "gpt-test-2024-01-01", rep.Usage.Model, "the model the server names wins")
	assert.Equal(t, 123, rep.Usage.PromptTokens)
	assert.Equal(t, 45, rep.Usage.CompletionTokens)
	assert.Equal(t, 1, rep.Usage.Attempts)
	assert.Positive(t, rep.Usage.Latency)
	assert.False(t, rep.Usage.Cached)

	reqs := f.Requests()
	require.Len(t, reqs, 1)
	got := reqs[0]
	assert.Equal(t, "/v1/chat/completions", got.Path)
	assert.Equal(t, "Bearer "+fakeKey, got.Auth)
	assert.Equal(t, "gpt-test", got.Body["model"])

	temp, present := got.Body["temperature"]
	require.True(t, present, "temperature 0 must be on the wire, not omitted")
	assert.Equal(t, 0.0, temp)
	assert.Equal(t, 42.0, got.Body["seed"])
	assert.NotContains(t, got.Body, "max_tokens", "no token limit: the answer's length is the server's")
	assert.NotContains(t, got.Body, "max_completion_tokens")

	msgs := got.Body["messages"].([]any)
	require.Len(t, msgs, 2)
	assert.Equal(t, "system", msgs[0].(map[string]any)["role"])
	assert.Equal(t, "You screen security reports.", msgs[0].(map[string]any)["content"])
	assert.Equal(t, "user", msgs[1].(map[string]any)["role"])

	rf := got.Body["response_format"].(map[string]any)
	assert.Equal(t, "json_schema", rf["type"])
	js := rf["json_schema"].(map[string]any)
	assert.Equal(t, "screening_answer", js["name"])
	assert.Equal(t, true, js["strict"])
	var want any
	require.NoError(t, json.Unmarshal(testSchema, &want))
	assert.Equal(t, want, js["schema"])
	assert.Equal(t, "json_schema", c.structuredOutput())
}

func TestNonZeroTemperatureIsSentAsIs(t *testing.T) {
	f := newFake(t, okHandler(`{}`))
	c := newClient(t, f.URL, nil)
	req := testRequest()
	req.Temperature = 0.25
	_, err := c.Complete(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, 0.25, f.Requests()[0].Body["temperature"])
}

func TestNoKeyNoAuthorizationHeader(t *testing.T) {
	f := newFake(t, okHandler(`{}`))
	c := newClient(t, f.URL, func(c *Config) { c.APIKey = "" })
	_, err := c.Complete(context.Background(), testRequest())
	require.NoError(t, err)
	assert.Empty(t, f.Requests()[0].Auth)
}

func TestJSONSchemaRejectedFallsBackToJSONObjectAndRemembers(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"response_format type json_schema is not supported by this model","type":"invalid_request_error","param":"response_format","code":null}}`)
			return
		}
		okHandler(`{"verdict":"x"}`)(w, r, n)
	})
	var logs bytes.Buffer
	c := newClient(t, f.URL, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })

	rep, err := c.Complete(context.Background(), testRequest())
	require.NoError(t, err)
	assert.Equal(t, `{"verdict":"x"}`, rep.Content)
	assert.Equal(t, "json_object", c.structuredOutput())
	assert.Equal(t, 2, rep.Usage.Attempts, "the resend is an HTTP attempt")
	assert.Contains(t, logs.String(), "json_object")

	_, err = c.Complete(context.Background(), testRequest())
	require.NoError(t, err)

	reqs := f.Requests()
	require.Len(t, reqs, 3, "one rejected call, its resend, then a second call that does not try json_schema again")
	assert.Equal(t, "json_schema", reqs[0].Body["response_format"].(map[string]any)["type"])
	for _, r := range reqs[1:] {
		rf := r.Body["response_format"].(map[string]any)
		assert.Equal(t, "json_object", rf["type"])
		assert.NotContains(t, rf, "json_schema")
	}
}

func TestOtherBadRequestIsNotAFallback(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"message":"maximum context length exceeded","type":"invalid_request_error"}}`)
	})
	c := newClient(t, f.URL, nil)
	_, err := c.Complete(context.Background(), testRequest())
	var he *backend.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 400, he.Status)
	assert.Contains(t, err.Error(), "maximum context length")
	assert.False(t, backend.IsRetryable(err))
	assert.Len(t, f.Requests(), 1)
	assert.Equal(t, "json_schema", c.structuredOutput())
}

func TestTooManyRequestsCarriesRetryAfter(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests"}}`)
	})
	c := newClient(t, f.URL, nil)
	_, err := c.Complete(context.Background(), testRequest())
	var he *backend.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 429, he.Status)
	assert.Equal(t, 7*time.Second, he.RetryAfter)
	assert.True(t, backend.IsRetryable(err))
}

func TestRetryHonoursRetryAfterThenSucceeds(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 0:
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"message":"slow down"}}`)
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":{"message":"upstream hiccup"}}`)
		default:
			okHandler(`{"ok":true}`)(w, r, n)
		}
	})
	c := newClient(t, f.URL, nil)
	var slept []time.Duration
	b := backend.WithRetry(c, backend.RetryPolicy{
		BaseDelay: 100 * time.Millisecond,
		Jitter:    func() float64 { return 0 },
		Sleep: func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			return nil
		},
	})
	rep, err := b.Complete(context.Background(), testRequest())
	require.NoError(t, err)
	assert.Equal(t, `{"ok":true}`, rep.Content)
	assert.Equal(t, 3, rep.Usage.Attempts)
	assert.Equal(t, []time.Duration{3 * time.Second, 100 * time.Millisecond}, slept,
		"Retry-After beats the short backoff; the 500 gets the second backoff step (200ms, half of it with zero jitter)")
}

func TestTimeoutIsRetryableAndDoesNotHang(t *testing.T) {
	f := newFake(t, func(_ http.ResponseWriter, r *http.Request, _ int) {
		<-r.Context().Done() // never answer; return once the client gives up
	})
	c := newClient(t, f.URL, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	_, err := c.Complete(context.Background(), testRequest())
	require.ErrorIs(t, err, backend.ErrTimeout)
	assert.True(t, backend.IsRetryable(err))
}

func TestCallerCancellationIsNotATimeout(t *testing.T) {
	f := newFake(t, func(_ http.ResponseWriter, r *http.Request, _ int) { <-r.Context().Done() })
	c := newClient(t, f.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(f.Requests()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Complete(ctx, testRequest())
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, backend.ErrTimeout)
	assert.False(t, backend.IsRetryable(err))
}

func TestBrokenReplies(t *testing.T) {
	cases := []struct {
		name      string
		handler   func(http.ResponseWriter, *http.Request, int)
		retryable bool
		badReply  bool
	}{
		{
			name: "truncated JSON",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				full := chatResponse(`{"verdict":"x"}`)
				io.WriteString(w, full[:len(full)/2])
			},
			retryable: true, badReply: true,
		},
		{
			name: "garbage body",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", "text/html")
				io.WriteString(w, "<html><body>Welcome to nginx!</body></html>")
			},
			retryable: false, badReply: true,
		},
		{
			name: "no choices",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				io.WriteString(w, `{"id":"x","object":"chat.completion","model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":0}}`)
			},
			retryable: false, badReply: true,
		},
		{
			name: "connection closed",
			handler: func(w http.ResponseWriter, _ *http.Request, _ int) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if assert.NoError(t, err) {
					conn.Close()
				}
			},
			retryable: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.handler)
			c := newClient(t, f.URL, nil)
			_, err := c.Complete(context.Background(), testRequest())
			require.Error(t, err)
			assert.Equal(t, tc.retryable, backend.IsRetryable(err), "retryable? %v", err)
			if tc.badReply {
				assert.ErrorIs(t, err, backend.ErrBadReply)
			}
			assert.NotContains(t, err.Error(), "\n", "errors read as one line")
		})
	}
}

func TestRetriesAConnectionClosedThenSucceeds(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if assert.NoError(t, err) {
				conn.Close()
			}
			return
		}
		okHandler(`{"v":1}`)(w, r, n)
	})
	c := newClient(t, f.URL, nil)
	b := backend.WithRetry(c, backend.RetryPolicy{Sleep: func(context.Context, time.Duration) error { return nil }})
	rep, err := b.Complete(context.Background(), testRequest())
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Usage.Attempts)
}

// TestKeyNeverLeaks drives a server that echoes the key back in its error
// bodies, then searches every output a user could see for it: errors, log
// output, replies, usage, and the cache directory.
func TestKeyNeverLeaks(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch n {
		case 0:
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided: `+key+`","type":"invalid_request_error"}}`)
		case 1:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"json_schema unsupported for key `+key+`"}}`)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "overloaded; your key "+key+" is fine")
		case 3:
			io.WriteString(w, "garbage for "+key)
		default:
			okHandler(`{"echo":"ok"}`)(w, r, n)
		}
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := newClient(t, f.URL, func(c *Config) { c.Logger = logger })
	dir := t.TempDir()
	b := backend.Wrap(c, backend.Layers{
		Retry: backend.RetryPolicy{
			Sleep:   func(context.Context, time.Duration) error { return nil },
			OnRetry: func(n int, d time.Duration, err error) { logger.Info("retry", "n", n, "err", err) },
		},
		Cache: &backend.Cache{Dir: dir, Logger: logger},
	})

	var seen []string
	_, err := b.Complete(context.Background(), testRequest()) // 401
	require.Error(t, err)
	seen = append(seen, err.Error(), errors.Unwrap(err).Error())
	_, err = b.Complete(context.Background(), testRequest()) // 400 → fallback, then 503 → retry, then garbage
	require.Error(t, err)
	seen = append(seen, err.Error())
	rep, err := b.Complete(context.Background(), testRequest())
	require.NoError(t, err)
	seen = append(seen, rep.Content, rep.Usage.Backend, rep.Usage.Model)
	usage, _ := json.Marshal(rep.Usage)
	seen = append(seen, string(usage), logs.String())
	require.Contains(t, logs.String(), "retry", "the log capture must have seen the retries")

	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if !d.IsDir() {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			seen = append(seen, string(data))
		}
		return nil
	})
	require.Greater(t, len(seen), 7, "a cache file must have been written")
	for _, s := range seen {
		assert.NotContains(t, s, fakeKey)
		assert.NotContains(t, s, "LEAKCANARY")
	}
	assert.Contains(t, strings.Join(seen, "\n"), "[REDACTED]", "the echoed key was seen and redacted")
}

func TestNewValidates(t *testing.T) {
	_, err := New(Config{BaseURL: "http://x/v1"})
	assert.ErrorContains(t, err, "no model")
	_, err = New(Config{Model: "m", BaseURL: "localhost:8000"})
	assert.ErrorContains(t, err, "http://")
	c, err := New(Config{Model: "m"})
	require.NoError(t, err)
	assert.Equal(t, "m", c.Model())
	assert.Equal(t, DefaultBaseURL, c.cfg.BaseURL)
}

func TestReasoningModelQuirksAreLearnt(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 0:
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}`)
		default:
			okHandler(`{}`)(w, r, n)
		}
	})
	var logs bytes.Buffer
	c := newClient(t, f.URL, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	_, err := c.Complete(context.Background(), testRequest())
	require.NoError(t, err)
	_, err = c.Complete(context.Background(), testRequest())
	require.NoError(t, err)

	reqs := f.Requests()
	require.Len(t, reqs, 3)
	assert.Contains(t, reqs[0].Body, "temperature")
	for _, r := range reqs[1:] {
		assert.NotContains(t, r.Body, "temperature")
		assert.Equal(t, "json_schema", r.Body["response_format"].(map[string]any)["type"], "structured output is untouched")
	}
	assert.Contains(t, logs.String(), "answers may vary")
}
