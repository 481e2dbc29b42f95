// Package screener runs secscreen's pipeline: each report from intake goes
// through the deterministic rules and, when configured, through a
// Classifier (a language model behind a prompt, or the offline baseline in
// its place) and an offline Voter (the baseline beside a model); the
// opinions are merged by an explicit Policy into a Result with its route.
//
//	intake.Item ──► rules.Engine ──────────────────────────────────────┐
//	            ├─► Classifier: LLM (prompt → Backend → validate,      │
//	            │   one repair) or the baseline ────────────────────────┼─► Policy ──► Result
//	            └─► Voter (the offline baseline) ───────────────────────┘
//
// Run screens a bounded number of reports at once, emits results in input
// order, and stops cleanly when its context is cancelled: every item it
// read yields exactly one Result, an error row when it could not be
// screened.
package screener

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/injection"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/sourcetree"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Config wires a Screener.
type Config struct {
	// ThreatModel validates ids and is the model's context. Required.
	ThreatModel *threatmodel.Model
	// Rules is the rule engine. Required.
	Rules *rules.Engine
	// Classifier labels each report beside the rules: a language model
	// behind a prompt (NewLLM), or the offline baseline in its place; nil
	// screens with the rules alone.
	Classifier Classifier
	// Voter is an offline classifier (the baseline) that votes beside the
	// rules and the Classifier on every report the Classifier is asked
	// about, or on every report when there is no Classifier; nil: none. It
	// must not be the Classifier itself, or its opinion would count twice.
	Voter Classifier
	// Policy merges the voters; zero means DefaultPolicy().
	Policy Policy
	// Routes says where reports go; zero means DefaultRoutes().
	Routes Routes
	// Source looks the code each report cites up in a source tree
	// (sourcetree.Tree); nil: no tree. What it finds missing is evidence
	// for invalid.nonexistent (see Policy), and Result.SourceCheck.
	Source SourceChecker
	// Concurrency bounds the reports screened at once (default 4).
	Concurrency int
	// SkipModelWhenDecisive skips the model call when the rules alone are
	// decisive; Summary.CallsSaved counts the calls saved.
	SkipModelWhenDecisive bool
	// EvalCache, when set, keeps the rules' evaluations across runs (see
	// EvalCache); nil evaluates every report.
	EvalCache *EvalCache
	// EmitAsDone makes Run emit each result as soon as it is done rather
	// than in input order, so that one slow report (a model call that
	// retries) holds back no other row: the order of a streamed output
	// (JSONL) then varies between runs, the set of rows does not.
	EmitAsDone bool
	// Duplicates, if set, looks each report up among the earlier ones of
	// the run (and of a history) before it is screened: a duplicate of a
	// decided report reuses that decision instead of asking the model
	// (DecisionDuplicate), and every result lists what it duplicates.
	Duplicates Duplicates
	// Progress, if set, is called after each result with the run's summary
	// so far (rows, errors, model calls, cache hits...), from Run's single
	// emitting goroutine.
	Progress func(so Summary)
}

// SourceChecker looks the code a report cites up in a source tree; f is
// what the rules extracted from r. *sourcetree.Tree is one.
type SourceChecker interface {
	CheckReport(ctx context.Context, r *intake.Report, f *rules.Facts) (*sourcetree.Check, error)
}

// Screener screens reports. It is safe for concurrent use.
type Screener struct {
	cfg Config
	// refused is set once the model server refused the credentials: the
	// screener asks it no more (every call would be refused the same way).
	refused atomic.Bool
}

// DecisionCacheMiss marks the error row of a report that --offline could
// not replay: the cache holds no answer for it.
const DecisionCacheMiss Decision = "cache-miss"

// reasonCancelled is the review reason of a report whose model call was
// cut short by a cancellation.
const reasonCancelled = "cancelled before the model answered: decided without it"

// errRefused is the model error of reports not sent after the server
// refused the credentials.
var errRefused = errors.New("not asked: the model server refused the credentials earlier in this run")

