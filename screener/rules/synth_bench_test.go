package rules

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
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// synthReports returns n seeded synthetic reports of about 4 KB each (the
// shape `secscreen corpus synth` writes, which scripts/bench screens).
func synthReports(tb testing.TB, n int, seed uint64) []*intake.Report {
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

func reportBytes(r *intake.Report) int {
	n := 0
	for _, p := range r.Parts() {
		n += len(p.Text)
	}
	return n
}

// BenchmarkEvaluate4KB evaluates seeded synthetic ~4 KB reports, one per
// iteration, the load issue 12's 2,000 reports/s target is about. Each
// report is evaluated once before the clock starts, so that the figure is
// the steady state of a batch (the patterns a report needs are compiled
// when first needed; BenchmarkEvaluateFirstReport measures that).
func BenchmarkEvaluate4KB(b *testing.B) {
	e := kernelEngine(b)
	rs := synthReports(b, 200, 12)
	total := 0
	for _, r := range rs {
		total += reportBytes(r)
		e.Evaluate(r)
	}
	b.SetBytes(int64(total / len(rs)))
	b.ReportAllocs()
	start := cpuTime()
	i := 0
	for b.Loop() {
		e.Evaluate(rs[i%len(rs)])
		i++
	}
	reportCPU(b, start)
}

// BenchmarkEvaluateFirstReport is what one `secscreen screen` or `check`
// of one report pays in the rules: parse the built-in pack, build the
// engine and its scanner, and evaluate one report (compiling the patterns
// it needs).
func BenchmarkEvaluateFirstReport(b *testing.B) {
	rs := synthReports(b, 1, 3)
	tm := threatmodel.Kernel()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		set, err := Parse(kernelRulesYAML, "built-in kernel.yaml")
		if err != nil {
			b.Fatal(err)
		}
		if set.Weights, err = ParseWeights(kernelWeightsYAML(b), "built-in kernel.weights.yaml"); err != nil {
			b.Fatal(err)
		}
		e, err := NewEngine(tm, set, Options{})
		if err != nil {
			b.Fatal(err)
		}
		e.Evaluate(rs[0])
	}
	reportCPU(b, start)
}

// BenchmarkEvaluateFirstReportGenerated is BenchmarkEvaluateFirstReport
// the way a process starts: the pack from kernel_gen.go, no YAML.
func BenchmarkEvaluateFirstReportGenerated(b *testing.B) {
	rs := synthReports(b, 1, 3)
	tm := threatmodel.Kernel()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		set, ok, err := kernelFromGenerated()
		if err != nil || !ok {
			b.Fatalf("generated pack: ok=%v err=%v", ok, err)
		}
		e, err := NewEngine(tm, set, Options{})
		if err != nil {
			b.Fatal(err)
		}
		e.Evaluate(rs[0])
	}
	reportCPU(b, start)
}

func kernelWeightsYAML(tb testing.TB) []byte {
	data, err := packFS.ReadFile("kernel.weights.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkParseKernelPack parses the built-in pack and its weights and
// builds the engine's scanner: the rules' share of every start.
func BenchmarkParseKernelPack(b *testing.B) {
	tm := threatmodel.Kernel()
	weights := kernelWeightsYAML(b)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		set, err := Parse(kernelRulesYAML, "built-in kernel.yaml")
		if err != nil {
			b.Fatal(err)
		}
		if set.Weights, err = ParseWeights(weights, "built-in kernel.weights.yaml"); err != nil {
			b.Fatal(err)
		}
		e, err := NewEngine(tm, set, Options{})
		if err != nil {
			b.Fatal(err)
		}
		e.scanner()
	}
	reportCPU(b, start)
}
