package screener

import (
	"context"
	"time"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/injection"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// DecisionDuplicate marks a result whose label was reused from an earlier
// report it duplicates (see Config.Duplicates): no model was asked.
const DecisionDuplicate Decision = "duplicate"

// DuplicateOf names an earlier report that a result duplicates: earlier in
// the same run, or recorded in the history by an earlier run.
type DuplicateOf struct {
	// ID is the earlier report's id.
	ID string `json:"id"`
	// HistoryID is its entry in the history (0 when none was kept).
	HistoryID int64 `json:"history_id,omitempty"`
	// Subject is its subject line.
	Subject string `json:"subject,omitempty"`
	// Similarity estimates how much of the text the two share (the Jaccard
	// similarity of their word shingles; 1 for the same content).
	Similarity float64 `json:"similarity"`
	// Signal is the strongest evidence that matched: exact, crash, title,
	// cve, near, commit or file-function (see package dedup).
	Signal string `json:"signal"`
	// Evidence is what matched for a same-bug signal: the crash signature,
	// the title, the CVE id, the commit, the file and function.
	Evidence string `json:"evidence,omitempty"`
	// Label is the decision the earlier report got: the team's label when
	// one was recorded (Labeled), else its result.
	threatmodel.Label
	// Labeled is true when Label is the team's label.
	Labeled bool `json:"labeled,omitempty"`
	// Seen is when the earlier report was screened.
	Seen time.Time `json:"seen,omitzero"`
	// Batch is the earlier report's 1-based position in this run, 0 when it
	// came from the history.
	Batch int `json:"-"`
}

// Prior is the decision an earlier report got, for a duplicate to reuse.
type Prior struct {
	// Result is the earlier result as recorded; with a team label, its
	// Verdict and Category are the label's.
	Result Result
	// Labeled is true when the team recorded its own decision.
	Labeled bool
}

// Duplicates finds, for each report of a run, the earlier reports it
// duplicates (in this run or in a history of earlier runs), and records
// each result. Run calls Check and Record in input order, each from a
// single goroutine; Prior may be called from any goroutine. With
// Config.EmitAsDone, Record is called as each result is done instead, but
// never before the Record of an earlier report of the run that the result
// duplicates (one Check returned), so that its DuplicateOf is completed
// as in input order.
type Duplicates interface {
	// Check returns the earlier reports r duplicates, best first. seq is
	// r's 1-based position in the run.
	Check(ctx context.Context, seq int, r *intake.Report) []DuplicateOf
	// Prior returns, for the report at position seq, the decision of the
	// earlier report d (one of those Check returned) names; ok is false
	// when there is none to reuse for this kind of match. It does not
	// wait: while that report is still being screened in this run, it
	// returns a channel that is closed once its decision is known (given
	// to Decided or Record), and Prior answers then. Once it answers, it
	// answers the same.
	Prior(seq int, d DuplicateOf) (p Prior, ok bool, pending <-chan struct{})
	// Decided is given each result of a report Check was given as soon as
	// it is done, before Record, from any goroutine: the reports waiting
	// for its decision need not wait for the results before it.
	Decided(seq int, res *Result)
	// Record is given each result in input order (error rows included); it
	// completes res.DuplicateOf with the decisions of earlier reports of
	// this run, and keeps the result for the reports that follow.
	Record(ctx context.Context, seq int, r *intake.Report, res *Result)
}

// reuse builds the result of a report that duplicates one already decided:
// its own identity, rules findings and missing details, the earlier
// decision, no model. A
// team label gets its route from the routes; an earlier result keeps its
// own (held private if it was).
func (s *Screener) reuse(r *intake.Report, ev Opinion, p Prior, dups []DuplicateOf) Result {
	pr := p.Result
	res := Result{ID: r.ID, Source: r.Source, Subject: r.Subject, From: r.From, Hash: r.Hash, Replies: r.Replies, Updates: r.Updates,
		Backend: s.BackendName(), SentTo: backend.NotSent,
		Label: pr.Label, Confidence: pr.Confidence, Route: pr.Route, RoutePublic: pr.RoutePublic,
		RulesVerdict: ev, Decision: DecisionDuplicate, DuplicateOf: dups,
		NeedsReview: pr.NeedsReview, ReviewReason: pr.ReviewReason, ReviewFlags: pr.ReviewFlags}
	if p.Labeled {
		res.Confidence = 1
		res.Route = s.cfg.Routes.For(pr.Verdict, pr.Category, pr.Missing)
		res.RoutePublic = s.cfg.Routes.Of(pr.Verdict, pr.Category).Public
		res.NeedsReview, res.ReviewReason, res.ReviewFlags = false, "", nil
	}
	return res
}

// mayReuse reports whether the report at position seq may reuse the
// decision of one of dups, an earlier report's: whether one has a decision
// to reuse (see Duplicates.Prior), or is still being screened.
func (s *Screener) mayReuse(seq int, dups []DuplicateOf) bool {
	for _, d := range dups {
		if _, ok, pending := s.cfg.Duplicates.Prior(seq, d); ok || pending != nil {
			return true
		}
	}
	return false
}

// reuseDecision is the result of a report that duplicates earlier ones
// when it can reuse an earlier decision: the first match that has one
// (see Duplicates.Prior), unless the report's own rules or the injection
// detector (ev, spans: its analysis) see text aimed at a model, or its
// rules say security while that decision does not (a near-duplicate may
// add what makes it a vulnerability). ok is false when the report is to be
// screened as usual. It does not wait for a decision still being made: it
// returns the channel to wait on, and is asked again after.
func (s *Screener) reuseDecision(seq int, r *intake.Report, dups []DuplicateOf, ev *rules.Evaluation, spans []injection.Span) (res Result, ok bool, pending <-chan struct{}) {
	for _, d := range dups {
		p, ok, pending := s.cfg.Duplicates.Prior(seq, d)
		if pending != nil {
			return Result{}, false, pending
		}
		if !ok {
			continue
		}
		const sec = threatmodel.Security
		rulesSec := ev.Verdict == sec && ev.Confidence >= s.cfg.Policy.PrivateAt
		if ev.Injection || rulesSec && p.Result.Verdict != sec || len(spans) > 0 {
			return Result{}, false, nil
		}
		res := s.reuse(r, Opinion{Label: ev.Label, Confidence: ev.Confidence,
			Score: ev.Score, Decisive: ev.Decisive}, p, dups)
		res.Rules, res.RulesTruncated, res.Missing = ev.Findings, ev.Truncated, ev.Missing
		res.report, res.facts = r, &ev.Facts
		return res, true, nil
	}
	return Result{}, false, nil
}
