package injection

import (
	"reflect"
	"regexp/syntax"
	"testing"

	"github.com/secscreen/secscreen/internal/progtab"
)

// compileProg compiles src as the automaton does without the table.
func compileProg(t *testing.T, src string) *syntax.Prog {
	t.Helper()
	p, err := progtab.Compile(src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProgsGenerated fails when progs.bin is not the matchers' programs as
// syntax.Compile makes them today (run go generate ./screener/injection);
// with -update it rewrites the file. It also checks that every matcher's
// program reads back from the embedded table as compiled.
func TestProgsGenerated(t *testing.T) {
	var table progtab.Builder
	seen := map[string]bool{}
	for _, m := range matchers {
		src := m.re.String()
		if seen[src] {
			continue
		}
		seen[src] = true
		table.Add(src, progtab.AppendProg(nil, compileProg(t, src)))
	}
	data := table.Bytes()
	if err := progtab.WriteOrCheck("progs.bin", data, *updateNeeds); err != nil {
		t.Fatalf("%v: run go generate ./screener/injection", err)
	}
	if *updateNeeds {
		return
	}
	if progs.Len() != len(seen) {
		t.Fatalf("embedded table: %d entries, want %d", progs.Len(), len(seen))
	}
	for src := range seen {
		if got := generatedProg(src); !reflect.DeepEqual(got, compileProg(t, src)) {
			t.Errorf("%.60s: generated program differs from the compiled one", src)
		}
	}
	if generatedProg(`not a matcher's pattern`) != nil {
		t.Error("a pattern not in the table has a program")
	}
}
