package injection

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus/synth"
	"github.com/secscreen/secscreen/screener/intake"
)

// equalityReports reads the reports the fast path is held to: the
// injection suite, every report of the bundled corpus (all splits), the
// examples, and 300 seeded synthetic reports.
func equalityReports(t *testing.T) map[string]*intake.Report {
	t.Helper()
	var paths []string
	for _, dir := range []string{"testdata/suite", "../../corpus/reports", "../../examples"} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch filepath.Ext(p) {
			case ".jsonl", ".md":
				return nil
			}
			paths = append(paths, p)
			return nil
		})
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	_, err := synth.Write(&buf, synth.Options{N: 300, Seed: 1})
	require.NoError(t, err)
	mbox := filepath.Join(t.TempDir(), "synth.mbox")
	require.NoError(t, os.WriteFile(mbox, buf.Bytes(), 0o600))
	paths = append(paths, mbox)

	out := map[string]*intake.Report{}
	n := 0
	for it := range intake.Read(context.Background(), paths, intake.Options{}) {
		n++
		if it.Err != nil || it.Report == nil {
			continue // not a report (the corpus holds a few on purpose)
		}
		out[fmt.Sprintf("%s (#%d)", it.Source, n)] = it.Report
	}
	return out
}

// TestDetectEqualsReference holds Detect to detectReference, the detector
// without the start gates: the same spans, in the same order, for every
// report.
func TestDetectEqualsReference(t *testing.T) {
	reports := equalityReports(t)
	require.Greater(t, len(reports), 600, "too few reports read")
	withSpans, withCands := 0, 0
	for name, r := range reports {
		want := detectReference(r)
		if len(want) > 0 {
			withSpans++
		}
		require.Equal(t, want, Detect(r), name)
		// The candidates too, before the report-level decision drops the
		// weak ones: a gate must not lose even those.
		parts := append([]intake.Part{{Name: "from", Text: r.From}, {Name: "header:X-Test", Text: "X-Test: " + r.Subject}}, r.Parts()...)
		for i, p := range append(parts, r.Hidden...) {
			want := scanPart(i, p.Name, p.Text, 0, true)
			if len(want) > 0 {
				withCands++
			}
			require.Equal(t, want, scanPart(i, p.Name, p.Text, 0, false), "%s: part %s", name, p.Name)
		}
	}
	// The comparison means something only if many reports have spans.
	require.Greater(t, withSpans, 50)
	require.Greater(t, withCands, withSpans)
	t.Logf("%d reports, %d with spans, %d parts with candidates", len(reports), withSpans, withCands)
}
