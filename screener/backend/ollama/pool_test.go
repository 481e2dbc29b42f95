package ollama

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/secscreen/secscreen/screener/backend/internal/wiretest"
)

// With calls in flight together, the client keeps a connection for each
// between rounds (http.DefaultTransport kept two per host).
func TestConnectionPoolFollowsConcurrency(t *testing.T) {
	const n, rounds = 24, 3
	got := wiretest.ConcurrentRounds(t, rounds, n, func(w http.ResponseWriter, r *http.Request) {
		wiretest.Discard(r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, chatDone(`{"verdict":"security"}`))
	}, func(url string) func(context.Context) error {
		c := newClient(t, url, func(cfg *Config) { cfg.Timeout = 10 * time.Second })
		return func(ctx context.Context) error {
			_, err := c.Complete(ctx, testRequest())
			return err
		}
	})
	assert.LessOrEqual(t, got, n+n/4, "connections opened for %d rounds of %d calls at once", rounds, n)
	assert.GreaterOrEqual(t, got, n)
}
