package wire

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/secscreen/secscreen/screener/backend/internal/wiretest"
)

func TestPooledKeepsAConnectionForEveryCallInFlight(t *testing.T) {
	const n, rounds = 24, 3
	c := Client(nil)
	got := wiretest.ConcurrentRounds(t, rounds, n, func(w http.ResponseWriter, r *http.Request) {
		wiretest.Discard(r)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}, func(url string) func(context.Context) error {
		return func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{}`))
			if err != nil {
				return err
			}
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(io.Discard, resp.Body)
			return err
		}
	})
	// http.DefaultTransport keeps 2 idle connections per host: it would
	// open n + (rounds-1)·(n-2) = 68 here.
	assert.LessOrEqual(t, got, n+n/4, "connections opened for %d rounds of %d calls at once", rounds, n)
	assert.GreaterOrEqual(t, got, n, "the server held every round until all its calls had arrived")
}

func TestClientKeepsTheCallersTransport(t *testing.T) {
	mine := &http.Transport{}
	c := Client(&http.Client{Transport: mine, Timeout: time.Second})
	assert.Same(t, mine, c.Transport.(*Transport).Base)
	assert.Equal(t, time.Second, c.Timeout)
}
