package injection_test

import (
	"context"
	"github.com/secscreen/secscreen/internal/benchsupport"
	"testing"

	"github.com/secscreen/secscreen/corpus"
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

// synthReports reads n seeded synthetic ~4 KB reports (corpus/synth), the
// reports the inbox-scale figures are measured on.
func synthReports(b *testing.B, n int) ([]*intake.Report, int64) {
	b.Helper()
	reports := benchsupport.SynthReports(b, n, 1)
	var size int64
	for _, r := range reports {
		for _, p := range r.Parts() {
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
	start := benchsupport.CPUTime()
	i := 0
	for b.Loop() {
		injection.Detect(reports[i%len(reports)])
		i++
	}
	b.ReportMetric(float64(benchsupport.CPUTime()-start)/float64(b.N), "cpu-ns/op")
}
