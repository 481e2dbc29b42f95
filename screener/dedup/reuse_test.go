package dedup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/benchsupport"
	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// The tests of this file prove that a report waiting for the decision of
// an earlier one it duplicates holds no slot of the run: the model call of
// the first report returns only once the calls of later, distinct reports
// have, which can happen only if the reports waiting on it left the slots
// to them.

// deadlockGuard ends a call that would otherwise wait forever, so that a
// regression fails the test instead of hanging it.
const deadlockGuard = 30 * time.Second

var errDeadlock = errors.New("the first call was never released: the reports waiting for its decision held the slots")

// gated is a Backend that answers "not-security" to every report, except
// that its first call for the report first is held until the calls for
// the reports of others have returned, and then answers firstErr when set.
// The calls for others start once that first call has: it is held while
// they are made.
type gated struct {
	first    string
	others   map[string]bool
	firstErr error

	calls    atomic.Int32
	mu       sync.Mutex
	asked    []string // report ids, in call order
	returned int
	started  chan struct{}
	release  chan struct{}
	held     bool
}

func newGated(first string, others []string, firstErr error) *gated {
	g := &gated{first: first, others: map[string]bool{}, firstErr: firstErr, started: make(chan struct{}), release: make(chan struct{})}
	for _, o := range others {
		g.others[o] = true
	}
	return g
}

func (g *gated) Name() string  { return "gated" }
func (g *gated) Model() string { return "test-model" }
func (g *gated) Complete(ctx context.Context, req backend.Request) (backend.Reply, error) {
	g.calls.Add(1)
	if g.others[req.ReportID] {
		select {
		case <-g.started:
		case <-time.After(deadlockGuard):
			return backend.Reply{}, errors.New("the first call never started")
		}
	}
	g.mu.Lock()
	g.asked = append(g.asked, req.ReportID)
	hold := req.ReportID == g.first && !g.held
	if hold {
		g.held = true
		close(g.started)
	}
	g.mu.Unlock()
	if hold {
		select {
		case <-g.release:
		case <-time.After(deadlockGuard):
			return backend.Reply{}, errDeadlock
		case <-ctx.Done():
			return backend.Reply{}, ctx.Err()
		}
		if g.firstErr != nil {
			return backend.Reply{}, g.firstErr
		}
	}
	reply := answerReply("not-security", "config.debug-feature")
	if g.others[req.ReportID] {
		g.mu.Lock()
		g.returned++
		if g.returned == len(g.others) {
			close(g.release)
		}
		g.mu.Unlock()
	}
	return reply, nil
}

func answerReply(verdict, category string) backend.Reply {
	b, _ := json.Marshal(prompts.Answer{Label: threatmodel.Label{Verdict: threatmodel.Verdict(verdict), Category: category}, Confidence: 0.9,
		AttackerPrivileges: "unprivileged local user", BoundaryCrossed: "none",
		MissingInformation: []string{}, AIGeneratedSigns: []string{}, Rationale: "test", CitedClauses: []string{category}})
	return backend.Reply{Content: string(b), Usage: backend.Usage{Backend: "test", Model: "test-model", Attempts: 1}}
}

// screenerWith is newScreener with cfg changed by mutate.
func screenerWith(t testing.TB, b backend.Backend, dups screener.Duplicates, mutate func(*screener.Config)) *screener.Screener {
	t.Helper()
	tm := threatmodel.Kernel()
	set := rules.KernelRules()
	eng, err := rules.NewEngine(tm, set, rules.Options{})
	require.NoError(t, err)
	prompt, err := prompts.Load("")
	require.NoError(t, err)
	llm, err := screener.NewLLM(screener.LLMConfig{Backend: b, Prompt: prompt, ThreatModel: tm})
	require.NoError(t, err)
	cfg := screener.Config{ThreatModel: tm, Rules: eng, Classifier: llm, Concurrency: 2, Duplicates: dups}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := screener.New(cfg)
	require.NoError(t, err)
	return s
}

