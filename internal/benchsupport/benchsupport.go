// Package benchsupport holds what the benchmarks of several packages share:
// CPU time per operation, steadier than wall time on a shared machine, and
// the seeded synthetic reports the inbox-scale figures are measured on. It
// is imported by tests only.
package benchsupport

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/secscreen/secscreen/corpus/synth"
	"github.com/secscreen/secscreen/screener/intake"
)

// CPUTime is the process's user and system CPU time so far.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ReportCPU adds the metric cpu-ns/op to b: the CPU time used since start
// (a CPUTime reading) per iteration.
func ReportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(CPUTime()-start)/float64(b.N), "cpu-ns/op")
}

// SynthReports returns n seeded synthetic reports of about 4 KB each, as
// `secscreen corpus synth --n N --seed SEED` writes them and intake reads
// them back (scripts/bench screens the same).
func SynthReports(tb testing.TB, n int, seed uint64) []*intake.Report {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, synth.Options{N: n, Seed: seed}); err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(tb.TempDir(), "synth.mbox")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
	var out []*intake.Report
	for it := range intake.Read(context.Background(), []string{p}, intake.Options{}) {
		if it.Err != nil {
			tb.Fatal(it.Err)
		}
		out = append(out, it.Report)
	}
	if len(out) != n {
		tb.Fatalf("read %d synthetic reports, want %d", len(out), n)
	}
	return out
}
