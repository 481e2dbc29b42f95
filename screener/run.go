package screener

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/intake"
)

// Run screens every item and calls emit once per item, from a single
// goroutine: in input order, or as each result is done when
// Config.EmitAsDone is set. It returns when items are exhausted or ctx is
// cancelled; after a cancellation, items already read are emitted (as
// results or as "cancelled" error rows) and no more are read.
//
// Each item read gets a goroutine of its own; Concurrency bounds those
// being screened at once (a slot, see slots). With an LLM (see
// asksAtOnce) a slot is held from the start of the model call to its
// answer, and the call starts as soon as the report has one, while its
// rules are evaluated and the voter votes (prepare.go); otherwise it is
// held from when the rules' evaluation is ready until the decision. What
// is read ahead of the emitted rows is bounded: 2·Concurrency reports to
// be screened (or screened and waiting to be emitted), and
// reusePerSlot·Concurrency more that duplicate an earlier report with a
// decision to reuse, made or still being made. Those wait for it without
// a slot (see Duplicates.Prior): in a run where most reports repeat an
// earlier one, the slots stay busy with the reports that need the model.
func (s *Screener) Run(ctx context.Context, items iter.Seq[intake.Item], emit func(Result)) Summary {
	start := time.Now()
	n := s.cfg.Concurrency
	// ahead and reusing are semaphores (a send takes a place, the emitter
	// frees it).
	ahead := make(chan struct{}, 2*n)
	reusing := make(chan struct{}, reusePerSlot*n)
	rn := &run{
		slots:  newSlots(n),
		out:    make(chan *job, cap(ahead)+cap(reusing)),
		asDone: s.cfg.EmitAsDone,
	}
	prep := s.newPreparer(ctx, n, rn.slots.callsSent)
	var jobs sync.WaitGroup

	go func() {
		defer func() {
			if rn.asDone {
				jobs.Wait()
			}
			close(rn.out)
		}()
		seq := 0
		for it := range items {
			if ctx.Err() != nil {
				return
			}
			seq++
			j := &job{item: it, seq: seq, ctx: ctx, done: make(chan struct{})}
			screened := it.Err == nil && it.Report != nil
			if screened && s.cfg.Duplicates != nil {
				// In input order, so that the first of two duplicates is
				// the one screened, however the goroutines are scheduled.
				j.dups = s.cfg.Duplicates.Check(ctx, seq, it.Report)
				j.mayReuse = len(j.dups) > 0 && s.mayReuse(seq, j.dups)
				if rn.asDone {
					j.after = rn.unemittedOf(j.dups)
					rn.unemitted.Store(seq, j)
				}
			}
			// Every item checked is emitted: these waits end as the
			// emitter goes on, cancelled or not.
			if j.mayReuse {
				reusing <- struct{}{}
			} else {
				ahead <- struct{}{}
			}
			if screened {
				// The voter votes ahead too for a report that will be
				// screened: it is needed unless the rules decide alone.
				// Queued for its analysis before it is queued for a slot:
				// the pool starts no analysis while a model call granted a
				// slot has not left (slots.callsSent), so the reader may
				// wait here for room in the pool's queue only while it
				// holds no such slot.
				j.ctx = prep.start(ctx, it.Report, !j.mayReuse)
				if !j.mayReuse {
					// In the queue for a slot from now on, in input order.
					j.asksAtOnce = s.asksAtOnce()
					j.ticket = rn.slots.enqueue(seq, s.holding(j.asksAtOnce))
				}
			}
			if !rn.asDone {
				rn.out <- j
			}
			jobs.Go(func() {
				j.res = s.screenJob(rn, j)
				rn.finish(s, j)
			})
		}
	}()

	sum := newSummary(s.BackendName())
	for j := range rn.out {
		<-j.done
		res := j.res
		if s.cfg.Duplicates != nil && j.item.Report != nil {
			s.cfg.Duplicates.Record(ctx, j.seq, j.item.Report, &res)
			rn.unemitted.Delete(j.seq)
		}
		if j.mayReuse {
			<-reusing
		} else {
			<-ahead
		}
		sum.add(res)
		emit(res)
		if s.cfg.Progress != nil {
			sum.Wall = time.Since(start)
			s.cfg.Progress(sum)
		}
	}
	jobs.Wait()
	prep.stop()
	sum.Cancelled = ctx.Err() != nil
	sum.Wall = time.Since(start)
	return sum
}

