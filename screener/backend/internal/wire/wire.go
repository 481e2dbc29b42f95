// Package wire is an http.RoundTripper that lets a backend see the HTTP
// exchange behind a client library's call: the status, the headers and the
// error body that libraries digest into their own error types (losing
// Retry-After on the way), and, when asked, to rewrite the JSON request body
// just before it is sent.
//
// A backend makes one Exchange per call and attaches it to the call's
// context:
//
//	ctx, ex := wire.Record(ctx)
//	ex.Patch = func(body []byte) ([]byte, error) { ... }
//	err := lib.Call(ctx, ...)   // the library's http.Client uses wire.Transport
//	if ex.Status >= 400 { ... ex.Header, ex.Body ... }
//
// Requests whose context carries no Exchange pass through untouched. A
// request whose context carries backend.WithWaiting's function calls it
// once the request has been written (an httptrace hook), for either.
//
// When the call fails, Call.Classify reads the Exchange to turn the
// library's error into one that package backend judges (timeout, HTTP
// status with Retry-After, bad reply, no reply): the part of that the
// openai and ollama clients share.
package wire

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"

	"github.com/secscreen/secscreen/screener/backend"
)

// MaxErrorBody bounds how much of an error response is kept in memory.
const MaxErrorBody = 64 << 10

// Exchange records one HTTP exchange. One Exchange serves one call; a
// library that sends several requests per call leaves the last one here.
type Exchange struct {
	// Patch, if set, rewrites the request body before it is sent.
	Patch func(body []byte) ([]byte, error)
	// Status is the response status code, 0 if no response arrived.
	Status int
	// Header is the response header.
	Header http.Header
	// Body holds the start of the response body when Status >= 400. The
	// library still reads the whole body as the server sent it.
	Body []byte
}

type key struct{}

// Record returns ctx carrying a fresh Exchange, and that Exchange.
func Record(ctx context.Context) (context.Context, *Exchange) {
	ex := &Exchange{}
	return context.WithValue(ctx, key{}, ex), ex
}

// MaxIdlePerHost is how many idle connections Pooled keeps to one server.
// Idle connections are those a burst of concurrent calls opened, so the
// pool follows the caller's concurrency up to this bound.
const MaxIdlePerHost = 1024

// Pooled is the transport a Client without one of its own sends with:
// http.DefaultTransport's settings (proxy from the environment, dial and
// TLS timeouts), except that it keeps idle connections to a server for
// every call made at once. http.DefaultTransport keeps two per host, so
// with 64 calls in flight 62 of them opened and closed a connection for
// every call, and with a 200 ms model the client spent its time dialling.
// It is shared by every client of the process, as http.DefaultTransport is.
var Pooled = sync.OnceValue(func() http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return http.DefaultTransport // replaced by the program: keep its choice
	}
	t = t.Clone()
	t.MaxIdleConns = 0 // no bound across servers; MaxIdleConnsPerHost bounds each
	t.MaxIdleConnsPerHost = MaxIdlePerHost
	return t
})

// Transport wraps Base (Pooled() when nil) to serve the Exchange found in
// each request's context, and to say when each request has been written
// (backend.Waiting).
type Transport struct {
	Base http.RoundTripper
}

// Client returns an http.Client that uses a Transport over base's own
// transport (Pooled() when base or its Transport is nil), keeping base's
// other settings.
func Client(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	c.Transport = &Transport{Base: c.Transport}
	return c
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = Pooled()
	}
	if ctx := req.Context(); backend.HasWaiting(ctx) {
		// The caller wants to know when the request has left (see
		// backend.WithWaiting).
		req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { backend.Waiting(ctx) },
		}))
	}
	ex, _ := req.Context().Value(key{}).(*Exchange)
	if ex == nil {
		return base.RoundTrip(req)
	}
	if ex.Patch != nil && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading request body: %w", err)
		}
		if body, err = ex.Patch(body); err != nil {
			return nil, fmt.Errorf("rewriting request body: %w", err)
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	ex.Status, ex.Header = resp.StatusCode, resp.Header
	if resp.StatusCode >= 400 {
		head, rerr := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
		ex.Body = head
		if rerr != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("reading HTTP %d error body: %w", resp.StatusCode, rerr)
		}
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	}
	return resp, nil
}
