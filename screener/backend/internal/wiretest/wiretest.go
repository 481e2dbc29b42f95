// Package wiretest helps the backends' tests check how their clients use
// connections. It is imported by tests only.
package wiretest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ConcurrentRounds sends rounds of n calls at once to a loopback server and
// returns how many TCP connections the server accepted. The server holds
// each call until all n calls of its round have arrived, so that n
// connections are really in use together, then answers with reply. A
// client whose connection pool follows its concurrency opens n in all; one
// that keeps fewer idle connections than calls in flight opens more in
// every round after the first. client is given the server's URL once and
// returns the call to make, which must read the whole reply; all calls
// share what client built, as a run shares its backend.
func ConcurrentRounds(t testing.TB, rounds, n int, reply http.HandlerFunc, client func(url string) func(context.Context) error) int {
	t.Helper()
	var conns atomic.Int64
	var mu sync.Mutex
	arrived := 0
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		ch := release
		if arrived == n {
			arrived = 0
			close(release)
			release = make(chan struct{})
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-time.After(5 * time.Second): // a client that serialises calls fails the count
		}
		reply(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	call := client(srv.URL)
	for range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() { errs <- call(context.Background()) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("call: %v", err)
			}
		}
		// A connection goes back to the pool just after its body is read.
		time.Sleep(100 * time.Millisecond)
	}
	return int(conns.Load())
}

// Discard reads a request's body to its end, as a server does before
// answering.
func Discard(r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }

// PoolFollowsConcurrency fails t unless a client keeps a connection for
// every call in flight between rounds: ConcurrentRounds with 3 rounds of
// 24 calls, each answered with the JSON body, must open between 24 and 30
// connections (http.DefaultTransport keeps two idle per host, and opened
// about 68).
func PoolFollowsConcurrency(t testing.TB, body string, client func(url string) func(context.Context) error) {
	t.Helper()
	const n, rounds = 24, 3
	got := ConcurrentRounds(t, rounds, n, func(w http.ResponseWriter, r *http.Request) {
		Discard(r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}, client)
	if got < n || got > n+n/4 {
		t.Errorf("%d connections opened for %d rounds of %d calls at once; want %d to %d", got, rounds, n, n, n+n/4)
	}
}
