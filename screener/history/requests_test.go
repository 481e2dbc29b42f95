package history

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// run checks q and runs it on s, returning what it wrote.
func run(t *testing.T, s Store, q Request) string {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, q.Check(ctx))
	var out bytes.Buffer
	require.NoError(t, q.Run(ctx, s, &out))
	return out.String()
}

func TestRequestsAreCheckedBeforeAnyStore(t *testing.T) {
	dir := t.TempDir()
	two := filepath.Join(dir, "two.mbox")
	require.NoError(t, os.WriteFile(two, []byte("From a@b Thu Jan  1 00:00:00 2025\nSubject: one\n\nfirst\n\nFrom a@b Thu Jan  1 00:00:00 2025\nSubject: two\n\nsecond\n"), 0o600))
	for _, c := range []struct {
		q    Request
		want string
	}{
		{&SearchRequest{Format: docformat.Text}, "give words to look for, or --like FILE (not both)"},
		{&SearchRequest{Words: []string{"x"}, Like: two, Format: docformat.Text}, "not both"},
		{&SearchRequest{Words: []string{"x"}, Format: "csv"}, `history search: unknown format "csv" (want one of text, json)`},
		{&SearchRequest{Like: filepath.Join(dir, "none.eml"), Format: docformat.Text}, "history search --like: "},
		{&SearchRequest{Like: two, Format: docformat.Text}, "holds more than one report; give one"},
		{&ShowRequest{ID: "#1", Format: "xml"}, `history show: unknown format "xml"`},
		{&StatsRequest{Format: "xml"}, `history stats: unknown format "xml"`},
		{&ExportRequest{Format: "json"}, `history export: unknown format "json" (want one of jsonl, csv)`},
		{&LabelRequest{ID: "#1", Label: Label{Label: threatmodel.Label{Verdict: threatmodel.Security, Category: "leak.padding"}}, ThreatModel: threatmodel.Kernel()}, "history label: "},
		{&LabelRequest{ID: "#1", Label: Label{Label: threatmodel.Label{Verdict: "bogus", Category: "leak.padding"}}, ThreatModel: threatmodel.Kernel()}, "bogus"},
	} {
		err := c.q.Check(context.Background())
		if assert.Error(t, err, "%#v", c.q) {
			assert.Contains(t, err.Error(), c.want)
		}
	}
}

func TestSearchRequestByWordsAndByLikeness(t *testing.T) {
	s := newSQLite(t)
	orig := synthetic(1)
	record(t, s, orig, "security", "isolation.memory")
	record(t, s, synthetic(2), "invalid", "invalid.intended")

	out := run(t, s, &SearchRequest{Words: []string{strings.Fields(orig.Body)[0]}, Limit: 10, Format: docformat.Text})
	assert.Contains(t, out, orig.ID)
	out = run(t, s, &SearchRequest{Words: []string{"no-such-word-anywhere"}, Limit: 10, Format: docformat.JSON})
	assert.Equal(t, "null\n", out, "JSON for nothing found")

	like := filepath.Join(t.TempDir(), "like.eml")
	require.NoError(t, os.WriteFile(like, []byte("Subject: "+orig.Subject+"\n\n"+orig.Body+" and a few more words\n"), 0o600))
	out = run(t, s, &SearchRequest{Like: like, Limit: 5, Format: docformat.JSON})
	var hits []Hit
	require.NoError(t, json.Unmarshal([]byte(out), &hits), out)
	require.NotEmpty(t, hits)
	assert.Equal(t, orig.ID, hits[0].ID)
	assert.True(t, hits[0].Duplicate)
	assert.Contains(t, run(t, s, &SearchRequest{Like: like, Limit: 5, Format: docformat.Text}), "duplicate: ")
}

