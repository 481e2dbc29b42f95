package backend

import (
	"context"
	"fmt"
	"github.com/secscreen/secscreen/internal/benchsupport"
	"strings"
	"testing"
)

// bigRequest is a request of the size secscreen sends (~23 KB of prompt).
func bigRequest(i int) Request {
	return Request{
		ReportID: fmt.Sprint(i),
		Messages: []Message{
			{Role: System, Content: strings.Repeat("The threat model says what a security bug is. ", 380)},
			{Role: User, Content: fmt.Sprintf("report %d\n", i) + strings.Repeat("A report line with \"quotes\" and <tags>.\n", 100)},
		},
		Schema: []byte(`{"type":"object","properties":{"verdict":{"type":"string"}}}`), PromptVersion: "screen@1", Seed: 42,
	}
}

type instant struct{}

func (instant) Name() string  { return "fake" }
func (instant) Model() string { return "fake-model" }
func (instant) Complete(context.Context, Request) (Reply, error) {
	return Reply{Content: `{"verdict":"security"}`, Usage: Usage{Backend: "fake", Model: "fake-model", PromptTokens: 6000}}, nil
}

// BenchmarkCacheMiss is a call that misses and stores its reply.
func BenchmarkCacheMiss(b *testing.B) {
	c := WithCache(instant{}, Cache{Dir: b.TempDir()})
	ctx := context.Background()
	i := 0
	b.ReportAllocs()
	defer benchsupport.ReportCPU(b, benchsupport.CPUTime())
	for b.Loop() {
		i++
		if _, err := c.Complete(ctx, bigRequest(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheHit is a call answered from the cache.
func BenchmarkCacheHit(b *testing.B) {
	c := WithCache(instant{}, Cache{Dir: b.TempDir()})
	ctx := context.Background()
	req := bigRequest(1)
	if _, err := c.Complete(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer benchsupport.ReportCPU(b, benchsupport.CPUTime())
	for b.Loop() {
		rep, err := c.Complete(ctx, req)
		if err != nil || !rep.Usage.Cached {
			b.Fatal(err, rep.Usage.Cached)
		}
	}
}
