package rules

import (
	"reflect"
	"regexp/syntax"
	"testing"

	"github.com/secscreen/secscreen/internal/progtab"
)

// TestProgsGenerated fails when progs.bin is not the programs of every
// expression of the generated analysis as the compiler makes them today
// (run go generate ./screener/rules); with -update it rewrites the file.
// It also checks that the matcher made from the table is the one
// newMatcher makes of the parsed expression: the same programs, forward
// and reversed, groups and names, and rune classes.
func TestProgsGenerated(t *testing.T) {
	var table progtab.Builder
	for _, g := range generatedAnalyses {
		tree, err := syntax.Parse(g.expr, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		m, err := newMatcher(tree)
		if err != nil {
			t.Fatal(err)
		}
		table.Add(g.expr, appendProgsEntry(nil, m.prog, m.reverse().prog, m.ncap, m.names, m.fwd.cls))
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
		tree, _ := syntax.Parse(g.expr, syntax.Perl)
		want, _ := newMatcher(tree)
		got := generatedMatcher(g.expr)
		if got == nil {
			t.Fatalf("%.60s: no generated matcher", g.expr)
		}
		if !reflect.DeepEqual(got.prog, want.prog) || got.ncap != want.ncap || !reflect.DeepEqual(got.names, want.names) ||
			!reflect.DeepEqual(got.fwd.cls, want.fwd.cls) {
			t.Errorf("%.60s: generated matcher differs from the compiled one", g.expr)
		}
		if !reflect.DeepEqual(got.reverse().prog, want.reverse().prog) {
			t.Errorf("%.60s: generated reversed program differs from the compiled one", g.expr)
		}
	}
	if generatedMatcher(`not a pattern of the pack`) != nil {
		t.Error("an expression not in the table has a matcher")
	}
}
