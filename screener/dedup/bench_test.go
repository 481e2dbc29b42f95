package dedup

import (
	"context"
	"github.com/secscreen/secscreen/internal/benchsupport"
	"testing"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// BenchmarkFingerprint computes the fingerprint of synthetic reports; one
// op is one report.
func BenchmarkFingerprint(b *testing.B) {
	reports := benchsupport.SynthReports(b, 200, 1)
	b.ResetTimer()
	start := benchsupport.CPUTime()
	i := 0
	for b.Loop() {
		Of(reports[i%len(reports)])
		i++
	}
	benchsupport.ReportCPU(b, start)
}

// BenchmarkTracker checks and records synthetic reports without a past,
// as a run does; one op is one report (after the first 500, each is an
// exact duplicate of one 500 before).
func BenchmarkTracker(b *testing.B) {
	reports := benchsupport.SynthReports(b, 500, 1)
	tr := NewTracker(nil, Options{}, nil)
	defer tr.Close()
	ctx := context.Background()
	b.ResetTimer()
	start := benchsupport.CPUTime()
	defer benchsupport.ReportCPU(b, start)
	seq := 0
	for b.Loop() {
		r := reports[seq%len(reports)]
		seq++
		dups := tr.Check(ctx, seq, r)
		res := screener.Result{ID: r.ID, Label: threatmodel.Label{Verdict: threatmodel.Security}, DuplicateOf: dups}
		tr.Record(ctx, seq, r, &res)
	}
}

// BenchmarkTrackerRun checks and records 2,000 seeded synthetic reports
// in order without a past, as `screen --no-history` over scripts/bench's
// mbox does (a new Tracker each 2,000); one op is one report.
func BenchmarkTrackerRun(b *testing.B) {
	reports := benchsupport.SynthReports(b, 2000, 1)
	ctx := context.Background()
	var tr *Tracker
	b.ResetTimer()
	start := benchsupport.CPUTime()
	defer benchsupport.ReportCPU(b, start)
	i := 0
	for b.Loop() {
		if i%len(reports) == 0 {
			if tr != nil {
				tr.Close()
			}
			tr = NewTracker(nil, Options{}, nil)
		}
		r := reports[i%len(reports)]
		i++
		dups := tr.Check(ctx, i, r)
		res := screener.Result{ID: r.ID, Label: threatmodel.Label{Verdict: threatmodel.Security}, DuplicateOf: dups}
		tr.Record(ctx, i, r, &res)
	}
	tr.Close()
}