// reusePerSlot bounds the reports read ahead that may reuse an earlier
// decision, per slot: enough that the slots stay busy when most reports
// repeat an earlier one (15 of 16 here), while what they hold (the report,
// its rules evaluation) stays within a few MB per slot.
const reusePerSlot = 16

// run is what the goroutines of one Run share.
type run struct {
	slots *slots
	// out carries the jobs to the emitter: as they are read (in input
	// order; the emitter waits for each) or, with asDone
	// (Config.EmitAsDone), as they are done.
	out    chan *job
	asDone bool
	// unemitted holds, with asDone, the jobs read and not emitted yet, by
	// position, for the later reports that duplicate them (see job.after).
	unemitted sync.Map
}

// job is one item of a Run.
type job struct {
	item intake.Item
	seq  int
	dups []DuplicateOf
	// mayReuse is set when, as the job was read, an earlier report it
	// duplicates had a decision to reuse, made or still being made.
	mayReuse bool
	ctx      context.Context // carries the analysis prepared ahead
	res      Result
	done     chan struct{} // closed once res is set
	// ticket is the job's place in the queue for a slot, then its slot;
	// nil when it has neither.
	ticket *ticket
	// asksAtOnce is set for a job that asks the model as soon as it has a
	// slot, before its rules' evaluation is ready (see
	// Screener.asksAtOnce).
	asksAtOnce bool
	// after are the jobs of the earlier reports of the run that this one
	// duplicates and that were not emitted yet when it was read: with
	// Config.EmitAsDone it is queued for the emitter after them.
	after []*job
	// queued is set once the job is queued for the emitter, with
	// Config.EmitAsDone.
	queued bool
}

// unemittedOf returns the unemitted jobs that dups name.
func (rn *run) unemittedOf(dups []DuplicateOf) []*job {
	var after []*job
	for _, d := range dups {
		if d.Batch == 0 {
			continue // from the history
		}
		if e, ok := rn.unemitted.Load(d.Batch); ok {
			after = append(after, e.(*job))
		}
	}
	return after
}

// afterDone reports whether the jobs j is to be emitted after are done.
func (j *job) afterDone() bool {
	for _, e := range j.after {
		select {
		case <-e.done:
		default:
			return false
		}
	}
	return true
}

// queue queues j for the emitter, with Config.EmitAsDone: after the
// earlier reports it duplicates, so that Duplicates.Record completes its
// DuplicateOf with their decisions as in input order (each is queued
// before it is done). It waits for them without a slot, which they may
// need.
func (rn *run) queue(j *job) {
	if !j.afterDone() {
		rn.release(j)
		for _, e := range j.after {
			<-e.done
		}
	}
	j.after = nil
	rn.out <- j
	j.queued = true
}

// release gives j's slot back, or its place in the queue for one.
func (rn *run) release(j *job) {
	if j.ticket != nil {
		rn.slots.release(j.ticket)
		j.ticket = nil
	}
}

// answered is called once j's model call has returned, before its
// decision: the slot is for the call. With Config.EmitAsDone, j is
// queued for the emitter first (unless it must wait for earlier
// reports), so that the report the slot goes to next is not emitted
// before it: at -j 1 rows come out in input order.
func (rn *run) answered(j *job) {
	if rn.asDone && j.afterDone() {
		rn.queue(j)
	}
	rn.release(j)
}

// finish ends j once its result is set: queued for the emitter (with
// Config.EmitAsDone), then its slot given back and its decision made
// known. Queued first, so that neither the next report in the slot nor
// one reusing the decision is emitted before it.
func (rn *run) finish(s *Screener, j *job) {
	if rn.asDone && !j.queued {
		rn.queue(j)
	}
	rn.release(j)
	if s.cfg.Duplicates != nil && j.item.Err == nil && j.item.Report != nil {
		s.cfg.Duplicates.Decided(j.seq, &j.res)
	}
	close(j.done)
}

