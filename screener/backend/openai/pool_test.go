package openai

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/backend/internal/wiretest"
)

// With calls in flight together, the client keeps a connection for each
// between rounds: http.DefaultTransport kept two per host, and a run at
// -j 64 dialled a new connection for almost every report.
func TestConnectionPoolFollowsConcurrency(t *testing.T) {
	wiretest.PoolFollowsConcurrency(t, chatResponse(`{"verdict":"security"}`), func(url string) func(context.Context) error {
		c := newClient(t, url, func(cfg *Config) { cfg.Timeout = 10 * time.Second })
		return func(ctx context.Context) error {
			_, err := c.Complete(ctx, testRequest())
			return err
		}
	})
}

func TestCallersTransportIsKept(t *testing.T) {
	var used bool
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})
	f := newFake(t, okHandler(`{"verdict":"security"}`))
	c := newClient(t, f.URL, func(cfg *Config) { cfg.HTTPClient = &http.Client{Transport: rt} })
	_, err := c.Complete(context.Background(), testRequest())
	require.NoError(t, err)
	assert.True(t, used, "the caller's transport sends the request")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
