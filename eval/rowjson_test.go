package eval

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// rowJSON is a Row with every field set as eval has always written it:
// the true label as "true_verdict" and "true_category" right after the
// report's names, the final label after them. Run documents written
// earlier are read back (eval compare), so the shape must not move.
const rowJSON = `{"id":"r1","file":"r1.eml","source":"list","subject":"uaf in tc","true_verdict":"security","true_category":"isolation.memory",` +
	`"verdict":"not-security","category":"leak.padding","confidence":0.7,"correct":true,"category_correct":true,` +
	`"decision":"rules","needs_review":true,"review_reason":"low confidence","review_flags":["injection"],` +
	`"route":"security@","route_public":true,` +
	`"rules":{"verdict":"security","category":"isolation.memory","confidence":0.9,"decisive":true},` +
	`"baseline":{"verdict":"invalid","category":"invalid.intended","confidence":0.2,"error":"none"},` +
	`"model":{"verdict":"needs-info","category":"info.missing","confidence":0.4,"error":"e","model":"m","prompt":"p","latency_ms":12.5,"prompt_tokens":3,"completion_tokens":4,"cached":true},` +
	`"fired":[{"rule":"uaf","category":"isolation.memory"}],"repeats":["security",""],"fold":2,"error":"boom"}`

func fullRow() Row {
	return Row{
		ID: "r1", File: "r1.eml", Source: "list", Subject: "uaf in tc",
		True:       threatmodel.Label{Verdict: threatmodel.Security, Category: "isolation.memory"},
		Label:      threatmodel.Label{Verdict: threatmodel.NotSecurity, Category: "leak.padding"},
		Confidence: 0.7, Correct: true, CategoryCorrect: true,
		Decision: screener.Decision("rules"), NeedsReview: true, ReviewReason: "low confidence", ReviewFlags: []string{"injection"},
		Route: "security@", RoutePublic: true,
		Rules:    Prediction{Label: threatmodel.Label{Verdict: threatmodel.Security, Category: "isolation.memory"}, Confidence: 0.9, Decisive: true},
		Baseline: &Prediction{Label: threatmodel.Label{Verdict: threatmodel.Invalid, Category: "invalid.intended"}, Confidence: 0.2, Error: "none"},
		Model: &ModelRow{Label: threatmodel.Label{Verdict: threatmodel.NeedsInfo, Category: "info.missing"}, Confidence: 0.4, Error: "e",
			Model: "m", Prompt: "p", LatencyMS: 12.5, PromptTokens: 3, CompletionTokens: 4, Cached: true},
		Fired:   []FiredRule{{Rule: "uaf", Category: "isolation.memory"}},
		Repeats: []threatmodel.Verdict{threatmodel.Security, ""},
		Fold:    2, Error: "boom",
	}
}

func TestRowJSONShape(t *testing.T) {
	row := fullRow()
	b, err := json.Marshal(row)
	require.NoError(t, err)
	assert.Equal(t, rowJSON, string(b))

	var back Row
	require.NoError(t, json.Unmarshal([]byte(rowJSON), &back))
	assert.Equal(t, row, back, "a row reads back as it was written")

	b, err = json.Marshal(Row{ID: "r2", File: "r2.eml"})
	require.NoError(t, err)
	assert.Equal(t, `{"id":"r2","file":"r2.eml","true_verdict":"","true_category":"","verdict":"","category":"","confidence":0,"correct":false,"category_correct":false,"rules":{"verdict":"","category":"","confidence":0}}`, string(b),
		"empty fields are written or left out as before")
}

// TestRunJSONWritesRowsAsBefore: a whole run document with rows, written
// by WriteJSON (indented, HTML characters escaped), is byte for byte what
// eval wrote before the true label became a threatmodel.Label
// (testdata/run-rows.json was written by that code), and reads back.
func TestRunJSONWritesRowsAsBefore(t *testing.T) {
	row := fullRow()
	row.Subject = `<b>uaf</b> & "more"`
	run := &RunJSON{Schema: Schema, Rows: []Row{row, {ID: "r2", File: "r2.eml"}}}
	var b bytes.Buffer
	require.NoError(t, run.WriteJSON(&b))
	want, err := os.ReadFile(filepath.Join("testdata", "run-rows.json"))
	require.NoError(t, err)
	assert.Equal(t, string(want), b.String())

	var back RunJSON
	require.NoError(t, json.Unmarshal(want, &back))
	assert.Equal(t, run.Rows, back.Rows)
}
