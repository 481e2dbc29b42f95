package injection_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/corpus/synth"
	"github.com/secscreen/secscreen/screener/injection"
	"github.com/secscreen/secscreen/screener/intake"
)

// BenchmarkDetectCorpus runs the detector over every report of the
// bundled corpus; bytes are the reports' text.
func BenchmarkDetectCorpus(b *testing.B) {
	c, err := corpus.Load("../../corpus")
	if err != nil {
		b.Fatal(err)
	}
	lrs, err := c.ReadReports(context.Background(), intake.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var reports []*intake.Report
	var size int64
	for _, lr := range lrs {
		if lr.Report != nil {
			reports = append(reports, lr.Report)
			for _, p := range lr.Report.Parts() {
				size += int64(len(p.Text))
			}
		}
	}
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		for _, r := range reports {
			injection.Detect(r)
		}
	}
}

// cpuTime is the process's user and system CPU time so far: on a shared
// machine, CPU per op varies far less than the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// synthReports reads n seeded synthetic ~4 KB reports (corpus/synth), the
// reports the inbox-scale figures are measured on.
func synthReports(b *testing.B, n int) ([]*intake.Report, int64) {
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
	var size int64
	for it := range intake.Read(context.Background(), []string{path}, intake.Options{}) {
		if it.Err != nil {
			b.Fatal(it.Err)
		}
		reports = append(reports, it.Report)
		for _, p := range it.Report.Parts() {
			size += int64(len(p.Text))
		}
	}
	return reports, size
}

// BenchmarkDetectSynth runs the detector over 200 synthetic reports; one
// op is one report.
func BenchmarkDetectSynth(b *testing.B) {
	reports, size := synthReports(b, 200)
	b.SetBytes(size / int64(len(reports)))
	b.ResetTimer()
	start := cpuTime()
	i := 0
	for b.Loop() {
		injection.Detect(reports[i%len(reports)])
		i++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
