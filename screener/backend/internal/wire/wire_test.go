package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/backend"
)

func echo(t *testing.T, status int) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func post(t *testing.T, ctx context.Context, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := Client(nil).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(got)
}

func TestPatchRewritesTheBodyOnTheWire(t *testing.T) {
	s := echo(t, http.StatusOK)
	ctx, ex := Record(context.Background())
	ex.Patch = func(b []byte) ([]byte, error) { return []byte(strings.ToUpper(string(b))), nil }
	status, got := post(t, ctx, s.URL, `{"a":1}`)
	assert.Equal(t, 200, status)
	assert.Equal(t, `{"A":1}`, got, "the server received the patched body")
	assert.Equal(t, 200, ex.Status)
	assert.Nil(t, ex.Body, "success bodies are not copied")
}

func TestErrorBodyIsRecordedAndStillReadable(t *testing.T) {
	s := echo(t, http.StatusTooManyRequests)
	ctx, ex := Record(context.Background())
	long := strings.Repeat("x", MaxErrorBody+100)
	status, got := post(t, ctx, s.URL, long)
	assert.Equal(t, 429, status)
	assert.Equal(t, long, got, "the library still reads the whole body")
	assert.Equal(t, 429, ex.Status)
	assert.Equal(t, "3", ex.Header.Get("Retry-After"))
	assert.Len(t, ex.Body, MaxErrorBody)
}

func TestWithoutExchangeRequestsPassThrough(t *testing.T) {
	s := echo(t, http.StatusOK)
	_, got := post(t, context.Background(), s.URL, "plain")
	assert.Equal(t, "plain", got)
}

func TestCallClassify(t *testing.T) {
	undecodable, unreachable := errors.New("undecodable"), errors.New("unreachable")
	call := Call{Backend: "test", Model: "m", Timeout: time.Second, Secrets: []string{"sk-SECRET"},
		Undecodable: func(err error) error { return fmt.Errorf("%w: %w", undecodable, err) },
		Unreachable: func(err error) error { return fmt.Errorf("%w: %w", unreachable, err) },
	}
	libErr := errors.New("library error")
	live := context.Background()

	cancelled, cancel := context.WithCancel(live)
	cancel()
	err := call.Classify(cancelled, cancelled, &Exchange{}, libErr)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, backend.IsRetryable(err), "the caller's cancellation is final")

	expired, cancel := context.WithTimeout(live, -time.Second)
	defer cancel()
	err = call.Classify(live, expired, &Exchange{}, libErr)
	assert.ErrorIs(t, err, backend.ErrTimeout)
	assert.EqualError(t, err, "test: m: "+backend.ErrTimeout.Error()+" within 1s")

	err = call.Classify(live, live, &Exchange{Status: 429, Header: http.Header{"Retry-After": {"7"}}, Body: []byte("slow down, sk-SECRET")}, libErr)
	var he *backend.HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 7*time.Second, he.RetryAfter)
	assert.NotContains(t, err.Error(), "sk-SECRET")
	assert.True(t, backend.IsRetryable(err))

	err = call.Classify(live, live, &Exchange{Status: 200}, libErr)
	assert.ErrorIs(t, err, undecodable)
	assert.ErrorIs(t, err, libErr)

	err = call.Classify(live, live, &Exchange{}, libErr)
	assert.ErrorIs(t, err, unreachable)
	assert.ErrorIs(t, err, libErr)
}

// A request whose context carries backend.WithWaiting's function calls it
// once the request is written: the server here replies only after it was
// called. A context without one passes through as before.
func TestTransportSaysWhenTheRequestHasLeft(t *testing.T) {
	written := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/announced" {
			select {
			case <-written:
			case <-r.Context().Done():
				return
			}
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	c := Client(nil)
	call := func(ctx context.Context, path string) {
		t.Helper()
		ctx, _ = Record(ctx)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, strings.NewReader(`{}`))
		require.NoError(t, err)
		resp, err := c.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	call(backend.WithWaiting(ctx, func() { once.Do(func() { close(written) }) }, nil), "/announced")
	select {
	case <-written:
	default:
		t.Fatal("the request's waiting function was not called")
	}
	call(ctx, "/plain")
}