// oneBugThenOthers is report a1, n-1 resends of it, and three reports that
// duplicate nothing (with two slots, a run reads up to four reports ahead
// of the first one it has not emitted, besides the duplicates).
func oneBugThenOthers(n int) (reports []*intake.Report, resends, others []string) {
	reports = append(reports, rep("a1", "foo: double free on unplug", textA))
	for i := 2; i <= n; i++ {
		id := fmt.Sprintf("a%d", i)
		resends = append(resends, id)
		reports = append(reports, rep(id, "Re: foo: double free on unplug", textA))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 3 {
		id := fmt.Sprintf("o%d", i+1)
		others = append(others, id)
		reports = append(reports, rep(id, fmt.Sprintf("other %d", i+1), words(rng, 120)))
	}
	return reports, resends, others
}

func ids(rows []screener.Result) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

func TestAReportWaitingForADecisionHoldsNoSlot(t *testing.T) {
	reports, resends, others := oneBugThenOthers(5)
	for _, asDone := range []bool{false, true} {
		t.Run(fmt.Sprintf("emit as done %v", asDone), func(t *testing.T) {
			// Two slots: a1 takes one until o1..o4 have had their answers
			// through the other; a2..a5 wait for a1's decision meanwhile.
			g := newGated("a1", others, nil)
			tr := NewTracker(nil, Options{}, nil)
			defer tr.Close()
			s := screenerWith(t, g, tr, func(c *screener.Config) { c.EmitAsDone = asDone })
			rows, sum := run(s, reports...)

			want := []string{"a1", "a2", "a3", "a4", "a5", "o1", "o2", "o3"}
			if asDone {
				assert.ElementsMatch(t, want, ids(rows), "every input once")
			} else {
				assert.Equal(t, want, ids(rows), "every input once, in input order")
			}
			for _, r := range rows {
				assert.Nil(t, r.Error, r.ID)
			}
			g.mu.Lock()
			assert.Equal(t, []string{"a1", "o1", "o2", "o3"}, g.asked, "one call per distinct report")
			g.mu.Unlock()
			byID := map[string]screener.Result{}
			for _, r := range rows {
				byID[r.ID] = r
			}
			require.NotNil(t, byID["a1"].Model)
			assert.True(t, byID["a1"].Model.OK(), "a1 answered: released after the others")
			for _, id := range resends {
				r := byID[id]
				assert.Equal(t, screener.DecisionDuplicate, r.Decision, id)
				assert.Equal(t, byID["a1"].Label, r.Label, id)
				require.NotEmpty(t, r.DuplicateOf, id)
				assert.Equal(t, "a1", r.DuplicateOf[0].ID, id)
			}
			assert.Equal(t, 4, sum.Reused)
			assert.Equal(t, 4, sum.ModelCalls)
		})
	}
}

func TestWhenTheFirstDecisionFailsAWaitingDuplicateIsScreenedItself(t *testing.T) {
	reports, _, others := oneBugThenOthers(3)
	g := newGated("a1", others, errors.New("server down"))
	tr := NewTracker(nil, Options{}, nil)
	defer tr.Close()
	rows, sum := run(screenerWith(t, g, tr, nil), reports...)
	require.Len(t, rows, len(reports))
	assert.Equal(t, []string{"a1", "a2", "a3", "o1", "o2", "o3"}, ids(rows))

	a1, a2, a3 := rows[0], rows[1], rows[2]
	assert.Equal(t, screener.DecisionModelFailed, a1.Decision)
	// a2 waited for a1; a1 got no decision, so a2 is asked itself, as it
	// would have been had it come first.
	require.NotNil(t, a2.Model)
	assert.True(t, a2.Model.OK())
	assert.NotEqual(t, screener.DecisionDuplicate, a2.Decision)
	require.NotEmpty(t, a2.DuplicateOf)
	assert.Equal(t, "a1", a2.DuplicateOf[0].ID)
	// a3 duplicates both: a1 has no decision, a2 has; a3 reuses a2's.
	assert.Equal(t, screener.DecisionDuplicate, a3.Decision)
	require.Len(t, a3.DuplicateOf, 2)
	assert.Equal(t, []string{"a1", "a2"}, []string{a3.DuplicateOf[0].ID, a3.DuplicateOf[1].ID})
	assert.Equal(t, a2.Label, a3.Label)
	assert.Nil(t, a3.Model)

	g.mu.Lock()
	defer g.mu.Unlock()
	assert.Equal(t, "a1", g.asked[0])
	assert.Equal(t, others, g.asked[1:4], "the others while a1 was held")
	assert.Equal(t, []string{"a2"}, g.asked[4:], "then a2, once a1 failed")
	assert.Equal(t, 5, sum.ModelCalls)
	assert.Equal(t, 1, sum.Reused)
}

func TestAStoppedRunEmitsTheWaitingReportsOnce(t *testing.T) {
	// a1's call is held until the run is stopped; a2 and a3 wait for its
	// decision; o1, screened meanwhile, stops the run once every input has
	// been read.
	reports := []*intake.Report{rep("a1", "foo", textA), rep("a2", "Re: foo", textA), rep("a3", "Fwd: foo", textA),
		rep("o1", "ext4", textB), rep("o2", "bar", textC)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	allRead, a1Asked := make(chan struct{}), make(chan struct{})
	var asked sync.Map
	b := backendFunc(func(ctx context.Context, req backend.Request) (backend.Reply, error) {
		if _, again := asked.LoadOrStore(req.ReportID, true); again {
			t.Errorf("%s asked twice", req.ReportID)
		}
		switch req.ReportID {
		case "a1":
			close(a1Asked)
			select {
			case <-ctx.Done():
				return backend.Reply{}, ctx.Err()
			case <-time.After(deadlockGuard):
				return backend.Reply{}, errDeadlock
			}
		case "o1":
			// The stop comes once a1's call is under way: o1 may get its
			// slot before a1's job has made its call.
			<-allRead
			select {
			case <-a1Asked:
			case <-time.After(deadlockGuard):
				return backend.Reply{}, errDeadlock
			}
			cancel()
		}
		return answerReply("not-security", "config.debug-feature"), nil
	})
	items := func(yield func(intake.Item) bool) {
		for _, r := range reports {
			if !yield(intake.Item{Source: r.Source, Report: r}) {
				return
			}
		}
		close(allRead)
		<-ctx.Done()
	}
	tr := NewTracker(nil, Options{}, nil)
	defer tr.Close()
	var rows []screener.Result
	sum := screenerWith(t, b, tr, nil).Run(ctx, items, func(r screener.Result) { rows = append(rows, r) })

	require.Equal(t, []string{"a1", "a2", "a3", "o1", "o2"}, ids(rows), "every input once, in order")
	assert.True(t, sum.Cancelled)
	a1 := rows[0]
	assert.Equal(t, screener.DecisionCancelled, a1.Decision, "cut short: the rules' label kept")
	assert.Nil(t, a1.Error)
	for _, r := range rows[1:3] {
		// Its decision would have been a1's, which never came: not
		// screened, and so screened again by --resume.
		assert.Equal(t, screener.DecisionCancelled, r.Decision, r.ID)
		require.NotNil(t, r.Error, r.ID)
		assert.Contains(t, *r.Error, "not screened", r.ID)
	}
	assert.Nil(t, rows[3].Error, "o1 was answered")
	assert.NotEqual(t, screener.DecisionCancelled, rows[3].Decision)
	assert.Equal(t, screener.DecisionCancelled, rows[4].Decision, "o2 never started")
	_, a2Asked := asked.Load("a2")
	assert.False(t, a2Asked, "no model call after the stop")
}

type backendFunc func(ctx context.Context, req backend.Request) (backend.Reply, error)

func (backendFunc) Name() string  { return "func" }
func (backendFunc) Model() string { return "test-model" }
func (f backendFunc) Complete(ctx context.Context, req backend.Request) (backend.Reply, error) {
	return f(ctx, req)
}

// The rows of a run do not depend on its concurrency: the same decisions
// are reused, the same reports asked, whatever the order they are done in.
func TestRowsDoNotDependOnConcurrency(t *testing.T) {
	reports := benchsupport.SynthReports(t, 160, 3)
	// The answer depends on the report, so that some earlier decisions
	// can be reused (a crash match reuses a security verdict only).
	answer := func(req backend.Request) (string, string) {
		if len(req.ReportID)%2 == 0 {
			return "security", "capability.sys-admin"
		}
		return "not-security", "config.debug-feature"
	}
	type row struct {
		ID, Decision, Verdict, Category string
		Dups                            []string
		Asked                           bool
	}
	rowsAt := func(j int, asDone bool) []row {
		m := &model{answer: func(req backend.Request) (string, string) { return answer(req) }}
		tr := NewTracker(nil, Options{}, nil)
		defer tr.Close()
		s := screenerWith(t, m, tr, func(c *screener.Config) { c.Concurrency, c.EmitAsDone = j, asDone })
		res, sum := run(s, reports...)
		require.Equal(t, len(reports), sum.Inputs)
		var out []row
		for _, r := range res {
			x := row{ID: r.ID, Decision: string(r.Decision), Verdict: string(r.Verdict), Category: r.Category, Asked: r.Model != nil}
			for _, d := range r.DuplicateOf {
				x.Dups = append(x.Dups, d.ID)
			}
			out = append(out, x)
		}
		return out
	}
	want := rowsAt(1, false)
	reused := 0
	for _, r := range want {
		if r.Decision == string(screener.DecisionDuplicate) {
			reused++
		}
	}
	require.Greater(t, reused, 20, "the synthetic reports repeat one another")
	for _, j := range []int{4, 32} {
		assert.Equal(t, want, rowsAt(j, false), "-j %d", j)
		got := rowsAt(j, true)
		assert.ElementsMatch(t, want, got, "-j %d, emitted as done", j)
	}
}

func TestPriorDoesNotWaitForADecisionBeingMade(t *testing.T) {
	for _, failed := range []bool{false, true} {
		t.Run(fmt.Sprintf("failed %v", failed), func(t *testing.T) {
			ctx := context.Background()
			tr := NewTracker(nil, Options{}, nil)
			defer tr.Close()
			first, again := rep("a1", "foo", textA), rep("a2", "Re: foo", textA)
			require.Empty(t, tr.Check(ctx, 1, first))
			dups := tr.Check(ctx, 2, again)
			require.Len(t, dups, 1)

			_, ok, pending := tr.Prior(2, dups[0])
			assert.False(t, ok)
			require.NotNil(t, pending, "a1 is being screened")
			select {
			case <-pending:
				t.Fatal("closed before a1's decision is known")
			default:
			}

			res := screener.Result{ID: "a1", Label: threatmodel.Label{Verdict: threatmodel.NotSecurity, Category: "config.debug-feature"}, Decision: screener.DecisionVoteModel}
			if failed {
				res.Decision = screener.DecisionModelFailed
			}
			tr.Decided(1, &res)
			<-pending // closed by Decided, before Record
			p, ok, again2 := tr.Prior(2, dups[0])
			assert.Nil(t, again2)
			assert.Equal(t, !failed, ok, "a failed decision is not reused")
			if ok {
				assert.Equal(t, res.Label, p.Result.Label)
			}
			// Record confirms it; the answer does not change.
			tr.Record(ctx, 1, first, &res)
			_, ok2, _ := tr.Prior(2, dups[0])
			assert.Equal(t, ok, ok2)
		})
	}
}
