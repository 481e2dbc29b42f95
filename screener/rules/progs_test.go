package rules

import (
	"regexp/syntax"
	"testing"

	"github.com/secscreen/secscreen/internal/lazydfa"
	"github.com/secscreen/secscreen/internal/progtab"
)

// compiledFinder compiles the expression as a pattern does without the
// table.
func compiledFinder(t *testing.T, expr string) *lazydfa.Finder {
	t.Helper()
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	f, err := lazydfa.NewFinder(tree)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestProgsGenerated fails when progs.bin is not the finders of every
// expression of the generated analysis as compiling them gives today (run
// go generate ./screener/rules); with -update it rewrites the file. It
// also checks that each finder made from the table encodes, reversed
// program included, to its entry: it holds the programs, groups and rune
// classes that compiling gives (lazydfa's tests show that the encoding
// keeps them all).
func TestProgsGenerated(t *testing.T) {
	var table progtab.Builder
	for _, g := range generatedAnalyses {
		table.Add(g.expr, compiledFinder(t, g.expr).AppendCompiled(nil))
	}
	data := table.Bytes()
	if err := progtab.WriteOrCheck("progs.bin", data, *updateKernelGen); err != nil {
		t.Fatalf("%v: run go generate ./screener/rules", err)
	}
	if *updateKernelGen {
		return
	}
	if progs.Len() != len(generatedAnalyses) {
		t.Fatalf("embedded table: %d entries, want %d", progs.Len(), len(generatedAnalyses))
	}
	for _, g := range generatedAnalyses {
		got := generatedFinder(g.expr)
		if got == nil {
			t.Fatalf("%.60s: no generated finder", g.expr)
		}
		if want := compiledFinder(t, g.expr).AppendCompiled(nil); string(got.AppendCompiled(nil)) != string(want) {
			t.Errorf("%.60s: generated finder differs from the compiled one", g.expr)
		}
	}
	if generatedFinder(`not a pattern of the pack`) != nil {
		t.Error("an expression not in the table has a finder")
	}
}
