package rules

import (
	"testing"

	"github.com/secscreen/secscreen/internal/benchsupport"
)

func BenchmarkZZNewAutomaton(b *testing.B) {
	e := kernelEngine(b)
	lits := e.scanner().lits
	start := benchsupport.CPUTime()
	for b.Loop() {
		newAutomaton(lits)
	}
	benchsupport.ReportCPU(b, start)
}

func BenchmarkZZNewScanner(b *testing.B) {
	e := kernelEngine(b)
	pats := packPatterns(e.pack, e.rules)
	start := benchsupport.CPUTime()
	for b.Loop() {
		newScanner(pats)
	}
	benchsupport.ReportCPU(b, start)
}

func BenchmarkZZKernelFromGenerated(b *testing.B) {
	start := benchsupport.CPUTime()
	for b.Loop() {
		kernelFromGenerated()
	}
	benchsupport.ReportCPU(b, start)
}

func BenchmarkZZGeneratedPackOnly(b *testing.B) {
	start := benchsupport.CPUTime()
	for b.Loop() {
		generatedKernelPack()
	}
	benchsupport.ReportCPU(b, start)
}
