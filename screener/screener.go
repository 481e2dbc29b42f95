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
	"sync/atomic"

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
	// (JSONL) then varies between runs, the set of rows does not. A
	// report that duplicates earlier ones of the run is still emitted
	// after them (see Duplicates).
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
	// announces is set when the classifier is an LLM whose backend says
	// when each request has left (backend.Announcer): a run's analyses
	// then give way to its calls until they have (see slots). looksUp is
	// set when that backend looks each reply up in a cache first
	// (backend.LooksUpFirst): only a miss goes first then.
	announces, looksUp bool
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
	s := &Screener{cfg: cfg}
	if llm, ok := cfg.Classifier.(*LLM); ok {
		s.announces = backend.AnnouncesSending(llm.cfg.Backend)
		s.looksUp = backend.LooksUpFirst(llm.cfg.Backend)
	}
	return s, nil
}

// holding says when the slot of a report holds the run's analyses back
// (see slots), given whether the report asks the model at once.
func (s *Screener) holding(asksAtOnce bool) holding {
	switch {
	case !asksAtOnce || !s.announces:
		return holdsNothing
	case s.looksUp:
		return holdsOnSending
	}
	return holdsFromGrant
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
	a, err := s.analysis(ctx, r)
	if err != nil {
		return reportError(r, s.BackendName(), DecisionCancelled, fmt.Errorf("not screened: %w", err))
	}
	return s.screenAnalyzed(ctx, r, a, nil)
}

// skipsModel reports whether the rules decide a report alone (see
// Config.SkipModelWhenDecisive), given their evaluation and the injection
// detector's spans: a report that addresses the model is never decided
// without the model's view and a person's.
func (s *Screener) skipsModel(ev *rules.Evaluation, spans []injection.Span) bool {
	injected := ev.Injection || len(spans) > 0
	return s.cfg.Classifier != nil && s.cfg.SkipModelWhenDecisive && ev.Decisive && !injected
}

// needsVote reports whether the voter is asked about a report, given its
// analysis: on every report the classifier is asked about, or on every
// report when there is no classifier.
func (s *Screener) needsVote(ev *rules.Evaluation, spans []injection.Span) bool {
	return s.cfg.Voter != nil && !s.skipsModel(ev, spans)
}

// asksAtOnce reports whether a report's model call may start before its
// rules are evaluated: the classifier is an LLM, which does not read the
// evaluation (the model reads the report on its own), and no setting makes
// the call depend on it (SkipModelWhenDecisive).
func (s *Screener) asksAtOnce() bool {
	_, llm := s.cfg.Classifier.(*LLM)
	return llm && !s.cfg.SkipModelWhenDecisive && !s.refused.Load()
}

// askNow asks the classifier about r, with no rules evaluation, and notes
// refused credentials.
func (s *Screener) askNow(ctx context.Context, r *intake.Report, ev *rules.Evaluation) *ModelAnswer {
	ans := s.ask(ctx, r, ev)
	if backend.IsAuthError(ans.err) {
		s.refused.Store(true)
	}
	return ans
}

// screenAnalyzed screens r given its analysis. asked, when not nil, is the
// model's answer from a call made before the analysis was known (see
// asksAtOnce).
func (s *Screener) screenAnalyzed(ctx context.Context, r *intake.Report, a analyzed, asked *ModelAnswer) Result {
	ev, spans := a.ev, a.spans
	res := Result{ID: r.ID, Source: r.Source, Subject: r.Subject, From: r.From, Hash: r.Hash, Replies: r.Replies, Updates: r.Updates,
		Backend: s.BackendName(), SentTo: backend.NotSent}
	res.RulesTruncated = ev.Truncated
	// A report is flagged for injection when the rules or the detector
	// find text aimed at a model; the detector's spans go in the result.
	// Its finding does not touch the rules' decisiveness: decisive rules
	// evidence still stands against a model that obeys the injection.
	res.Injection = spans
	skip := s.skipsModel(&ev, spans)
	ev.Injection = ev.Injection || len(res.Injection) > 0
	var (
		ans  *ModelAnswer
		vote *Opinion
	)
	var voted chan *Opinion
	switch {
	case s.cfg.Classifier == nil, skip:
		// No model, or the rules decide alone.
	case asked != nil:
		ans = asked
	case s.refused.Load():
		ans = &ModelAnswer{Classification: Classification{Prompt: s.cfg.Classifier.Describe().Prompt}, Error: errRefused.Error(), err: errRefused}
	default:
		if s.cfg.Voter != nil && !a.voted {
			// The voter does not need the model's answer: it votes while
			// the model is asked, so that its CPU does not add to the
			// time the report holds its slot.
			voted = make(chan *Opinion, 1)
			go func() { voted <- s.vote(ctx, r, &ev) }()
		}
		ans = s.askNow(ctx, r, &ev)
	}
	if ans != nil && errors.Is(ans.err, backend.ErrCacheMiss) {
		return reportError(r, res.Backend, DecisionCacheMiss, ans.err)
	}
	switch {
	case a.voted:
		vote = a.vote // given ahead: needsVote said so, as here
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
