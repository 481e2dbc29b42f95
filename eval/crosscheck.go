package eval

import (
	"maps"
	"slices"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Leaks are the true security reports whose final route is public: each is
// an embargo breach, the one error secscreen must not make.
type Leaks struct {
	// Count is how many of SecurityReports true security reports were
	// routed publicly; Share is Count / SecurityReports.
	Count           int `json:"count"`
	SecurityReports int `json:"security_reports"`
	Share           Num `json:"share"`
	// IDs lists the leaked reports, in corpus order.
	IDs []string `json:"ids"`
}

// CrossCheckLine is one predictor's headline in the cross-check table: what
// the final decision gains over each voter deciding alone.
type CrossCheckLine struct {
	// Predictor is "final", "model", "rules" or "baseline".
	Predictor string `json:"predictor"`
	// N counts the reports scored for it (the model: those it was asked
	// about; the baseline: those it voted on).
	N int `json:"n"`
	// Accuracy is verdict accuracy; SecurityRecall the recall of security.
	Accuracy       Num `json:"accuracy"`
	SecurityRecall Num `json:"security_recall"`
	// PublicLeaks counts the true security reports this predictor would
	// route publicly if it decided alone (the final's are Leaks.Count).
	PublicLeaks int `json:"public_leaks"`
}

// ReviewLoad is the share of screened reports flagged for a person.
type ReviewLoad struct {
	// Flagged of N screened reports (error rows excluded) need review.
	Flagged int `json:"flagged"`
	N       int `json:"n"`
	Share   Num `json:"share"`
	// ByFlag counts flagged reports per kind of reason
	// (screener.Flag*); a report may count under several.
	ByFlag map[string]int `json:"by_flag"`
}

const sec = threatmodel.Security

// publicLeaks lists the true security reports routed publicly.
func publicLeaks(rows []Row) Leaks {
	l := Leaks{IDs: []string{}}
	for _, r := range rows {
		if r.True.Verdict != sec {
			continue
		}
		l.SecurityReports++
		if r.Error == "" && r.RoutePublic {
			l.Count++
			l.IDs = append(l.IDs, r.ID)
		}
	}
	l.Share = ratio(l.Count, l.SecurityReports)
	return l
}

// reviewLoad counts the screened rows flagged for review.
func reviewLoad(rows []Row) ReviewLoad {
	rl := ReviewLoad{ByFlag: map[string]int{}}
	for _, r := range rows {
		if r.Error != "" {
			continue
		}
		rl.N++
		if !r.NeedsReview {
			continue
		}
		rl.Flagged++
		for _, f := range r.ReviewFlags {
			rl.ByFlag[f]++
		}
	}
	rl.Share = ratio(rl.Flagged, rl.N)
	return rl
}

// crossCheck sums up the final decision and each voter alone. rt tells
// which of a voter's labels would go public.
func crossCheck(run *RunJSON, rt screener.Routes) []CrossCheckLine {
	leaksOf := func(pick func(Row) (label threatmodel.Label, ok bool)) int {
		n := 0
		for _, r := range run.Rows {
			if l, ok := pick(r); ok && r.True.Verdict == sec && l.Verdict != "" && rt.Of(l.Verdict, l.Category).Public {
				n++
			}
		}
		return n
	}
	line := func(name string, s *Scores, leaks int) CrossCheckLine {
		return CrossCheckLine{Predictor: name, N: s.N, Accuracy: s.Accuracy, SecurityRecall: s.SecurityRecall, PublicLeaks: leaks}
	}
	out := []CrossCheckLine{line("final", &run.Final, run.PublicLeaks.Count)}
	if run.Model != nil {
		out = append(out, line("model", run.Model, leaksOf(func(r Row) (threatmodel.Label, bool) {
			if r.Model == nil {
				return threatmodel.Label{}, false
			}
			return r.Model.Label, true
		})))
	}
	out = append(out, line("rules", &run.Rules, leaksOf(func(r Row) (threatmodel.Label, bool) {
		return r.Rules.Label, r.Error == ""
	})))
	if run.Baseline != nil {
		out = append(out, line("baseline", run.Baseline, leaksOf(func(r Row) (threatmodel.Label, bool) {
			if r.Baseline == nil {
				return threatmodel.Label{}, false
			}
			return r.Baseline.Label, true
		})))
	}
	return out
}

// flagNames lists the review flags met, most frequent first.
func flagNames(by map[string]int) []string {
	names := slices.Sorted(maps.Keys(by))
	slices.SortStableFunc(names, func(a, b string) int { return by[b] - by[a] })
	return names
}