func TestShowRequestWritesEveryVersionApart(t *testing.T) {
	s := newSQLite(t)
	r := synthetic(1)
	record(t, s, r, "security", "isolation.memory")
	v2 := *r
	v2.Hash, v2.Body = "raw-v2", r.Body+" (v2)"
	record(t, s, &v2, "invalid", "invalid.intended")

	out := run(t, s, &ShowRequest{ID: r.ID, Format: docformat.Text})
	assert.True(t, strings.HasPrefix(out, "#2 "), "newest first")
	assert.Contains(t, out, "\n\n#1 ", "a blank line, then the older version")

	var es []Entry
	require.NoError(t, json.Unmarshal([]byte(run(t, s, &ShowRequest{ID: "#1", Format: docformat.JSON})), &es))
	require.Len(t, es, 1)
	assert.Equal(t, threatmodel.Security, es[0].Verdict)

	q := &ShowRequest{ID: "nobody@nowhere", Format: docformat.Text}
	require.NoError(t, q.Check(context.Background()))
	assert.ErrorIs(t, q.Run(context.Background(), s, &bytes.Buffer{}), ErrNotFound)
}

func TestLabelRequestLabelsTheNewestVersionAndNamesWhoDecided(t *testing.T) {
	s := newSQLite(t)
	r := synthetic(1)
	record(t, s, r, "needs-info", "info.missing")
	v2 := *r
	v2.Hash = "raw-v2"
	record(t, s, &v2, "needs-info", "info.missing")

	q := &LabelRequest{ID: r.ID, Label: Label{Label: threatmodel.Label{Verdict: threatmodel.Security, Category: "isolation.memory"}, Note: "confirmed"}, ThreatModel: threatmodel.Kernel()}
	out := run(t, s, q)
	assert.Equal(t, "#2 "+r.ID+": security / isolation.memory (was screened as needs-info / info.missing)\n", out)
	assert.NotEmpty(t, q.Label.By, "the user's name by default")
	es, err := s.Get(context.Background(), "#2")
	require.NoError(t, err)
	require.NotNil(t, es[0].Label)
	assert.Equal(t, "confirmed", es[0].Label.Note)
	es, err = s.Get(context.Background(), "#1")
	require.NoError(t, err)
	assert.Nil(t, es[0].Label, "the older version keeps its screening")
}

func TestStatsExportAndCorpusExportRequests(t *testing.T) {
	s := newSQLite(t)
	id := record(t, s, synthetic(1), "security", "isolation.memory")
	record(t, s, synthetic(2), "invalid", "invalid.intended")
	require.NoError(t, s.SetLabel(context.Background(), id, Label{Label: threatmodel.Label{Verdict: threatmodel.Security, Category: "isolation.memory"}}))

	var st Stats
	require.NoError(t, json.Unmarshal([]byte(run(t, s, &StatsRequest{Clusters: 3, Format: docformat.JSON})), &st))
	assert.Equal(t, 2, st.Entries)
	assert.Equal(t, 1, st.Labeled)
	assert.Contains(t, run(t, s, &StatsRequest{Clusters: 3, Format: docformat.Text}), "2 reports, 1 labeled by the team")

	path := filepath.Join(t.TempDir(), "all.csv")
	assert.Empty(t, run(t, s, &ExportRequest{Format: ExportCSV, Output: path}))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the history holds embargoed reports")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(data), "\n"))
	assert.Equal(t, 2, strings.Count(run(t, s, &ExportRequest{Format: ExportJSONL}), "\n"))

	var log bytes.Buffer
	dir := filepath.Join(t.TempDir(), "team")
	assert.Empty(t, run(t, s, &CorpusExportRequest{Dir: dir, Log: &log}))
	assert.Equal(t, "1 labeled reports written to "+dir+" (0 exact duplicates left out); check it with 'secscreen corpus check "+dir+"'\n", log.String())
}

func TestDoChecksOpensAndRuns(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(ctx, path)
	require.NoError(t, err)
	record(t, s, synthetic(1), "security", "isolation.memory")
	require.NoError(t, s.Close())

	var out bytes.Buffer
	require.NoError(t, Do(ctx, path, &StatsRequest{Clusters: 1, Format: docformat.Text}, &out))
	assert.Contains(t, out.String(), "1 reports, 0 labeled")

	err = Do(ctx, path, &StatsRequest{Format: "xml"}, &out)
	assert.Equal(t, exit.Usage, exit.Code(err))
	notADir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notADir, nil, 0o600))
	err = Do(ctx, filepath.Join(notADir, "h.db"), &StatsRequest{Format: docformat.Text}, &out)
	assert.ErrorContains(t, err, "(--no-history screens without one)")
	assert.Equal(t, exit.Failure, exit.Code(err))
}
