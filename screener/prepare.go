package screener

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/secscreen/secscreen/screener/injection"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
)

// A run evaluates each report's rules (and runs the injection detector)
// ahead of its screening, on a pool of one goroutine per CPU, as the
// report is read. Without it a worker spent the rules' CPU time between
// two model calls: at -j 1 every report cost the rules and then the
// model's latency, one after the other. Now the next reports' rules are
// evaluated while the slots wait on the model, so the -j slots are spent
// waiting on the model only, as long as the CPUs keep up.
//
// The evaluation reaches the report's job through the context of its call
// (Screen and Run's jobs ask analysis, which takes it from there); it is
// used once, by the first analysis of that report, and a report without
// one (Screen called outside Run) is evaluated by its caller.

// analyzed is what a report's screening needs before its decision: its
// rules evaluation and injection spans, and, when it was given ahead, the
// voter's opinion.
type analyzed struct {
	ev    rules.Evaluation
	spans []injection.Span
	// vote is the voter's opinion when voted is set: given ahead, with the
	// evaluation, for a report that will need it (see Screener.needsVote).
	vote  *Opinion
	voted bool
}

// prepared is one report's analysis, started ahead.
type prepared struct {
	r *intake.Report
	// vote asks the pool to have the voter vote too, when the analysis
	// says the report needs its opinion.
	vote  bool
	done  chan struct{}
	taken atomic.Bool
	a     analyzed
	err   error
}

type preparedKey struct{}

// preparer runs analyses ahead of the screening.
type preparer struct {
	queue chan *prepared
	wg    sync.WaitGroup
}

// newPreparer starts one goroutine per CPU; ahead bounds the analyses
// queued and not yet taken by a job. Before each analysis they wait for
// the channel that callsSent returns (nil: no wait) to be closed: model
// calls about to leave go first (see slots).
//
// The voter's opinion of a report about to be asked is given here too,
// right after its evaluation: the pool keeps the run's CPU work to one
// goroutine per CPU, which yields after each report, so that the
// goroutines on the run's critical path (a model's answer to handle, a
// request to send) wait for a CPU for microseconds, not for the
// scheduler to preempt one of dozens of voting goroutines (10 ms each).
func (s *Screener) newPreparer(ctx context.Context, ahead int, callsSent func() <-chan struct{}) *preparer {
	p := &preparer{queue: make(chan *prepared, ahead)}
	for range max(runtime.GOMAXPROCS(0), 1) {
		p.wg.Go(func() {
			for pr := range p.queue {
				if callsSent != nil {
					select {
					case <-callsSent():
					case <-ctx.Done():
					}
				}
				if err := ctx.Err(); err != nil {
					pr.err = err
				} else {
					pr.a.ev, pr.a.spans, pr.err = s.analyze(ctx, pr.r)
					if pr.err == nil && pr.vote && s.needsVote(&pr.a.ev, pr.a.spans) {
						ev := pr.a.ev
						ev.Injection = ev.Injection || len(pr.a.spans) > 0 // as screenAnalyzed gives it
						pr.a.vote, pr.a.voted = s.vote(ctx, pr.r, &ev), true
					}
				}
				close(pr.done)
				// Let the goroutines waiting to run go first (see above).
				runtime.Gosched()
			}
		})
	}
	return p
}

// start queues r's analysis (with the voter's opinion when vote is set)
// and returns ctx carrying it. It waits while the queue is full: the
// pool's goroutines wait on nothing else, so the queue always moves, and a
// report queued behind it could not be screened sooner anyway with every
// CPU busy. When ctx ends first it returns ctx itself (the job then makes
// the cancelled row).
func (p *preparer) start(ctx context.Context, r *intake.Report, vote bool) context.Context {
	pr := &prepared{r: r, vote: vote, done: make(chan struct{})}
	select {
	case p.queue <- pr:
		return context.WithValue(ctx, preparedKey{}, pr)
	case <-ctx.Done():
		return ctx
	}
}

// stop lets the pool finish what is queued and waits for it.
func (p *preparer) stop() {
	close(p.queue)
	p.wg.Wait()
}

// analysis is r's analysis: the one prepared ahead for it if ctx carries
// one not yet taken, else its rules evaluation and injection spans
// computed now (with no vote).
func (s *Screener) analysis(ctx context.Context, r *intake.Report) (analyzed, error) {
	if pr, ok := ctx.Value(preparedKey{}).(*prepared); ok && pr.r == r && pr.taken.CompareAndSwap(false, true) {
		select {
		case <-pr.done:
			return pr.a, pr.err
		case <-ctx.Done():
			return analyzed{}, ctx.Err()
		}
	}
	ev, spans, err := s.analyze(ctx, r)
	return analyzed{ev: ev, spans: spans}, err
}

// analyze returns r's rules evaluation and injection spans (through the
// evaluation cache), the injection detector running on a goroutine of its
// own beside the evaluation: on a process's first report both build their
// automata, and together they end sooner when a CPU is free.
func (s *Screener) analyze(ctx context.Context, r *intake.Report) (rules.Evaluation, []injection.Span, error) {
	var spans []injection.Span
	done := make(chan struct{})
	eval := func(ctx context.Context, r *intake.Report) (rules.Evaluation, error) {
		go func() {
			defer close(done)
			spans = injection.Detect(r)
		}()
		return s.cfg.Rules.EvaluateContext(ctx, r)
	}
	detect := func(*intake.Report) []injection.Span {
		<-done
		return spans
	}
	return s.cfg.EvalCache.Analysis(ctx, r, eval, detect)
}
