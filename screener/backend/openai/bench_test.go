package openai

import (
	"context"
	"github.com/secscreen/secscreen/internal/benchsupport"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secscreen/secscreen/screener/backend"
)

// BenchmarkComplete measures the client's own cost per call (encoding,
// the splice, decoding) against a loopback server that answers at once,
// with a prompt of the size secscreen sends (~23 KB). cpu-ns/op is the
// process's CPU per call, the server's included: on a shared machine it
// varies far less than the wall time.
func BenchmarkComplete(b *testing.B) {
	reply := chatResponse(`{"verdict":"security"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, reply)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + "/v1", Model: "m"})
	if err != nil {
		b.Fatal(err)
	}
	req := testRequest()
	req.Messages = []backend.Message{
		{Role: backend.System, Content: strings.Repeat("The threat model says what a security bug is. ", 380)},
		{Role: backend.User, Content: strings.Repeat("A report line with \"quotes\" and <tags>.\n", 100)},
	}
	b.SetBytes(int64(len(req.Messages[0].Content) + len(req.Messages[1].Content)))
	b.ReportAllocs()
	ctx := context.Background()
	start := benchsupport.CPUTime()
	defer func() { b.ReportMetric(float64(benchsupport.CPUTime()-start)/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		if _, err := c.Complete(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplice is the patch of one ~23 KB request body on its way out:
// the system message's encoding reused, the user message encoded, zero
// temperature added.
func BenchmarkSplice(b *testing.B) {
	p, err := newPlaceholders()
	if err != nil {
		b.Fatal(err)
	}
	contents := []string{strings.Repeat("The threat model says what a security bug is. ", 380),
		strings.Repeat("A report line with \"quotes\" and <tags>.\n", 100)}
	body := []byte(`{"model":"m","messages":[{"role":"system","content":"` + p.of(0) + `"},{"role":"user","content":"` + p.of(1) + `"}],"seed":42}`)
	b.SetBytes(int64(len(contents[0]) + len(contents[1])))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.splice(body, contents, true); err != nil {
			b.Fatal(err)
		}
	}
}
