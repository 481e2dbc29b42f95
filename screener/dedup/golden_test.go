package dedup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/benchsupport"
	"github.com/secscreen/secscreen/screener/intake"
)

// The duplicates a run finds on the bundled corpus and on seeded synthetic
// reports (many sharing a crash, with resends of earlier ones) stay what
// they were when this test was written: same matches, signals, evidence,
// similarities and decisions reused, with and without a past, with a
// window small enough that exact duplicates are found from the spill. A
// change that makes fingerprints or lookups faster must leave this digest
// alone; one meant to change what is found updates it (the test prints the
// new digest and writes the listing to a file to compare).
func TestDuplicatesFoundStayTheSame(t *testing.T) {
	if testing.Short() {
		t.Skip("screens a thousand reports")
	}
	reports := equalityCorpus(t)
	synth := benchsupport.SynthReports(t, 600, 1)
	reports = append(reports, synth...)
	for i := 0; i < len(synth); i += 37 {
		// Resends, some long after their first copy left the window.
		r := *synth[i]
		r.ID, r.Source = r.ID+"-resend", r.Source+"-resend"
		reports = append(reports, &r)
	}
	want := map[string]string{
		"past=false": "4eb30b8df5258a0dc071fe43bde127497cf223ae1f94a4723f3543108e80a9fa",
		"past=true":  "143690048f84ff98dc1c25177549c255780771ec44d606bf543182cddbce3167",
	}
	for _, withPast := range []bool{false, true} {
		name := fmt.Sprintf("past=%v", withPast)
		var past Past
		if withPast {
			past = &memPast{}
		}
		tr := NewTracker(past, Options{Window: 300}, nil)
		found := feed(t, tr, reports)
		tr.Close()
		var b strings.Builder
		for i, ds := range found {
			for _, d := range ds {
				fmt.Fprintf(&b, "%d %q %d %q %.3f %s %q %s %s %v %d\n", i, d.ID, d.HistoryID, d.Subject, d.Similarity, d.Signal,
					d.Evidence, d.Verdict, d.Category, d.Labeled, d.Batch)
			}
		}
		sum := sha256.Sum256([]byte(b.String()))
		got := hex.EncodeToString(sum[:])
		if !assert.Equal(t, want[name], got, name) {
			p := filepath.Join(t.TempDir(), "duplicates.txt")
			if err := os.WriteFile(p, []byte(b.String()), 0o600); err == nil {
				t.Logf("%s: %d lines; the listing is in %s", name, strings.Count(b.String(), "\n"), p)
			}
		}
	}
}

// equalityCorpus reads the reports of the bundled corpus (both splits:
// this checks equality, nothing is tuned on it), the examples and the
// test pairs.
func equalityCorpus(t *testing.T) []*intake.Report {
	t.Helper()
	var rs []*intake.Report
	for it := range intake.Read(context.Background(), []string{
		filepath.Join("..", "..", "corpus", "reports"), filepath.Join("..", "..", "examples"), filepath.Join("testdata", "pairs"),
	}, intake.Options{}) {
		if it.Report != nil {
			rs = append(rs, it.Report)
		}
	}
	require.Greater(t, len(rs), 497)
	return rs
}
