package injection_test

import (
	"context"
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
