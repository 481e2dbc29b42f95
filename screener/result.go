package screener

import (
	"encoding/json"

	"github.com/secscreen/secscreen/screener/injection"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/sourcetree"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Result is the outcome of screening one input: a decision about a report,
// or the error that kept it from being screened (Error set, Verdict empty).
type Result struct {
	// ID is the report's stable id (or the input's source for an error row).
	ID string `json:"id"`
	// Source says where the report came from.
	Source string `json:"source"`
	// Subject is the report's subject line.
	Subject string `json:"subject"`
	// From is the report's sender.
	From string `json:"from,omitempty"`
	// Hash is the report's content hash (intake.Report.Hash); with ID it
	// tells a resumed run which reports are done. Empty on an error row
	// for an input that could not be read.
	Hash string `json:"hash"`
	// Replies are the ids of the replies folded into this report by
	// thread grouping (intake.Options.Threads), in input order.
	Replies []string `json:"thread_replies"`
	// Updates is set when the report is a thread an earlier run screened,
	// now with new replies (intake.Report.Updates): the earlier decision
	// and the new replies' ids; null otherwise.
	Updates *intake.ThreadUpdate `json:"updates"`
	// Label is the final decision: "verdict" and "category".
	threatmodel.Label
	// Confidence in [0,1] is the decision's confidence.
	Confidence float64 `json:"confidence"`
	// Route says where the report should go next.
	Route string `json:"route"`
	// RoutePublic is true when Route puts the report where anyone can read
	// it (routes.yaml marks such routes public).
	RoutePublic bool `json:"route_public"`
	// Missing lists what the report lacks ("version", "reproducer", ...).
	Missing []string `json:"missing"`
	// Rules lists every rule that fired, with its span.
	Rules []rules.Finding `json:"rules"`
	// Injection lists the text aimed at a model or an automated triage
	// system that the injection detector found, with its spans; the rules
	// may flag a report for injection too (see review_flags).
	Injection []injection.Span `json:"injection"`
	// RulesVerdict is the rules-only opinion.
	RulesVerdict Opinion `json:"rules_verdict"`
	// RulesTruncated lists the parts the rules read only in part (a very
	// long body or attachment); the model and the baseline saw the report
	// within their own limits.
	RulesTruncated []rules.Truncation `json:"rules_truncated,omitempty"`
	// Model is the model's answer; nil when no model was asked.
	Model *ModelAnswer `json:"model"`
	// Baseline is the offline voter's opinion (Config.Voter); nil when
	// there is none.
	Baseline *Opinion `json:"baseline"`
	// SourceCheck is what the source tree (Config.Source) says about the
	// code the report cites; nil when no tree was given.
	SourceCheck *sourcetree.Check `json:"source_check"`
	// Backend names what produced the model answer ("rules" when none).
	Backend string `json:"backend"`
	// SentTo says where the report's text was sent: a model server
	// (scheme://host:port), or backend.NotSent when it stayed on this
	// machine (rules, an offline backend, a cache replay, an error row).
	SentTo string `json:"sent_to"`
	// Decision names the policy step that produced the final label.
	Decision Decision `json:"decision"`
	// NeedsReview is true when a person should look: a decisive rule
	// against the model, a voter that says security while the verdict is
	// not, a model that failed, or a report that addresses the model.
	NeedsReview bool `json:"needs_review"`
	// ReviewReason says why NeedsReview is set.
	ReviewReason string `json:"review_reason,omitempty"`
	// ReviewFlags names the kinds of reason, one word each (the Flag
	// constants), so that reviews can be counted and filtered.
	ReviewFlags []string `json:"review_flags"`
	// DuplicateOf lists the earlier reports this one duplicates, best
	// first (Config.Duplicates); empty when none or when not checked.
	DuplicateOf []DuplicateOf `json:"duplicate_of"`
	// Error is nil for a screened report, else one line saying what failed.
	Error *string `json:"error"`

	// report and facts are what the result was decided from, for the
	// commands that advise on it or answer it (Report, Facts).
	report *intake.Report
	facts  *rules.Facts
}

// Report returns the report this result was decided about; nil for an
// error row.
func (r *Result) Report() *intake.Report { return r.report }

// Facts returns what the rules' extractors read from the report; nil for
// an error row.
func (r *Result) Facts() *rules.Facts { return r.facts }

// SetReport attaches the report a result was decided about, for results
// built outside a Screener (tools, writers' tests).
func (r *Result) SetReport(rep *intake.Report) { r.report = rep }

// DropReport forgets the report and the facts, for writers that keep many
// results but never show their text (they would hold the whole input).
func (r *Result) DropReport() { r.report, r.facts = nil, nil }

// MarshalJSON writes every field on every row, so that tools reading the
// results see one shape: from and review_reason are null when empty, and
// missing, rules, thread_replies, injection, review_flags and duplicate_of are
// [] (never null) on error rows too.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result // without this method
	p := plain(r)
	if p.Missing == nil {
		p.Missing = []string{}
	}
	if p.Rules == nil {
		p.Rules = []rules.Finding{}
	}
	if p.ReviewFlags == nil {
		p.ReviewFlags = []string{}
	}
	if p.Replies == nil {
		p.Replies = []string{}
	}
	if p.Injection == nil {
		p.Injection = []injection.Span{}
	}
	if p.DuplicateOf == nil {
		p.DuplicateOf = []DuplicateOf{}
	}
	return json.Marshal(struct {
		plain
		From         *string `json:"from"`
		ReviewReason *string `json:"review_reason"`
	}{p, nullIfEmpty(r.From), nullIfEmpty(r.ReviewReason)})
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Opinion is one voter's label.
type Opinion struct {
	// Label is the voter's verdict and category; empty when Error is set.
	threatmodel.Label
	// Confidence in [0,1] is the voter's confidence in Label.
	Confidence float64 `json:"confidence"`
	// Score is the rules' summed weight behind Category (rules only).
	Score float64 `json:"score,omitempty"`
	// Decisive marks rules evidence strong enough to stand alone.
	Decisive bool `json:"decisive,omitempty"`
	// Error is set when the voter gave no opinion; the label is then empty.
	Error string `json:"error,omitempty"`
}

// ModelAnswer is the classifier's validated answer with the call's
// details: the "model" object of a result.
type ModelAnswer struct {
	// Classification is the answer; its label fields are empty when Error
	// is set.
	Classification
	// Error is set when no valid answer was obtained; the label fields are
	// then empty and the decision falls back to the rules.
	Error string `json:"error,omitempty"`
	// err is the failed call's error, for the screener to tell a cache miss
	// or a refused key from other failures.
	err error
}

// OK reports whether the model gave a valid answer.
func (m *ModelAnswer) OK() bool { return m != nil && m.Error == "" && m.Verdict != "" }

// Failed reports whether the result is an error row.
func (r *Result) Failed() bool { return r.Error != nil }
