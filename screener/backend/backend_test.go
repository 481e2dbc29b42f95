package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scripted is a Backend that returns the errors in script one per call,
// then succeeds, counting calls.
type scripted struct {
	mu     sync.Mutex
	script []error
	calls  int
	reqs   []Request
}

func (s *scripted) Name() string  { return "fake" }
func (s *scripted) Model() string { return "fake-model" }

func (s *scripted) Complete(ctx context.Context, req Request) (Reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.reqs = append(s.reqs, req)
	if len(s.script) > 0 {
		err := s.script[0]
		s.script = s.script[1:]
		if err != nil {
			return Reply{}, err
		}
	}
	return Reply{
		Content: fmt.Sprintf(`{"n":%d}`, s.calls),
		Usage:   Usage{Backend: "fake", Model: "fake-model", PromptTokens: 10, CompletionTokens: 5, Attempts: 1},
	}, nil
}

// sleeper records requested sleeps without waiting.
type sleeper struct{ slept []time.Duration }

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.slept = append(s.slept, d)
	return ctx.Err()
}

func noJitter() float64 { return 0 }

func req(user string) Request {
	return Request{
		ReportID:      "r-" + user,
		Messages:      []Message{{Role: System, Content: "sys"}, {Role: User, Content: user}},
		Schema:        json.RawMessage(`{"type": "object"}`),
		Seed:          1,
		PromptVersion: "screen@1",
	}
}

func TestRetryBacksOffExponentiallyThenSucceeds(t *testing.T) {
	b := &scripted{script: []error{
		&HTTPError{Status: 500}, &HTTPError{Status: 502}, fmt.Errorf("x: %w", ErrTimeout),
	}}
	s := &sleeper{}
	var retried []int
	r := WithRetry(b, RetryPolicy{
		BaseDelay: time.Second, Sleep: s.Sleep, Jitter: noJitter,
		OnRetry: func(n int, _ time.Duration, _ error) { retried = append(retried, n) },
	})
	rep, err := r.Complete(context.Background(), req("a"))
	require.NoError(t, err)
	assert.Equal(t, 4, rep.Usage.Attempts)
	assert.Equal(t, 4, b.calls)
	// Equal jitter with Jitter()=0 keeps the lower half: 1s, 2s, 4s → 0.5s, 1s, 2s.
	assert.Equal(t, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}, s.slept)
	assert.Equal(t, []int{1, 2, 3}, retried)
	assert.Equal(t, "fake", r.Name())
	assert.Equal(t, "fake-model", r.Model())
}

func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	b := &scripted{script: []error{&HTTPError{Status: 503}, &HTTPError{Status: 503}, &HTTPError{Status: 503}}}
	s := &sleeper{}
	_, err := WithRetry(b, RetryPolicy{MaxAttempts: 3, Sleep: s.Sleep}).Complete(context.Background(), req("a"))
	require.Error(t, err)
	assert.Equal(t, 3, b.calls)
	assert.Len(t, s.slept, 2)
	assert.Contains(t, err.Error(), "gave up after 3 attempts")
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 503, he.Status)
}

func TestRetryNeverRepeatsClientErrors(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 422} {
		b := &scripted{script: []error{&HTTPError{Status: status}}}
		s := &sleeper{}
		_, err := WithRetry(b, RetryPolicy{Sleep: s.Sleep}).Complete(context.Background(), req("a"))
		require.Error(t, err, status)
		assert.Equal(t, 1, b.calls, status)
		assert.Empty(t, s.slept, status)
	}
	for _, status := range []int{408, 429} {
		b := &scripted{script: []error{&HTTPError{Status: status}}}
		_, err := WithRetry(b, RetryPolicy{Sleep: (&sleeper{}).Sleep}).Complete(context.Background(), req("a"))
		require.NoError(t, err, status)
		assert.Equal(t, 2, b.calls, status)
	}
	b := &scripted{script: []error{ErrBadReply}}
	_, err := WithRetry(b, RetryPolicy{Sleep: (&sleeper{}).Sleep}).Complete(context.Background(), req("a"))
	require.ErrorIs(t, err, ErrBadReply)
	assert.Equal(t, 1, b.calls)
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	b := &scripted{script: []error{&HTTPError{Status: 429, RetryAfter: 9 * time.Second}, &HTTPError{Status: 429, RetryAfter: time.Millisecond}}}
	s := &sleeper{}
	_, err := WithRetry(b, RetryPolicy{BaseDelay: time.Second, Sleep: s.Sleep, Jitter: noJitter}).Complete(context.Background(), req("a"))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{9 * time.Second, time.Second}, s.slept, "Retry-After wins only when longer than the backoff")
}

