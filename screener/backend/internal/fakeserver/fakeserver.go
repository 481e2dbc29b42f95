// Package fakeserver is the model server the backends' tests talk to: an
// httptest server that records every request body it receives, decoded
// from JSON, before a test's handler answers it in the wire protocol under
// test. Tests of package openai and package ollama share it.
package fakeserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Handler answers one recorded request; n is its 0-based number among
// the recorded requests.
type Handler func(w http.ResponseWriter, r *http.Request, n int)

// Request is one request the server recorded, decoded generically so
// that a test sees exactly what went over the wire.
type Request struct {
	// Auth is the Authorization header.
	Auth string
	// Path is the URL path.
	Path string
	// Body is the JSON body.
	Body map[string]any
}

// Server is a running fake server.
type Server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []Request
}

// New starts a server that closes when t ends. Every request with a body
// is recorded, then handed to record; routes maps other patterns of
// http.ServeMux ("GET /api/version") to plain handlers that are not
// recorded. A body that is not JSON fails the test.
func New(t testing.TB, record Handler, routes map[string]http.HandlerFunc) *Server {
	t.Helper()
	s := &Server{}
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.HandleFunc(pattern, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("fake server: reading the request body: %v", err)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("fake server: the request body must be JSON: %v", err)
		}
		s.mu.Lock()
		n := len(s.reqs)
		s.reqs = append(s.reqs, Request{Auth: r.Header.Get("Authorization"), Path: r.URL.Path, Body: m})
		s.mu.Unlock()
		record(w, r, n)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// Requests returns a copy of the requests recorded so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}
