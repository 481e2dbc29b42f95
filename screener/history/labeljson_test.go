package history

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// TestLabelJSONShape: a team label is written as it always was
// (history show and export read by scripts), and reads back.
func TestLabelJSONShape(t *testing.T) {
	at := time.Date(2026, 12, 4, 16, 30, 0, 0, time.UTC)
	l := Label{Label: threatmodel.Label{Verdict: threatmodel.Security, Category: "isolation.memory"}, Note: "reachable", By: "alice", At: at}
	b, err := json.Marshal(l)
	require.NoError(t, err)
	const want = `{"verdict":"security","category":"isolation.memory","note":"reachable","by":"alice","at":"2026-12-04T16:30:00Z"}`
	assert.Equal(t, want, string(b))
	var back Label
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, l, back)

	b, err = json.Marshal(Label{})
	require.NoError(t, err)
	assert.Equal(t, `{"verdict":"","category":"","at":"0001-01-01T00:00:00Z"}`, string(b))
}