func TestRetryRefusesAnAbsurdRetryAfter(t *testing.T) {
	b := &scripted{script: []error{&HTTPError{Status: 429, RetryAfter: time.Hour}}}
	s := &sleeper{}
	_, err := WithRetry(b, RetryPolicy{Sleep: s.Sleep}).Complete(context.Background(), req("a"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "asked to wait 1h0m0s")
	assert.Empty(t, s.slept)
	assert.Equal(t, 1, b.calls)
}

func TestRetryStopsWhenContextEndsDuringSleep(t *testing.T) {
	b := &scripted{script: []error{&HTTPError{Status: 500}, &HTTPError{Status: 500}}}
	ctx, cancel := context.WithCancel(context.Background())
	sleep := func(ctx context.Context, d time.Duration) error {
		cancel() // the user presses ^C while we wait
		return SleepContext(ctx, time.Hour)
	}
	_, err := WithRetry(b, RetryPolicy{Sleep: sleep}).Complete(ctx, req("a"))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, b.calls)
}

func TestSleepContext(t *testing.T) {
	require.NoError(t, SleepContext(context.Background(), time.Microsecond))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, SleepContext(ctx, time.Hour), context.Canceled)
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	p := RetryPolicy{BaseDelay: time.Second, MaxDelay: 5 * time.Second, Jitter: func() float64 { return 0.999 }}
	assert.InDelta(t, float64(time.Second), float64(p.Backoff(1)), float64(time.Millisecond))
	assert.InDelta(t, float64(5*time.Second), float64(p.Backoff(10)), float64(10*time.Millisecond))
	p.Jitter = noJitter
	assert.Equal(t, 2500*time.Millisecond, p.Backoff(10))
	assert.Equal(t, 2500*time.Millisecond, p.Backoff(1000), "no overflow")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	assert.Equal(t, 120*time.Second, ParseRetryAfter("120", now))
	assert.Equal(t, 1500*time.Millisecond, ParseRetryAfter(" 1.5 ", now))
	assert.Equal(t, 30*time.Second, ParseRetryAfter(now.Add(30*time.Second).Format(http.TimeFormat), now))
	assert.Zero(t, ParseRetryAfter(now.Add(-time.Minute).Format(http.TimeFormat), now))
	assert.Zero(t, ParseRetryAfter("", now))
	assert.Zero(t, ParseRetryAfter("soon", now))
	assert.Zero(t, ParseRetryAfter("-5", now))
}

func TestNewHTTPErrorTrimsAndRedacts(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", "4")
	body := "bad key sk-SECRET123\n\n   " + strings.Repeat("é", 600)
	e := NewHTTPError(401, h, []byte(body), "sk-SECRET123")
	assert.Equal(t, 4*time.Second, e.RetryAfter)
	assert.NotContains(t, e.Error(), "sk-SECRET123")
	assert.Contains(t, e.Error(), "HTTP 401 Unauthorized: bad key [REDACTED] éé")
	assert.NotContains(t, e.Error(), "\n")
	assert.LessOrEqual(t, len(e.Body), maxErrorBody+len("…"))
	assert.True(t, strings.HasSuffix(e.Body, "…"))
	assert.False(t, e.Retryable())
}

