package history

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func TestRequestsFromTheirFlags(t *testing.T) {
	for _, flags := range [][]cliflag.Flag{SearchFlags, ShowFlags, StatsFlags, ExportFlags, CorpusExportFlags} {
		assert.Equal(t, Flag, flags[0], "every request names the history")
	}
	assert.Equal(t, "SECSCREEN_HISTORY", Flag.Env)

	assert.Equal(t, &SearchRequest{Words: []string{"uaf"}, Limit: 20, Format: docformat.Text},
		NewSearchRequest(cliflag.Given(SearchFlags, nil), []string{"uaf"}))
	assert.Equal(t, &SearchRequest{Like: "r.eml", Limit: 3, Format: docformat.JSON},
		NewSearchRequest(cliflag.Given(SearchFlags, map[string]any{"like": "r.eml", "limit": 3, "format": "json"}), nil))

	show, err := NewShowRequest(cliflag.Given(ShowFlags, map[string]any{"format": "json"}), []string{"#4"})
	require.NoError(t, err)
	assert.Equal(t, &ShowRequest{ID: "#4", Format: docformat.JSON}, show)
	_, err = NewShowRequest(cliflag.Given(ShowFlags, nil), nil)
	assert.EqualError(t, err, "history show: want one ID (a report id or #N)")

	assert.Equal(t, &StatsRequest{Clusters: 10, Format: docformat.Text}, NewStatsRequest(cliflag.Given(StatsFlags, nil)))
	assert.Equal(t, &ExportRequest{Format: ExportJSONL}, NewExportRequest(cliflag.Given(ExportFlags, nil)))
	assert.Equal(t, &ExportRequest{Format: ExportCSV, Output: "h.csv"},
		NewExportRequest(cliflag.Given(ExportFlags, map[string]any{"format": "csv", "output": "h.csv"})))

	label, err := NewLabelRequest(cliflag.Given(LabelFlags, map[string]any{"verdict": "security", "category": "security.memory",
		"note": "why", "by": "me"}), []string{"id@x"})
	require.NoError(t, err)
	assert.Equal(t, &LabelRequest{ID: "id@x", Label: Label{Label: threatmodel.Label{Verdict: threatmodel.Security, Category: "security.memory"}, Note: "why", By: "me"}}, label)
	_, err = NewLabelRequest(cliflag.Given(LabelFlags, nil), []string{"a", "b"})
	assert.EqualError(t, err, "history label: want one ID (a report id or #N)")

	var log bytes.Buffer
	export, err := NewCorpusExportRequest(cliflag.Given(CorpusExportFlags, map[string]any{"from-history": "new"}), nil, &log)
	require.NoError(t, err)
	assert.Equal(t, &CorpusExportRequest{Dir: "new", Log: &log}, export)
	_, err = NewCorpusExportRequest(cliflag.Given(CorpusExportFlags, nil), []string{"x"}, &log)
	assert.EqualError(t, err, "corpus export: unexpected arguments [x]")
}
