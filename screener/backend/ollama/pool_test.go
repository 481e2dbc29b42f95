package ollama

import (
	"context"
	"testing"
	"time"

	"github.com/secscreen/secscreen/screener/backend/internal/wiretest"
)

// With calls in flight together, the client keeps a connection for each
// between rounds (http.DefaultTransport kept two per host).
func TestConnectionPoolFollowsConcurrency(t *testing.T) {
	wiretest.PoolFollowsConcurrency(t, chatDone(`{"verdict":"security"}`), func(url string) func(context.Context) error {
		c := newClient(t, url, func(cfg *Config) { cfg.Timeout = 10 * time.Second })
		return func(ctx context.Context) error {
			_, err := c.Complete(ctx, testRequest())
			return err
		}
	})
}