func TestIsRetryable(t *testing.T) {
	assert.True(t, IsRetryable(io.ErrUnexpectedEOF))
	assert.True(t, IsRetryable(fmt.Errorf("wrapped: %w", &HTTPError{Status: 504})))
	assert.True(t, IsRetryable(Transient(errors.New("cut"))))
	assert.False(t, IsRetryable(context.Canceled))
	assert.False(t, IsRetryable(errors.New("plain")))
	assert.False(t, IsRetryable(nil))
	assert.Nil(t, Transient(nil))
}

func TestRateLimitSpacesCalls(t *testing.T) {
	b := &scripted{}
	assert.Same(t, Backend(b), WithRateLimit(b, 0, 1), "rps 0 disables the limit")
	r := WithRateLimit(b, 1e-6, 1) // one token now, the next in ~11 days
	_, err := r.Complete(context.Background(), req("a"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = r.Complete(ctx, req("b"))
	require.Error(t, err, "the second call must wait for a token it cannot get before ctx ends")
	assert.Contains(t, err.Error(), "rate limit")
	assert.Equal(t, 1, b.calls)
}

func TestCacheHitMissAndUsage(t *testing.T) {
	dir := t.TempDir()
	b := &scripted{}
	c := WithCache(b, Cache{Dir: dir})

	first, err := c.Complete(context.Background(), req("a"))
	require.NoError(t, err)
	assert.False(t, first.Usage.Cached)

	again, err := c.Complete(context.Background(), req("a"))
	require.NoError(t, err)
	assert.Equal(t, 1, b.calls, "the second call is served from disk")
	assert.Equal(t, first.Content, again.Content)
	assert.True(t, again.Usage.Cached)
	assert.Equal(t, 0, again.Usage.Attempts)
	assert.Equal(t, first.Usage.PromptTokens, again.Usage.PromptTokens)

	other, err := c.Complete(context.Background(), req("b"))
	require.NoError(t, err)
	assert.Equal(t, 2, b.calls, "different messages, different key")
	assert.NotEqual(t, first.Content, other.Content)

	// A fresh wrapper over the same directory replays too.
	b2 := &scripted{}
	rep, err := WithCache(b2, Cache{Dir: dir, Mode: CacheOffline}).Complete(context.Background(), req("a"))
	require.NoError(t, err)
	assert.Equal(t, first.Content, rep.Content)
	assert.Zero(t, b2.calls)

	files := cacheFiles(t, dir)
	require.Len(t, files, 2)
	var e cacheEntry
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &e))
	assert.Equal(t, strings.TrimSuffix(filepath.Base(files[0]), ".json"), e.Key)
	var km CacheKeyMaterial
	require.NoError(t, json.Unmarshal(e.Request, &km), "the entry shows the request it answers")
	assert.Equal(t, "fake", km.Backend)
	assert.Equal(t, "screen@1", km.PromptVersion)
	assert.Equal(t, e.Key, km.Key(), "the stored request hashes to the entry's key")
	assert.False(t, e.Usage.Cached)
}

func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			assert.False(t, strings.HasPrefix(d.Name(), ".tmp-"), "no temporary file left behind")
			files = append(files, p)
		}
		return err
	}))
	return files
}

func TestCacheOfflineMissIsAnError(t *testing.T) {
	b := &scripted{}
	_, err := WithCache(b, Cache{Dir: t.TempDir(), Mode: CacheOffline}).Complete(context.Background(), req("a"))
	require.ErrorIs(t, err, ErrCacheMiss)
	assert.Contains(t, err.Error(), "offline")
	assert.Zero(t, b.calls, "offline mode never calls the model")
}

func TestCacheDisabledIsTransparent(t *testing.T) {
	b := &scripted{}
	assert.Same(t, Backend(b), WithCache(b, Cache{Dir: t.TempDir(), Mode: CacheDisabled}))
}