// screenJob screens one item of a Run. A report that duplicates an earlier
// one waits, without a slot, for that report's decision while it is being
// made, and reuses it when it can; the others, and those that cannot, are
// screened in a slot. When the earlier report got no decision (an error,
// a failed or cancelled model call), the duplicate is screened itself, as
// it would have been had it come first.
func (s *Screener) screenJob(rn *run, j *job) Result {
	ctx, it := j.ctx, j.item
	switch {
	case it.Err != nil:
		return errorResult("", it.Source, s.BackendName(), DecisionInputError, it.Err)
	case it.Report == nil:
		return errorResult("", it.Source, s.BackendName(), DecisionInputError, errors.New("no report read"))
	case ctx.Err() != nil:
		return reportError(it.Report, s.BackendName(), DecisionCancelled, fmt.Errorf("not screened: %w", ctx.Err()))
	}
	r := it.Report
	if j.asksAtOnce {
		return s.screenAsking(rn, j)
	}
	// Evaluated ahead (prepare.go).
	a, err := s.analysis(ctx, r)
	if err != nil {
		return reportError(r, s.BackendName(), DecisionCancelled, fmt.Errorf("not screened: %w", err))
	}
	for len(j.dups) > 0 {
		res, ok, pending := s.reuseDecision(j.seq, r, j.dups, &a.ev, a.spans)
		if ok {
			return res
		}
		if pending == nil {
			break
		}
		// Closed once the earlier report's decision is known: it is
		// earlier in the input, and every job's result is given to
		// Duplicates.Decided as soon as it is done. A job that waits here
		// has no slot (it may reuse a decision).
		<-pending
	}
	if j.ticket == nil {
		// It waited for an earlier decision and could not reuse it: in
		// the queue now, ahead of every later report.
		j.ticket = rn.slots.enqueue(j.seq, holdsNothing)
	}
	j.ticket.wait()
	if ctx.Err() != nil {
		return reportError(r, s.BackendName(), DecisionCancelled, fmt.Errorf("not screened: %w", ctx.Err()))
	}
	res := s.screenAnalyzed(ctx, r, a, nil)
	if len(j.dups) > 0 {
		res.DuplicateOf = j.dups
	}
	return res
}

// screenAsking screens the report of a job that asks the model at once
// (see Screener.asksAtOnce): the call starts as soon as the job has a
// slot, and the slot is given back when it returns; the report's rules
// evaluation and the voter's opinion, made ahead meanwhile, are waited for
// only then. At the start of a run the first evaluations are slow (the
// automata build their states on first use), and a slot that waited for
// them was a slot not waiting on the model.
func (s *Screener) screenAsking(rn *run, j *job) Result {
	ctx, r, t := j.ctx, j.item.Report, j.ticket
	t.wait()
	if ctx.Err() != nil {
		return reportError(r, s.BackendName(), DecisionCancelled, fmt.Errorf("not screened: %w", ctx.Err()))
	}
	var ans *ModelAnswer // nil when the server refused the credentials meanwhile (see screenAnalyzed)
	if !s.refused.Load() {
		// The backend says when the request has left, and the pool's
		// analyses go on (see slots.callsSent); the slot's release says
		// it for a call that returned without sending.
		ans = s.askNow(backend.WithWaiting(ctx, func() { rn.slots.sent(t) }, func() { rn.slots.sending(t) }), r, nil)
	}
	rn.answered(j)
	a, err := s.analysis(ctx, r)
	if err != nil {
		// The run was stopped while the model was asked: the report ends
		// as it would have with its rules evaluated first (a millisecond
		// next to the call), its answer kept or its call cut short.
		if a, err = s.analysis(context.WithoutCancel(ctx), r); err != nil {
			return reportError(r, s.BackendName(), DecisionCancelled, fmt.Errorf("not screened: %w", err))
		}
	}
	res := s.screenAnalyzed(ctx, r, a, ans)
	if len(j.dups) > 0 {
		res.DuplicateOf = j.dups
	}
	return res
}

// slots bounds the reports being screened at once (Config.Concurrency).
// A slot that comes free goes to the earliest report in the queue, by
// input position: the reports that need a slot as read are queued as they
// are read, so the slots go to them in input order, and a report that
// waited for an earlier one's decision and must be screened itself (on a
// chain of such waits) comes before every later one. A slot is granted by
// the goroutine that frees it (or that queues the report): the report
// granted one need not run first to pass the turn on, so the slots change
// hands at the pace of the model's answers, not of the scheduler.
//
// A slot granted to a report that asks the model at once, through a
// backend that says when its request has left (backend.Announcer), holds
// the run's analyses back until then: the preparer's pool starts none
// while such a call is unsent (callsSent).
// With 64 slots, 64 calls leave at the start of a run and again each time
// a round of answers comes back, and on a few cores they waited for the
// CPUs behind the analyses, which are needed only once the answers are
// in: the first ones (the automata building their states) take tens of
// milliseconds each, and each millisecond a call waited to leave was one
// more for the whole run on that slot's chain of calls.
type slots struct {
	mu      sync.Mutex
	free    int
	waiting ticketQueue
	// unsent counts the granted tickets that hold the analyses and whose
	// call has not left; clear is closed while it is 0.
	unsent int
	clear  chan struct{}
}

