package screener_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/openai"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// faultyServer speaks the OpenAI chat-completions protocol and fails a
// seeded share of requests in every way a real server or network does:
// 429 storms, 5xx, connection resets, replies slower than the client's
// timeout, truncated JSON, an answer that is not JSON. After dieAfter
// requests it stops listening, as a server that dies mid-run.
type faultyServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	rng      *rand.Rand
	requests atomic.Int32
	dieAfter int32
	died     sync.Once
	faults   map[string]int
}

const goodAnswer = `{"verdict":"not-security","category":"privilege.root","confidence":0.8,"attacker_privileges":"root","boundary_crossed":"none","missing_information":[],"ai_generated_signs":[],"rationale":"root only","cited_clauses":["privilege.root"]}`

func newFaultyServer(t *testing.T, seed uint64, dieAfter int32) *faultyServer {
	fs := &faultyServer{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), dieAfter: dieAfter, faults: map[string]int{}}
	fs.srv = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *faultyServer) pick() string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	r := fs.rng.Float64()
	var f string
	switch {
	case r < 0.40:
		f = "ok"
	case r < 0.52:
		f = "429"
	case r < 0.62:
		f = "5xx"
	case r < 0.70:
		f = "reset"
	case r < 0.75:
		f = "slow"
	case r < 0.85:
		f = "truncated"
	case r < 0.95:
		f = "not-json"
	default:
		f = "bad-schema"
	}
	fs.faults[f]++
	return f
}

func (fs *faultyServer) serve(w http.ResponseWriter, r *http.Request) {
	n := fs.requests.Add(1)
	if n > fs.dieAfter {
		fs.died.Do(func() { go fs.srv.CloseClientConnections(); fs.srv.Listener.Close() })
		hijackAndClose(w)
		return
	}
	_, _ = io.Copy(io.Discard, r.Body)
	reply := func(content string) []byte {
		b, _ := json.Marshal(map[string]any{
			"id": "c", "object": "chat.completion", "created": 1, "model": "m",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": content}}},
			"usage": map[string]any{"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
		})
		return b
	}
	w.Header().Set("Content-Type", "application/json")
	switch fs.pick() {
	case "ok":
		_, _ = w.Write(reply(goodAnswer))
	case "429":
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"error":{"message":"rate limited","type":"rate_limit"}}`)
	case "5xx":
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"error":{"message":"overloaded"}}`)
	case "reset":
		hijackAndClose(w)
	case "slow":
		select {
		case <-time.After(400 * time.Millisecond):
		case <-r.Context().Done():
		}
		_, _ = w.Write(reply(goodAnswer))
	case "truncated":
		b := reply(goodAnswer)
		_, _ = w.Write(b[:len(b)/2])
	case "not-json":
		_, _ = w.Write(reply("I think this is probably not a security bug."))
	case "bad-schema":
		_, _ = w.Write(reply(`{"verdict":"maybe","category":"nope","confidence":7}`))
	}
}

// hijackAndClose drops the connection without an HTTP reply.
func hijackAndClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Five hundred reports through the real OpenAI client, its retry layer and
// the screener, against a server that fails in every way and then dies:
// every input yields exactly one row, and no report is tried more often
// than the retry policy allows.
func TestBatchSurvivesBackendFaults(t *testing.T) {
	const reports, maxAttempts = 500, 3
	fs := newFaultyServer(t, 7, 1100)
	client, err := openai.New(openai.Config{BaseURL: fs.srv.URL + "/v1", Model: "m", Timeout: 200 * time.Millisecond})
	require.NoError(t, err)
	b := backend.Wrap(client, backend.Layers{Retry: backend.RetryPolicy{
		MaxAttempts: maxAttempts, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
	}})
	tm := threatmodel.Kernel()
	set := rules.KernelRules()
	eng, err := rules.NewEngine(tm, set, rules.Options{})
	require.NoError(t, err)
	tpl, err := prompts.Load("")
	require.NoError(t, err)
	llm, err := screener.NewLLM(screener.LLMConfig{Backend: b, Prompt: tpl, ThreatModel: tm})
	require.NoError(t, err)
	s, err := screener.New(screener.Config{ThreatModel: tm, Rules: eng, Classifier: llm, Concurrency: 8})
	require.NoError(t, err)

	items := func(yield func(intake.Item) bool) {
		for i := range reports {
			r := &intake.Report{ID: fmt.Sprintf("r%03d", i), Source: fmt.Sprintf("batch.mbox:%d", i+1),
				Subject: fmt.Sprintf("report %d", i), Body: fmt.Sprintf("Report %d: root can crash the driver with a bad ioctl.", i),
				Hash: fmt.Sprintf("h%03d", i)}
			if !yield(intake.Item{Source: r.Source, Report: r}) {
				return
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seen := map[string]int{}
	answered, failed := 0, 0
	sum := s.Run(ctx, items, func(r screener.Result) {
		seen[r.Source]++
		if r.Model == nil {
			return
		}
		// The answer, plus at most one repair call, each retried.
		assert.LessOrEqual(t, r.Model.Usage.Attempts, 2*maxAttempts, r.ID)
		if r.Model.OK() {
			answered++
		} else {
			failed++
			assert.NotEmpty(t, r.Verdict, "a failed model call keeps the rules' label: %s", r.ID)
		}
	})
	require.NoError(t, ctx.Err(), "the batch finished")
	assert.Len(t, seen, reports, "every input has a row")
	for src, n := range seen {
		assert.Equal(t, 1, n, "%s has exactly one row", src)
	}
	assert.Equal(t, reports, sum.Inputs)
	assert.Equal(t, reports, answered+failed)
	assert.Positive(t, answered, "the good replies were used")
	assert.Positive(t, failed, "the faults and the dead server were felt")
	assert.LessOrEqual(t, int(fs.requests.Load()), reports*2*maxAttempts, "retries are bounded")
	t.Logf("server saw %d requests, faults %v; %d answered, %d fell back to the rules", fs.requests.Load(), fs.faults, answered, failed)
}
