package screener

import (
	"time"

	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Summary counts what a Run did. Inputs always equals Results + Errors.
type Summary struct {
	// Backend names what answered besides the rules.
	Backend string `json:"backend"`
	// Inputs counts the items read; each produced one row.
	Inputs int `json:"inputs"`
	// Results counts screened reports; Errors counts error rows.
	Results int `json:"results"`
	Errors  int `json:"errors"`
	// ByVerdict counts final verdicts; ByCategory final categories.
	ByVerdict  map[threatmodel.Verdict]int `json:"by_verdict"`
	ByCategory map[string]int              `json:"by_category"`
	// NeedsReview counts results flagged for a person; ReviewIDs names them
	// in input order.
	NeedsReview int      `json:"needs_review"`
	ReviewIDs   []string `json:"review_ids"`
	// Replies counts the replies folded into their reports (thread
	// grouping); Threads the reports that have some.
	Replies int `json:"replies"`
	Threads int `json:"threads"`
	// Updates counts the threads of earlier runs screened again with new
	// replies (Result.Updates); Replies counts only their new replies.
	Updates int `json:"updates"`
	// ErrorSources names the inputs that became error rows, in input order.
	ErrorSources []string `json:"error_sources"`
	// ModelCalls counts reports for which a model was asked;
	// ModelFailures those where it gave no valid answer; CallsSaved those
	// the rules decided alone; Repaired those fixed by the repair retry.
	ModelCalls    int `json:"model_calls"`
	ModelFailures int `json:"model_failures"`
	CallsSaved    int `json:"calls_saved"`
	Repaired      int `json:"repaired"`
	CacheHits     int `json:"cache_hits"`
	// Duplicates counts results that duplicate an earlier report (in this
	// run or the history); Reused those that took its decision instead of
	// being screened again.
	Duplicates int `json:"duplicates"`
	Reused     int `json:"reused"`
	// PromptTokens and CompletionTokens add up the model's usage.
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	// SentTo counts, per model server, the reports whose text was sent
	// there; empty when every report stayed on this machine.
	SentTo map[string]int `json:"sent_to"`
	// ModelRefused is true when the model server refused the credentials
	// (HTTP 401 or 403); the reports after it were not sent.
	ModelRefused bool `json:"model_refused"`
	// Cancelled is true when the run was stopped before its inputs ended.
	Cancelled bool `json:"cancelled"`
	// Wall is the run's wall time.
	Wall time.Duration `json:"wall_ns"`
}

// Rate is the reports (rows) handled per second of wall time, 0 before any.
func (s Summary) Rate() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.Inputs) / s.Wall.Seconds()
}

func newSummary(backendName string) Summary {
	return Summary{Backend: backendName, ByVerdict: map[threatmodel.Verdict]int{}, ByCategory: map[string]int{},
		ReviewIDs: []string{}, ErrorSources: []string{}, SentTo: map[string]int{}}
}

func (s *Summary) add(r Result) {
	s.Inputs++
	switch {
	case r.Updates != nil:
		s.Replies += len(r.Updates.NewReplies)
		s.Threads++
		s.Updates++
	case len(r.Replies) > 0:
		s.Replies += len(r.Replies)
		s.Threads++
	}
	if r.SentTo != "" && r.SentTo != backend.NotSent {
		s.SentTo[r.SentTo]++
	}
	if r.Failed() {
		s.Errors++
		s.ErrorSources = append(s.ErrorSources, r.Source)
		return
	}
	s.Results++
	s.ByVerdict[r.Verdict]++
	s.ByCategory[r.Category]++
	if r.NeedsReview {
		s.NeedsReview++
		s.ReviewIDs = append(s.ReviewIDs, r.ID)
	}
	if r.Decision == DecisionSkippedModel {
		s.CallsSaved++
	}
	if len(r.DuplicateOf) > 0 {
		s.Duplicates++
	}
	if r.Decision == DecisionDuplicate {
		s.Reused++
	}
	if m := r.Model; m != nil {
		s.ModelCalls++
		if !m.OK() {
			s.ModelFailures++
		}
		if backend.IsAuthError(m.err) || m.err == errRefused {
			s.ModelRefused = true
		}
		if m.Repaired {
			s.Repaired++
		}
		if m.Usage.Cached {
			s.CacheHits++
		}
		s.PromptTokens += m.Usage.PromptTokens
		s.CompletionTokens += m.Usage.CompletionTokens
	}
}
