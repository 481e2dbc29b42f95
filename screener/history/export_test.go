package history

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/dedup"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func newSQLite(t *testing.T) *sqlStore {
	t.Helper()
	s, err := openSQLiteAt(context.Background(), filepath.Join(t.TempDir(), "h.db"), 0)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func readBack(t *testing.T, path string) *intake.Report {
	t.Helper()
	var got *intake.Report
	for it := range intake.Read(context.Background(), []string{path}, intake.Options{}) {
		require.NoError(t, it.Err)
		got = it.Report
	}
	require.NotNil(t, got)
	return got
}

func TestExportCorpusWritesTheTeamsDecisions(t *testing.T) {
	s := newSQLite(t)
	ctx := context.Background()
	withFile := &intake.Report{ID: "a@example.org", MessageID: "a@example.org", Hash: "ha", Subject: "nf_tables: double free — reachable from userns",
		From: "Zoë Müller <zoe@example.org>", Date: time.Date(2025, 5, 2, 9, 30, 0, 0, time.UTC),
		Body:        "Hello,\n\nthe verdict is freed twice; a line that is rather long so that quoted-printable has to wrap it somewhere in the middle = here.\n\nZoë\n",
		Attachments: []intake.Attachment{{Name: "repro.c", ContentType: "text/x-csrc", Size: 26, Text: "int main(void) { return 0; }\n"}}}
	plain := &intake.Report{ID: "reports/b.txt", Hash: "hb", Subject: "a WARN in ext4", Body: "WARNING at fs/ext4/xattr.c:123 with a crafted image\n"}
	resend := *withFile
	resend.ID, resend.MessageID, resend.Hash = "c@example.org", "c@example.org", "hc"
	unlabeled := &intake.Report{ID: "d@example.org", Hash: "hd", Subject: "question", Body: "is this a bug?\n"}

	ids := map[string]int64{}
	for _, r := range []*intake.Report{withFile, plain, &resend, unlabeled} {
		ids[r.ID] = record(t, s, r, "needs-info", "info.missing")
	}
	require.NoError(t, s.SetLabel(ctx, ids[withFile.ID], Label{Label: threatmodel.Label{Verdict: "security", Category: "capability.sys-admin"}, Note: "confirmed", By: "alice"}))
	require.NoError(t, s.SetLabel(ctx, ids[plain.ID], Label{Label: threatmodel.Label{Verdict: "not-security", Category: "fs.crafted-image"}}))
	require.NoError(t, s.SetLabel(ctx, ids[resend.ID], Label{Label: threatmodel.Label{Verdict: "security", Category: "capability.sys-admin"}}))

	dir := filepath.Join(t.TempDir(), "team-corpus")
	got, err := ExportCorpus(ctx, s, dir)
	require.NoError(t, err)
	assert.Equal(t, CorpusExport{Written: 2, Skipped: 1}, got, "the resend's text is the first one's")

	c, err := corpus.Load(dir)
	require.NoError(t, err)
	require.Len(t, c.Labels, 2)
	l := c.Labels[0]
	assert.Equal(t, threatmodel.Security, l.Verdict)
	assert.Equal(t, "capability.sys-admin", l.Category)
	assert.Equal(t, corpus.SplitDev, l.SplitOf())
	assert.Contains(t, l.Notes, "confirmed")
	assert.Contains(t, l.Source, "a@example.org")

	back := readBack(t, c.Path(l))
	assert.Equal(t, withFile.Subject, back.Subject)
	assert.Equal(t, withFile.From, back.From)
	assert.True(t, withFile.Date.Equal(back.Date))
	assert.Equal(t, withFile.MessageID, back.MessageID)
	assert.Equal(t, strings.TrimSpace(withFile.Body), strings.TrimSpace(back.Body))
	require.Len(t, back.Attachments, 1)
	assert.Equal(t, "repro.c", back.Attachments[0].Name)
	assert.Equal(t, withFile.Attachments[0].Text, back.Attachments[0].Text)
	assert.Equal(t, dedup.ContentHash(withFile), dedup.ContentHash(back), "the same report to duplicate detection")

	back = readBack(t, c.Path(c.Labels[1]))
	assert.Equal(t, plain.Subject, back.Subject)
	assert.Equal(t, strings.TrimSpace(plain.Body), strings.TrimSpace(back.Body))

	_, err = ExportCorpus(ctx, s, dir)
	assert.Error(t, err, "a corpus is not overwritten")
}

func TestExportJSONLAndCSV(t *testing.T) {
	s := newSQLite(t)
	ctx := context.Background()
	r := synthetic(1)
	r.Subject = "=HYPERLINK(\"http://evil\")"
	id := record(t, s, r, "invalid", "invalid.intended")
	record(t, s, synthetic(2), "security", "isolation.memory")
	require.NoError(t, s.SetLabel(ctx, id, Label{Label: threatmodel.Label{Verdict: "invalid", Category: "invalid.nonexistent"}, Note: "no such function"}))

	var jl bytes.Buffer
	require.NoError(t, Export(ctx, s, "jsonl", &jl))
	lines := strings.Split(strings.TrimSpace(jl.String()), "\n")
	require.Len(t, lines, 2)
	var e Entry
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &e))
	assert.Equal(t, r.ID, e.ID)
	require.NotNil(t, e.Report)
	assert.Equal(t, r.Body, e.Report.Body)
	require.NotNil(t, e.Label)
	assert.Equal(t, "invalid.nonexistent", e.Label.Category)

	var cs bytes.Buffer
	require.NoError(t, Export(ctx, s, "csv", &cs))
	rows, err := csv.NewReader(&cs).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3)
	assert.Equal(t, csvHeader, rows[0])
	assert.Equal(t, "'"+r.Subject, rows[1][3], "formulas defused")
	assert.Equal(t, "invalid.nonexistent", rows[1][12])

	assert.Error(t, Export(ctx, s, "xml", &cs))
}