func TestCacheCorruptFileIsAMissAndIsRepaired(t *testing.T) {
	dir := t.TempDir()
	b := &scripted{}
	c := WithCache(b, Cache{Dir: dir})
	_, err := c.Complete(context.Background(), req("a"))
	require.NoError(t, err)
	files := cacheFiles(t, dir)
	require.Len(t, files, 1)
	require.NoError(t, os.WriteFile(files[0], []byte(`{"key": "trunc`), 0o600))

	rep, err := c.Complete(context.Background(), req("a"))
	require.NoError(t, err)
	assert.False(t, rep.Usage.Cached)
	assert.Equal(t, 2, b.calls)

	rep, err = c.Complete(context.Background(), req("a"))
	require.NoError(t, err)
	assert.True(t, rep.Usage.Cached, "the corrupt entry was rewritten")
}

// The key of a fixed request is pinned: a change to Request or to the key
// derivation that moved it would make every warm cache miss silently
// (bump cacheFormat on purpose instead, and update this value).
func TestCacheKeyIsStable(t *testing.T) {
	assert.Equal(t, "1a033d28137e940f070f3e4b4c3edb4ce113b50c04da763bdc68a05e9c580e97", KeyMaterial("openai", "m", req("a")).Key())
}

func TestCacheKeyCoversEveryInput(t *testing.T) {
	base := req("a")
	key := func(name, model string, r Request) string { return KeyMaterial(name, model, r).Key() }
	k0 := key("openai", "m", base)
	assert.Len(t, k0, 64)
	assert.Equal(t, k0, key("openai", "m", base), "deterministic")

	ws := base
	ws.Schema = json.RawMessage("{\n  \"type\" : \"object\"\n}")
	assert.Equal(t, k0, key("openai", "m", ws), "schema whitespace does not matter")
	ws.ReportID = "another id"
	assert.Equal(t, k0, key("openai", "m", ws), "the report id is not an input of the model")

	variants := map[string]func(*Request){
		"messages":    func(r *Request) { r.Messages = []Message{{Role: System, Content: "sys"}, {Role: User, Content: "b"}} },
		"role":        func(r *Request) { r.Messages = []Message{{Role: User, Content: "sys"}, {Role: User, Content: "a"}} },
		"schema":      func(r *Request) { r.Schema = json.RawMessage(`{"type":"array"}`) },
		"temperature": func(r *Request) { r.Temperature = 0.5 },
		"seed":        func(r *Request) { r.Seed = 2 },
		"prompt":      func(r *Request) { r.PromptVersion = "screen@2" },
		"bad schema":  func(r *Request) { r.Schema = json.RawMessage(`{not json`) },
	}
	seen := map[string]string{k0: "base"}
	for name, mod := range variants {
		r := base
		r.Messages = append([]Message(nil), base.Messages...)
		mod(&r)
		k := key("openai", "m", r)
		assert.NotContains(t, seen, k, "%s collides with %s", name, seen[k])
		seen[k] = name
	}
	assert.NotEqual(t, k0, key("ollama", "m", base))
	assert.NotEqual(t, k0, key("openai", "m2", base))
}

func TestPriceTableCost(t *testing.T) {
	pt := PriceTable{
		"gpt-4o-mini": {PromptPer1M: 0.15, CompletionPer1M: 0.60},
		"gpt-4o":      {PromptPer1M: 2.50, CompletionPer1M: 10},
	}
	cost, ok := pt.Cost(Usage{Model: "gpt-4o-mini", PromptTokens: 1_000_000, CompletionTokens: 500_000})
	assert.True(t, ok)
	assert.InDelta(t, 0.45, cost, 1e-9)

	cost, ok = pt.Cost(Usage{Model: "gpt-4o-mini-2024-07-18", PromptTokens: 2_000_000})
	assert.True(t, ok, "dated names match their base entry")
	assert.InDelta(t, 0.30, cost, 1e-9, "the longest prefix wins: gpt-4o-mini, not gpt-4o")

	cost, ok = pt.Cost(Usage{Model: "gpt-4o-mini", PromptTokens: 1000, Cached: true})
	assert.True(t, ok)
	assert.Zero(t, cost)

	_, ok = pt.Cost(Usage{Model: "llama3"})
	assert.False(t, ok)
	_, ok = pt.Cost(Usage{Model: "gpt-4oX"})
	assert.False(t, ok, "a prefix must end at a separator")
}

