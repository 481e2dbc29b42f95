package output

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func TestSummaryLineAndDetail(t *testing.T) {
	sum := screener.Summary{Inputs: 3, Results: 2, Errors: 1, NeedsReview: 1, ModelCalls: 2, PromptTokens: 10, CompletionTokens: 4,
		SentTo: map[string]int{"http://127.0.0.1:8080": 2}, ByVerdict: map[threatmodel.Verdict]int{threatmodel.Security: 1, threatmodel.Invalid: 1},
		ByCategory: map[string]int{"isolation.memory": 1, "invalid.nonexistent": 1}, ReviewIDs: []string{"r1"}, Wall: 2 * time.Second,
		ErrorSources: []string{"junk.bin"}, Replies: 2, Threads: 1}
	assert.Equal(t, "3 inputs, 3 rows: 2 screened, 1 errors, 1 need review; backend openai (m at u); 2 model calls (0 failed, 0 repaired, 0 cached), 0 saved by decisive rules, 10+4 tokens, cost 0.5000; report text sent: 2 to http://127.0.0.1:8080",
		SummaryLine(sum, "openai (m at u)", 0.5, true))
	assert.Contains(t, SummaryLine(screener.Summary{}, "rules (no model)", 0, false), "no report text left this machine")
	d := SummaryDetail(sum)
	assert.Contains(t, d, "  verdicts: invalid 1, security 1\n")
	assert.Contains(t, d, "  to review: r1\n")
	assert.Contains(t, d, "  categories: invalid.nonexistent 1, isolation.memory 1\n", "ties by name")
	assert.Contains(t, d, "  errors: junk.bin\n")
	assert.Contains(t, d, "  threads: 2 replies folded into 1 reports")
	assert.Contains(t, d, "  wall time 2.00 s, 1.5 reports/s\n", "3 inputs in 2 s")
	sum.ByCategory = map[string]int{"b": 1, "a": 3, "c": 3}
	sum.Wall = 250 * time.Millisecond
	d = SummaryDetail(sum)
	assert.Contains(t, d, "  categories: a 3, c 3, b 1\n", "largest first")
	assert.Contains(t, d, "  wall time 0.25 s, 12.0 reports/s\n")
	assert.NotContains(t, SummaryDetail(screener.Summary{Wall: time.Second}), "categories:", "no rows, no counts")
	assert.Equal(t, "a, b (+1 more)", FirstOf([]string{"a", "b", "c"}, 2))
	assert.Equal(t, "4 rows were there, 2 inputs skipped as done, a half-written last line (9 bytes) cut off", (&Done{Rows: 4, Skipped: 2, Torn: 9}).String())
}
