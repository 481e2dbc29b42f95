package earlyheap

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secscreen/secscreen/internal/gcstart/hugeheap"
)

func TestHeapToPrepare(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"eval", "--corpus", "corpus"}, hugeheap.GrowSize},
		{[]string{"-v", "eval"}, hugeheap.GrowSize},
		{[]string{"screen", "--backend", "rules", "a.mbox"}, 0}, // setup.Build grows the heap when the run needs more
		{[]string{"check", "a.eml"}, 0},
		{[]string{"--verbose", "eval", "--folds", "5"}, hugeheap.GrowSize},
		{[]string{"--version"}, 0},
		{[]string{"help", "screen"}, 0},
		{[]string{"rules", "list"}, 0},
		{[]string{"history", "show", "screen"}, 0}, // "screen" is an argument here, not the command
		{nil, 0},
		{[]string{"-test.v", "-test.run=X"}, 0}, // a test binary
	} {
		if got := heapToPrepare(tc.args); got != tc.want {
			t.Errorf("heapToPrepare(%q) = %d, want %d", tc.args, got, tc.want)
		}
	}
}

// Packages initialise in import path order among those whose imports have:
// this package's init runs early (right after os) only while it and
// hugeheap import nothing that os does not. A strings import put it 75th
// instead of 22nd, after encoding/gob's and x/text's inits.
func TestImportsNothingOsDoesNot(t *testing.T) {
	const mod = "github.com/secscreen/secscreen/"
	root, err := filepath.Abs("../../../..") // the module's
	if err != nil {
		t.Fatal(err)
	}
	// Packages of the module are found in root; the others in GOROOT.
	find := func(path string) (*build.Package, error) {
		if rel, ok := strings.CutPrefix(path, mod); ok {
			return build.ImportDir(filepath.Join(root, rel), 0)
		}
		return build.Import(path, "", 0)
	}
	osDeps := deps(t, find, "os")
	for p := range deps(t, find, mod+"cmd/secscreen/internal/earlyheap") {
		if !osDeps[p] && !strings.HasPrefix(p, mod) {
			t.Errorf("earlyheap depends on %s, which os does not: its init runs later", p)
		}
	}
}

// deps returns pkg and the packages it imports, directly or not.
func deps(t *testing.T, find func(string) (*build.Package, error), pkg string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	var walk func(string)
	walk = func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		p, err := find(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, imp := range p.Imports {
			walk(imp)
		}
	}
	walk(pkg)
	return seen
}
