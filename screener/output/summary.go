package output

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/secscreen/secscreen/screener"
)

// SummaryLine is the one-line account of a run for standard error: inputs,
// rows, errors and reviews, the backend (described by backend), the model
// calls and tokens with their cost when known (hasCost), and where the
// reports' text went.
func SummaryLine(sum screener.Summary, backend string, cost float64, hasCost bool) string {
	s := fmt.Sprintf("%d inputs, %d rows: %d screened, %d errors, %d need review; backend %s",
		sum.Inputs, sum.Results+sum.Errors, sum.Results, sum.Errors, sum.NeedsReview, backend)
	if sum.ModelCalls > 0 || sum.CallsSaved > 0 {
		s += fmt.Sprintf("; %d model calls (%d failed, %d repaired, %d cached), %d saved by decisive rules, %d+%d tokens",
			sum.ModelCalls, sum.ModelFailures, sum.Repaired, sum.CacheHits, sum.CallsSaved, sum.PromptTokens, sum.CompletionTokens)
		if hasCost {
			s += fmt.Sprintf(", cost %.4f", cost)
		}
	}
	return s + "; " + sentToLine(sum.SentTo)
}

// SummaryDetail is the rest of a run's account, one indented line each:
// verdicts and categories, the reports to review and the inputs that
// failed (the first ten of each), the folded threads, and the wall time
// and rate.
func SummaryDetail(sum screener.Summary) string {
	var b strings.Builder
	if len(sum.ByVerdict) > 0 {
		fmt.Fprintf(&b, "  verdicts: %s\n", countList(sum.ByVerdict))
		fmt.Fprintf(&b, "  categories: %s\n", countList(sum.ByCategory))
	}
	if len(sum.ReviewIDs) > 0 {
		fmt.Fprintf(&b, "  to review: %s\n", FirstOf(sum.ReviewIDs, 10))
	}
	if sum.Replies > 0 {
		fmt.Fprintf(&b, "  threads: %d replies folded into %d reports", sum.Replies, sum.Threads)
		if sum.Updates > 0 {
			fmt.Fprintf(&b, ", %d of them screened in an earlier run (see updates)", sum.Updates)
		}
		b.WriteString(" (--no-threads screens them alone)\n")
	}
	if len(sum.ErrorSources) > 0 {
		fmt.Fprintf(&b, "  errors: %s\n", FirstOf(sum.ErrorSources, 10))
	}
	fmt.Fprintf(&b, "  wall time %.2f s, %.1f reports/s\n", sum.Wall.Seconds(), sum.Rate())
	return b.String()
}

// String says what a resumed output held and what was skipped.
func (d *Done) String() string {
	s := fmt.Sprintf("%d rows were there, %d inputs skipped as done", d.Rows, d.Skipped)
	if d.Redo > 0 {
		s += fmt.Sprintf(", %d cancelled rows removed and screened again", d.Redo)
	}
	if d.Torn > 0 {
		s += fmt.Sprintf(", a half-written last line (%d bytes) cut off", d.Torn)
	}
	return s
}

// countList prints counts largest first, then by name: "a 3, b 1".
func countList[K ~string](m map[K]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b K) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// FirstOf joins the first n items and says how many more there are.
func FirstOf(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s (+%d more)", strings.Join(items[:n], ", "), len(items)-n)
}

// sentToLine says where reports' text went: every server and how many
// reports it received, or that nothing left this machine.
func sentToLine(sentTo map[string]int) string {
	if len(sentTo) == 0 {
		return "no report text left this machine"
	}
	servers := slices.Sorted(maps.Keys(sentTo))
	parts := make([]string, len(servers))
	for i, s := range servers {
		parts[i] = fmt.Sprintf("%d to %s", sentTo[s], s)
	}
	return "report text sent: " + strings.Join(parts, ", ")
}