func TestStatsCountsWeeksAndClusters(t *testing.T) {
	s := newSQLite(t)
	ctx := context.Background()
	day := time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC) // a Monday, 2025-W10
	at := func(d int) { s.now = func() time.Time { return day.AddDate(0, 0, d) } }
	rec := func(r *intake.Report, v, c string, dups ...int64) int64 {
		res := resultFor(r, v, c)
		for _, d := range dups {
			res.DuplicateOf = append(res.DuplicateOf, screener.DuplicateOf{ID: "x", HistoryID: d, Signal: dedup.SignalCrash, Similarity: 0.3})
		}
		id, err := s.Record(ctx, r, dedup.Of(r), res)
		require.NoError(t, err)
		return id
	}
	at(0)
	a := rec(synthetic(1), "security", "isolation.memory")
	b := rec(synthetic(2), "invalid", "invalid.intended")
	at(1)
	rec(synthetic(3), "security", "isolation.memory", a)
	at(8) // the next week
	rec(synthetic(4), "security", "isolation.memory", a)
	c := rec(synthetic(5), "not-security", "config.debug-feature", b)
	rec(synthetic(6), "not-security", "config.debug-feature")
	require.NoError(t, s.SetLabel(ctx, c, Label{Label: threatmodel.Label{Verdict: "invalid", Category: "invalid.intended"}}))

	st, err := ComputeStats(ctx, s, 10)
	require.NoError(t, err)
	assert.Equal(t, 6, st.Entries)
	assert.Equal(t, 1, st.Labeled)
	assert.Equal(t, 3, st.Duplicates)
	require.Len(t, st.Weeks, 2)
	assert.Equal(t, "2025-W10", st.Weeks[0].Week)
	assert.Equal(t, day.Truncate(24*time.Hour), st.Weeks[0].Start)
	assert.Equal(t, 3, st.Weeks[0].Total)
	assert.Equal(t, map[threatmodel.Verdict]int{"security": 2, "invalid": 1}, st.Weeks[0].ByVerdict)
	assert.Equal(t, map[threatmodel.Verdict]int{"security": 1, "invalid": 1, "not-security": 1}, st.Weeks[1].ByVerdict, "the label counts")
	require.Len(t, st.Clusters, 2)
	assert.Equal(t, 3, st.Clusters[0].Size)
	assert.Equal(t, a, st.Clusters[0].First.HistoryID)
	assert.Equal(t, map[threatmodel.Verdict]int{"security": 3}, st.Clusters[0].Verdicts)
	assert.Equal(t, map[string]int{dedup.SignalCrash: 2}, st.Clusters[0].Signals)
	assert.Equal(t, 2, st.Clusters[1].Size)
	assert.Equal(t, map[threatmodel.Verdict]int{"invalid": 2}, st.Clusters[1].Verdicts)

	var out bytes.Buffer
	require.NoError(t, st.WriteText(&out))
	assert.Contains(t, out.String(), "6 reports, 1 labeled by the team, 3 duplicates")
	assert.Contains(t, out.String(), "2025-W11")
	assert.Contains(t, out.String(), "3 reports  #1")

	st, err = ComputeStats(ctx, s, 1)
	require.NoError(t, err)
	assert.Len(t, st.Clusters, 1)
}

func TestSimilarFindsNearAndSameBug(t *testing.T) {
	s := newSQLite(t)
	ctx := context.Background()
	orig := synthetic(1)
	id := record(t, s, orig, "security", "isolation.memory")
	record(t, s, synthetic(2), "invalid", "invalid.intended")
	q := *orig
	q.ID, q.Hash, q.Body = "q", "hq", orig.Body+" and a few more words at the end"
	hits, err := Similar(ctx, s, &q, 5)
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	assert.Equal(t, id, hits[0].HistoryID)
	assert.True(t, hits[0].Duplicate)
	assert.Equal(t, dedup.SignalNear, hits[0].Signal)
	assert.Equal(t, threatmodel.Security, hits[0].Verdict)
	var out bytes.Buffer
	require.NoError(t, WriteHits(&out, hits))
	assert.Contains(t, out.String(), "duplicate: near")
}

func TestWriteEntryCleansTerminalEscapes(t *testing.T) {
	s := newSQLite(t)
	r := synthetic(1)
	r.Subject = "evil \x1b[2J\x1b[31mred"
	r.Body = "line one\n\x1b]0;title\x07  indented \x1b[1mbold\nend"
	record(t, s, r, "invalid", "invalid.intended")
	es, err := s.Get(context.Background(), r.ID)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, WriteEntry(&out, es[0]))
	assert.NotContains(t, out.String(), "\x1b[")
	assert.Contains(t, out.String(), "evil red")
	assert.Contains(t, out.String(), "\nline one\n")
}
