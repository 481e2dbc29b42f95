package earlyheap

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHeapToPrepare(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"screen", "--backend", "rules", "a.mbox"}, ScreeningHeap},
		{[]string{"check", "a.eml"}, ScreeningHeap},
		{[]string{"-v", "screen", "a.mbox"}, ScreeningHeap},
		{[]string{"--verbose", "eval", "--folds", "5"}, ScreeningHeap},
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
	osDeps := map[string]bool{}
	for _, p := range goList(t, "os") {
		osDeps[p] = true
	}
	self := mod + "cmd/secscreen/internal/earlyheap"
	for _, p := range goList(t, self) {
		if !osDeps[p] && p != self && p != mod+"internal/gcstart/hugeheap" {
			t.Errorf("earlyheap depends on %s, which os does not: its init runs later", p)
		}
	}
}

// goList returns pkg and the packages it depends on.
func goList(t *testing.T, pkg string) []string {
	t.Helper()
	args := []string{"list", "-deps", "-f", "{{.ImportPath}}", pkg}
	out, err := exec.Command(goTool(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.Fields(string(out))
}

// goTool finds the go command that runs this test.
func goTool(t *testing.T) string {
	t.Helper()
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the go command is needed to list the dependencies:", err)
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