// ticket is a report's place in the queue for a slot.
type ticket struct {
	seq      int
	ready    chan struct{} // closed once granted
	granted  bool
	dropped  bool // given back before it was granted
	released bool // given back after it was granted
	// holding says when the report's slot holds the analyses back (see
	// slots); unsent is set while it does (see slots.sent).
	holding holding
	unsent  bool
}

func newSlots(n int) *slots {
	clear := make(chan struct{})
	close(clear)
	return &slots{free: n, clear: clear}
}

// holding says when a report's slot holds the run's analyses back until
// its call has left (see slots).
type holding uint8

const (
	// holdsNothing: the report does not ask the model at once, or its
	// backend does not say when its requests leave.
	holdsNothing holding = iota
	// holdsFromGrant: from when the slot is granted (the call is built
	// and sent at once).
	holdsFromGrant
	// holdsOnSending: from when the call goes on to the server (a reply
	// cache's miss, backend.Sending): a cache hit needs no priority, and
	// a run whose calls are answered from the cache cycles its slots
	// through lookups so fast that holding from the grant kept the
	// analyses back nearly all the time.
	holdsOnSending
)

// enqueue puts the report at position seq in the queue, and grants it a
// slot at once if one is free. h says when the slot holds the analyses
// back until the report's call has left (see slots).
func (s *slots) enqueue(seq int, h holding) *ticket {
	t := &ticket{seq: seq, ready: make(chan struct{}), holding: h}
	s.mu.Lock()
	defer s.mu.Unlock()
	heap.Push(&s.waiting, t)
	s.grant()
	return t
}

// wait returns once t is granted a slot.
func (t *ticket) wait() { <-t.ready }

// release gives t's slot back, to the earliest report waiting, or t's
// place in the queue if it was not granted a slot yet. A call still
// unsent counts as sent from then on: it returned, or was never made.
func (s *slots) release(t *ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !t.granted {
		t.dropped = true
		return
	}
	s.sentLocked(t)
	t.released = true
	s.free++
	s.grant()
}

// sent notes that the call of t, a granted ticket, has left
// (its request was written, or it waits for the rate limit: see
// backend.WithWaiting). It may be called more than once.
func (s *slots) sent(t *ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sentLocked(t)
}

// sending notes that the call of t, a granted ticket, goes on to the
// server (a reply cache's miss): if t holds, it holds the analyses back
// until the call has left. It does nothing once t's slot is given back.
func (s *slots) sending(t *ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.granted && !t.released && t.holding != holdsNothing {
		s.holdLocked(t)
	}
}

// holdLocked has t, a granted ticket, hold the analyses back until its
// call has left, unless it does already; s.mu is held.
func (s *slots) holdLocked(t *ticket) {
	if t.unsent {
		return
	}
	t.unsent = true
	if s.unsent++; s.unsent == 1 {
		s.clear = make(chan struct{})
	}
}

// sentLocked is sent with s.mu held.
func (s *slots) sentLocked(t *ticket) {
	if !t.unsent {
		return
	}
	t.unsent = false
	if s.unsent--; s.unsent == 0 {
		close(s.clear)
	}
}

// callsSent returns a channel that is closed once no call granted a slot
// is waiting to leave: now, if none is.
func (s *slots) callsSent() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clear
}

// grant gives the free slots to the earliest reports waiting; s.mu is
// held.
func (s *slots) grant() {
	for s.free > 0 && s.waiting.Len() > 0 {
		t := heap.Pop(&s.waiting).(*ticket)
		if t.dropped {
			continue
		}
		s.free--
		t.granted = true
		if t.holding == holdsFromGrant {
			s.holdLocked(t)
		}
		close(t.ready)
	}
}

// ticketQueue is a heap of tickets, the earliest report first.
type ticketQueue []*ticket

func (h ticketQueue) Len() int           { return len(h) }
func (h ticketQueue) Less(i, j int) bool { return h[i].seq < h[j].seq }
func (h ticketQueue) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *ticketQueue) Push(x any)        { *h = append(*h, x.(*ticket)) }
func (h *ticketQueue) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return t
}
