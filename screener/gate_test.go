package screener

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/openai"
	"github.com/secscreen/secscreen/screener/intake"
)

// isClosed reports whether ch is closed now.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// A slot that holds the analyses holds them from when it is granted
// until its call has left or the slot is given back, whichever comes
// first; a ticket that does not hold, or one still queued, holds nothing.
func TestSlotsHoldTheAnalysesUntilTheirCallsLeave(t *testing.T) {
	s := newSlots(2)
	require.True(t, isClosed(s.callsSent()), "nothing granted, nothing held")
	plain := s.enqueue(1, holdsNothing)
	require.True(t, plain.granted)
	assert.True(t, isClosed(s.callsSent()), "a ticket that does not hold holds nothing")

	a := s.enqueue(2, holdsFromGrant)
	require.True(t, a.granted)
	held := s.callsSent()
	assert.False(t, isClosed(held), "granted, its call not sent")
	queued := s.enqueue(3, holdsFromGrant)
	require.False(t, queued.granted, "no slot free")
	s.sent(a)
	assert.True(t, isClosed(held), "sent")
	s.sent(a) // again: a retry or a repair writes another request
	assert.True(t, isClosed(s.callsSent()))
	s.sending(a) // a reply cache's miss after its lookup
	held = s.callsSent()
	assert.False(t, isClosed(held), "held again until it has left")
	s.sent(a)
	assert.True(t, isClosed(held))

	s.release(plain) // the queued ticket is granted its slot
	require.True(t, queued.granted)
	held = s.callsSent()
	assert.False(t, isClosed(held), "granted on release, its call not sent")
	s.release(queued) // returned without sending (a cache hit, an error)
	assert.True(t, isClosed(held), "given back")
	s.sent(queued) // late announcements change nothing
	s.sending(queued)
	assert.True(t, isClosed(s.callsSent()))
	s.sending(plain) // a ticket that does not hold holds nothing
	assert.True(t, isClosed(s.callsSent()))
	s.release(a)
	assert.Equal(t, 2, s.free)

	// Behind a reply cache a slot holds only from the miss on.
	c := s.enqueue(4, holdsOnSending)
	require.True(t, c.granted)
	assert.True(t, isClosed(s.callsSent()), "granted: its lookup need not go first")
	s.sending(c)
	held = s.callsSent()
	assert.False(t, isClosed(held), "a miss goes first")
	s.sent(c)
	assert.True(t, isClosed(held))
	s.release(c)
}

// The preparer's pool starts no analysis while a call is unsent: here the
// pool has taken the report and asked whether calls are unsent, and the
// analysis (the vote that follows it) comes only after the test lets the
// calls go.
func TestThePoolWaitsForTheCallsToLeave(t *testing.T) {
	voter := &evVoter{}
	s := newTestScreener(t, nil, func(c *Config) { c.Voter = voter })
	gate := make(chan struct{})
	asked := make(chan struct{}, 1)
	var log []string
	var mu sync.Mutex
	note := func(what string) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, what)
	}
	p := s.newPreparer(context.Background(), 1, func() <-chan struct{} {
		select {
		case asked <- struct{}{}:
		default:
		}
		return gate
	})
	ctx := p.start(context.Background(), report(1, "A use-after-free reachable by an unprivileged user."), true)
	<-asked // the worker has the report and waits for the gate
	note("calls sent")
	close(gate)
	pr := ctx.Value(preparedKey{}).(*prepared)
	<-pr.done
	note("analysed")
	p.stop()
	assert.Equal(t, []string{"calls sent", "analysed"}, log)
	assert.True(t, pr.a.voted)
	assert.EqualValues(t, 1, voter.votes.Load())
}

// The pool also stops waiting when the run is cancelled: the report gets
// its cancelled row, and the pool its end.
func TestThePoolStopsWaitingWhenTheRunIsCancelled(t *testing.T) {
	s := newTestScreener(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	never := make(chan struct{})
	p := s.newPreparer(ctx, 1, func() <-chan struct{} { return never })
	pctx := p.start(ctx, report(1, "A use-after-free reachable by an unprivileged user."), false)
	cancel()
	p.stop()
	pr := pctx.Value(preparedKey{}).(*prepared)
	assert.ErrorIs(t, pr.err, context.Canceled)
}

// A run over the OpenAI client and a fake server, whose calls hold the
// analyses until they are written: every report gets its row with the
// model's answer and the voter's opinion, each round of calls reaches the
// server whole (the server holds a round until all of it has arrived, so a
// run whose calls waited for analyses that waited for them would never
// end), and no more calls are in flight than the run's concurrency.
func TestARunWhoseCallsHoldTheAnalysesScreensEveryReport(t *testing.T) {
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("reply cache %v", cached), func(t *testing.T) { runHoldingTheAnalyses(t, cached) })
	}
}

// runHoldingTheAnalyses is TestARunWhoseCallsHoldTheAnalysesScreensEveryReport
// with a reply cache in front of the client or without.
func runHoldingTheAnalyses(t *testing.T, cached bool) {
	const n, rounds = 4, 3
	var (
		mu       sync.Mutex
		arrived  int
		round    = make(chan struct{})
		inFlight atomic.Int32
		maxSeen  atomic.Int32
	)
	answer := answerJSON("not-security", "privilege.root", 0.8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for old := maxSeen.Load(); cur > old && !maxSeen.CompareAndSwap(old, cur); old = maxSeen.Load() {
		}
		mu.Lock()
		arrived++
		mine := round
		if arrived%n == 0 {
			close(round)
			round = make(chan struct{})
		}
		mu.Unlock()
		select {
		case <-mine:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":%q}}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`, answer)
	}))
	defer srv.Close()
	client, err := openai.New(openai.Config{BaseURL: srv.URL + "/v1", Model: "m", Timeout: time.Minute})
	require.NoError(t, err)
	voter := &evVoter{}
	layers := backend.Layers{}
	if cached {
		layers.Cache = &backend.Cache{Dir: t.TempDir()}
	}
	s := newTestScreener(t, backend.Wrap(client, layers), func(c *Config) {
		c.Concurrency = n
		c.Voter = voter
		c.EmitAsDone = true
	})
	require.True(t, s.announces, "the OpenAI client says when its requests have left")
	want := holdsFromGrant
	if cached {
		want = holdsOnSending
	}
	require.Equal(t, want, s.holding(true))
	var items []intake.Item
	for i := range n * rounds {
		r := report(i, fmt.Sprintf("Use-after-free number %d in the af_unix garbage collector, reachable by an unprivileged user.", i))
		items = append(items, intake.Item{Source: r.Source, Report: r})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got, sum := collect(s, ctx, items)
	require.False(t, sum.Cancelled)
	require.Len(t, got, n*rounds)
	for _, r := range got {
		require.Nil(t, r.Error, r.ID)
		require.NotNil(t, r.Model, r.ID)
		assert.True(t, r.Model.OK(), r.Model.Error)
		require.NotNil(t, r.Baseline, r.ID)
		assert.Empty(t, r.Baseline.Error)
	}
	assert.EqualValues(t, n*rounds, voter.votes.Load())
	assert.LessOrEqual(t, maxSeen.Load(), int32(n))
}
