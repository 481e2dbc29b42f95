package dedup

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/secscreen/secscreen/corpus/synth"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// synthReports reads n seeded synthetic ~4 KB reports (corpus/synth), the
// reports the inbox-scale figures are measured on.
func synthReports(b *testing.B, n int) []*intake.Report {
	b.Helper()
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, synth.Options{N: n, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "synth.mbox")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	var reports []*intake.Report
	for it := range intake.Read(context.Background(), []string{path}, intake.Options{}) {
		if it.Err != nil {
			b.Fatal(it.Err)
		}
		reports = append(reports, it.Report)
	}
	return reports
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds cpu-ns/op, the CPU the loop used per iteration: on a
// shared machine it varies far less than the wall time.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkFingerprint computes the fingerprint of synthetic reports; one
// op is one report.
func BenchmarkFingerprint(b *testing.B) {
	reports := synthReports(b, 200)
	b.ResetTimer()
	start := cpuTime()
	i := 0
	for b.Loop() {
		Of(reports[i%len(reports)])
		i++
	}
	reportCPU(b, start)
}

// BenchmarkTracker checks and records synthetic reports without a past,
// as a run does; one op is one report (after the first 500, each is an
// exact duplicate of one 500 before).
func BenchmarkTracker(b *testing.B) {
	reports := synthReports(b, 500)
	tr := NewTracker(nil, Options{}, nil)
	defer tr.Close()
	ctx := context.Background()
	b.ResetTimer()
	start := cpuTime()
	defer reportCPU(b, start)
	seq := 0
	for b.Loop() {
		r := reports[seq%len(reports)]
		seq++
		dups := tr.Check(ctx, seq, r)
		res := screener.Result{ID: r.ID, Label: threatmodel.Label{Verdict: threatmodel.Security}, DuplicateOf: dups}
		tr.Record(ctx, seq, r, &res)
	}
}