// New checks cfg and returns a Screener.
func New(cfg Config) (*Screener, error) {
	if cfg.ThreatModel == nil {
		return nil, errors.New("screener: no threat model")
	}
	if cfg.Rules == nil {
		return nil, errors.New("screener: no rule engine")
	}
	if cfg.Policy == (Policy{}) {
		cfg.Policy = DefaultPolicy()
	}
	if cfg.Routes.Verdicts == nil {
		cfg.Routes = DefaultRoutes()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	return &Screener{cfg: cfg}, nil
}

// BackendName names what answers besides the rules: the classifier's name,
// or "rules" when there is none.
func (s *Screener) BackendName() string {
	if s.cfg.Classifier == nil {
		return "rules"
	}
	return s.cfg.Classifier.Describe().Name
}

// Screen screens one report.
func (s *Screener) Screen(ctx context.Context, r *intake.Report) Result {
	ev, spans, err := s.analysis(ctx, r)
	if err != nil {
		return reportError(r, s.BackendName(), DecisionCancelled, fmt.Errorf("not screened: %w", err))
	}
	return s.screenAnalyzed(ctx, r, ev, spans)
}

// screenAnalyzed screens r given its rules evaluation and injection spans.
func (s *Screener) screenAnalyzed(ctx context.Context, r *intake.Report, ev rules.Evaluation, spans []injection.Span) Result {
	res := Result{ID: r.ID, Source: r.Source, Subject: r.Subject, From: r.From, Hash: r.Hash, Replies: r.Replies, Updates: r.Updates,
		Backend: s.BackendName(), SentTo: backend.NotSent}
	res.RulesTruncated = ev.Truncated
	// A report is flagged for injection when the rules or the detector
	// find text aimed at a model; the detector's spans go in the result.
	// Its finding does not touch the rules' decisiveness: decisive rules
	// evidence still stands against a model that obeys the injection.
	res.Injection = spans
	ev.Injection = ev.Injection || len(res.Injection) > 0
	var (
		ans  *ModelAnswer
		vote *Opinion
	)
	skip := s.cfg.Classifier != nil && s.cfg.SkipModelWhenDecisive && ev.Decisive && !ev.Injection
	var voted chan *Opinion
	switch {
	case s.cfg.Classifier == nil, skip:
		// No model, or the rules decide alone; a report that addresses the
		// model is never decided without the model's view and a person's.
	case s.refused.Load():
		ans = &ModelAnswer{Classification: Classification{Prompt: s.cfg.Classifier.Describe().Prompt}, Error: errRefused.Error(), err: errRefused}
	default:
		if s.cfg.Voter != nil {
			// The voter does not need the model's answer: it votes while
			// the model is asked, so that its CPU does not add to the
			// time the report holds its slot.
			voted = make(chan *Opinion, 1)
			go func() { voted <- s.vote(ctx, r, &ev) }()
		}
		ans = s.ask(ctx, r, &ev)
		if backend.IsAuthError(ans.err) {
			s.refused.Store(true)
		}
	}
	if ans != nil && errors.Is(ans.err, backend.ErrCacheMiss) {
		return reportError(r, res.Backend, DecisionCacheMiss, ans.err)
	}
	switch {
	case voted != nil:
		vote = <-voted
	case s.cfg.Voter != nil && !skip:
		vote = s.vote(ctx, r, &ev)
	}
	var src *Opinion
	if s.cfg.Source != nil {
		res.SourceCheck, src = s.checkSource(ctx, r, &ev.Facts)
	}
	s.cfg.Policy.decide(s.cfg.ThreatModel, s.cfg.Routes, ev, ans, vote, src, &res)
	res.report, res.facts = r, &ev.Facts
	if s.cfg.Classifier != nil && ans == nil {
		res.Decision = DecisionSkippedModel
	}
	if ans != nil && ans.Usage.SentTo != "" {
		res.SentTo = ans.Usage.SentTo
	}
	if ans != nil && ctx.Err() != nil && !ans.OK() {
		// The rules' label is known: keep it, marked as cut short.
		res.Decision = DecisionCancelled
		res.NeedsReview = true
		res.ReviewReason = reasonCancelled
		res.ReviewFlags = []string{FlagCancelled}
	}
	return res
}

// categoryNonexistent is the threat model's category for cited code that
// does not exist; the source tree votes for it when the model has it.
const categoryNonexistent = "invalid.nonexistent"

// checkSource asks the source tree about the code r cites. It returns the
// check and, when cited code is missing and the threat model has the
// category, the opinion that votes for invalid.nonexistent. A failed check
// is kept as a note and votes for nothing.
func (s *Screener) checkSource(ctx context.Context, r *intake.Report, f *rules.Facts) (*sourcetree.Check, *Opinion) {
	c, err := s.cfg.Source.CheckReport(ctx, r, f)
	if err != nil {
		return &sourcetree.Check{Cited: []sourcetree.Citation{}, Missing: []sourcetree.Citation{}, Notes: []string{"not checked: " + err.Error()}}, nil
	}
	conf := c.Confidence()
	v, ok := s.cfg.ThreatModel.VerdictOf(categoryNonexistent)
	if conf == 0 || !ok {
		return c, nil
	}
	return c, &Opinion{Label: threatmodel.Label{Verdict: v, Category: categoryNonexistent}, Confidence: conf}
}

// vote asks the voter; a failed vote, or a label the threat model does not
// know, is kept with its error and counts for nothing.
func (s *Screener) vote(ctx context.Context, r *intake.Report, ev *rules.Evaluation) *Opinion {
	c, err := s.cfg.Voter.Classify(ctx, r, ev)
	if err == nil {
		err = checkLabel(s.cfg.ThreatModel, c)
	}
	if err != nil {
		return &Opinion{Error: fmt.Sprintf("%s: %v", s.cfg.Voter.Describe().Name, err)}
	}
	return &Opinion{Label: c.Label, Confidence: c.Confidence}
}

// ask asks the classifier about r. An answer whose label the threat model
// does not know counts as no answer.
func (s *Screener) ask(ctx context.Context, r *intake.Report, ev *rules.Evaluation) *ModelAnswer {
	c, err := s.cfg.Classifier.Classify(ctx, r, ev)
	if err == nil {
		if err = checkLabel(s.cfg.ThreatModel, c); err != nil {
			c.Answer = prompts.Answer{}
		}
	}
	out := &ModelAnswer{Classification: c}
	if err != nil {
		out.Error, out.err = err.Error(), err
	}
	return out
}

// errorResult is the row for an input that was not screened.
func errorResult(id, source, backendName string, decision Decision, err error) Result {
	msg := err.Error()
	if id == "" {
		id = source
	}
	return Result{ID: id, Source: source, Backend: backendName, SentTo: backend.NotSent, Decision: decision, Error: &msg}
}

// reportError is the error row for a report that was read but not
// screened: it keeps the report's identity.
func reportError(r *intake.Report, backendName string, decision Decision, err error) Result {
	res := errorResult(r.ID, r.Source, backendName, decision, err)
	res.Hash, res.Replies, res.Updates, res.Subject, res.From, res.report = r.Hash, r.Replies, r.Updates, r.Subject, r.From, r
	return res
}

// Run screens every item and calls emit once per item, from a single
// goroutine: in input order, or as each result is done when
// Config.EmitAsDone is set. It returns when items are exhausted or ctx is
// cancelled; after a cancellation, items already read are emitted (as
// results or as "cancelled" error rows) and no more are read.
//
// Each item read gets a goroutine of its own; Concurrency bounds those
// being screened at once (a slot: taken once the report's rules are
// evaluated, held through the model call). What is read ahead of the
// emitted rows is bounded: 2·Concurrency reports to be screened (or
// screened and waiting to be emitted), and reusePerSlot·Concurrency more
// that duplicate an earlier report with a decision to reuse, made or
// still being made. Those wait for it without a slot (see
// Duplicates.Prior): in a run where most reports repeat an earlier one,
// the slots stay busy with the reports that need the model.
func (s *Screener) Run(ctx context.Context, items iter.Seq[intake.Item], emit func(Result)) Summary {
	start := time.Now()
	n := s.cfg.Concurrency
	// ahead and reusing are semaphores (a send takes a place, the emitter
	// frees it); slots is one too.
	ahead := make(chan struct{}, 2*n)
	reusing := make(chan struct{}, reusePerSlot*n)
	slots := make(chan struct{}, n)
	// out carries the jobs to the emitter: as they are read (in input
	// order; the emitter waits for each) or as they are done.
	out := make(chan *job, cap(ahead)+cap(reusing))
	prep := s.newPreparer(ctx, n)
	var jobs sync.WaitGroup
	// turn chains the jobs that take a slot as read, so that they take
	// their slots in input order (see job.turn).
	turn := make(chan struct{})
	close(turn)

	go func() {
		defer func() {
			if s.cfg.EmitAsDone {
				jobs.Wait()
			}
			close(out)
		}()
		seq := 0
		for it := range items {
			if ctx.Err() != nil {
				return
			}
			seq++
			j := &job{item: it, seq: seq, ctx: ctx, done: make(chan struct{})}
			if it.Err == nil && it.Report != nil {
				if s.cfg.Duplicates != nil {
					// In input order, so that the first of two duplicates
					// is the one screened, however the goroutines are
					// scheduled.
					j.dups = s.cfg.Duplicates.Check(ctx, seq, it.Report)
					j.mayReuse = len(j.dups) > 0 && s.mayReuse(seq, j.dups)
				}
			}
			// Every item checked is emitted: these waits end as the
			// emitter goes on, cancelled or not.
			if j.mayReuse {
				reusing <- struct{}{}
			} else {
				ahead <- struct{}{}
				j.prevTurn, j.turn = turn, make(chan struct{})
				turn = j.turn
			}
			if it.Err == nil && it.Report != nil {
				j.ctx = prep.start(ctx, it.Report)
			}
			if !s.cfg.EmitAsDone {
				out <- j
			}
			jobs.Go(func() {
				j.res = s.screenJob(j, slots)
				if s.cfg.EmitAsDone {
					// Queued before its slot is freed and its decision
					// made known, so that neither the next report in the
					// slot nor one reusing the decision is emitted first:
					// at -j 1 rows come out in input order.
					out <- j
				}
				if j.slot {
					<-slots
				}
				if s.cfg.Duplicates != nil && it.Err == nil && it.Report != nil {
					s.cfg.Duplicates.Decided(j.seq, &j.res)
				}
				close(j.done)
				j.passTurn()
			})
		}
	}()

	sum := newSummary(s.BackendName())
	for j := range out {
		<-j.done
		res := j.res
		if s.cfg.Duplicates != nil && j.item.Report != nil {
			s.cfg.Duplicates.Record(ctx, j.seq, j.item.Report, &res)
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
	// turn is closed once this job has taken its slot or needs none, after
	// prevTurn, the previous such job's: the jobs that do not expect to
	// reuse a decision take their slots in input order, as from a queue of
	// workers, so that none is held back behind later ones (the rows are
	// emitted in order). Nil for a job that may reuse a decision: it takes
	// a slot, if it needs one, when it knows.
	turn, prevTurn chan struct{}
	// slot is set while the job holds one of Run's slots.
	slot bool
}

// passTurn lets the next job take a slot, once the previous one has.
func (j *job) passTurn() {
	if j.turn != nil {
		<-j.prevTurn
		close(j.turn)
		j.turn = nil
	}
}

// screenJob screens one item of a Run. A report that duplicates an earlier
// one waits, without a slot, for that report's decision while it is being
// made, and reuses it when it can; the others, and those that cannot, are
// screened in a slot. When the earlier report got no decision (an error,
// a failed or cancelled model call), the duplicate is screened itself, as
// it would have been had it come first.
func (s *Screener) screenJob(j *job, slots chan struct{}) Result {
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
	// Evaluated ahead (prepare.go); waited for without a slot.
	ev, spans, err := s.analysis(ctx, r)
	if err != nil {
		return reportError(r, s.BackendName(), DecisionCancelled, fmt.Errorf("not screened: %w", err))
	}
	for len(j.dups) > 0 {
		res, ok, pending := s.reuseDecision(j.seq, r, j.dups, &ev, spans)
		if ok {
			return res
		}
		if pending == nil {
			break
		}
		// Closed once the earlier report's decision is known: it is
		// earlier in the input, and every job's result is given to
		// Duplicates.Decided as soon as it is done.
		<-pending
	}
	if j.prevTurn != nil {
		<-j.prevTurn
	}
	slots <- struct{}{}
	j.slot = true // freed by Run once the result is queued
	j.passTurn()
	if ctx.Err() != nil {
		return reportError(r, s.BackendName(), DecisionCancelled, fmt.Errorf("not screened: %w", ctx.Err()))
	}
	res := s.screenAnalyzed(ctx, r, ev, spans)
	if len(j.dups) > 0 {
		res.DuplicateOf = j.dups
	}
	return res
}