func TestWrapOrder(t *testing.T) {
	dir := t.TempDir()
	b := &scripted{script: []error{&HTTPError{Status: 500}}}
	w := Wrap(b, Layers{Retry: RetryPolicy{Sleep: (&sleeper{}).Sleep}, RPS: 1000, Burst: 10, Cache: &Cache{Dir: dir}})
	rep, err := w.Complete(context.Background(), req("a"))
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Usage.Attempts, "retry is inside the cache")
	rep, err = w.Complete(context.Background(), req("a"))
	require.NoError(t, err)
	assert.True(t, rep.Usage.Cached)
	assert.Equal(t, 2, b.calls)
}

func TestParseCacheMode(t *testing.T) {
	for s, want := range map[string]CacheMode{"": CacheReadWrite, "on": CacheReadWrite, "offline": CacheOffline, "off": CacheDisabled} {
		got, err := ParseCacheMode(s)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		if s != "" && s != "on" {
			assert.Equal(t, s, got.String())
		}
	}
	_, err := ParseCacheMode("sometimes")
	assert.Error(t, err)
}

func TestCacheLeavesMessagelessRequestsAlone(t *testing.T) {
	dir := t.TempDir()
	b := &scripted{}
	for _, mode := range []CacheMode{CacheReadWrite, CacheOffline} {
		c := WithCache(b, Cache{Dir: dir, Mode: mode})
		for range 2 {
			rep, err := c.Complete(context.Background(), Request{ReportID: "direct"})
			require.NoError(t, err, mode)
			assert.False(t, rep.Usage.Cached, mode)
		}
	}
	assert.Equal(t, 4, b.calls)
	assert.Empty(t, cacheFiles(t, dir))
}

// A call that must wait for the rate limit says so first (the caller's
// work need not give way to it any longer); one that has a token goes on
// without a word.
func TestRateLimitSaysWhenACallWaits(t *testing.T) {
	b := &scripted{}
	r := WithRateLimit(b, 1e-6, 1)
	var waited atomic.Int32
	ctx := WithWaiting(context.Background(), func() { waited.Add(1) }, nil)
	_, err := r.Complete(ctx, req("a"))
	require.NoError(t, err)
	assert.EqualValues(t, 0, waited.Load(), "a token was there")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = r.Complete(cctx, req("b"))
	require.Error(t, err)
	assert.EqualValues(t, 1, waited.Load(), "no token: it waits, and says so")
	assert.True(t, AnnouncesSending(WithRetry(WithRateLimit(announcing{b}, 1, 1), RetryPolicy{})), "the layers pass it through")
	assert.False(t, AnnouncesSending(WithRetry(b, RetryPolicy{})))
}

// announcing is a backend that says it announces its requests.
type announcing struct{ *scripted }

func (announcing) AnnouncesSending() bool { return true }

// The reply cache says its lookup need not go first, and that a miss goes
// on to the server, first again; a hit says nothing more.
func TestCacheAnnouncesItsLookupAndItsMisses(t *testing.T) {
	b := &scripted{}
	c := WithCache(b, Cache{Dir: t.TempDir()})
	var said []string
	ctx := WithWaiting(context.Background(), func() { said = append(said, "waiting") }, func() { said = append(said, "sending") })
	_, err := c.Complete(ctx, req("a"))
	require.NoError(t, err)
	assert.Equal(t, []string{"waiting", "sending"}, said, "a miss")
	said = nil
	_, err = c.Complete(ctx, req("a"))
	require.NoError(t, err)
	assert.Equal(t, []string{"waiting"}, said, "a hit")
	assert.True(t, LooksUpFirst(c))
	assert.False(t, LooksUpFirst(WithRetry(c, RetryPolicy{})), "only a cache outermost looks up first")
	assert.False(t, LooksUpFirst(b))
}
