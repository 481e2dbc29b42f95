package sourcetree

import (
	"slices"
	"strings"
	"testing"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
)

// FuzzCite: whatever a report says, the citations are bounded, and every
// one is a plain identifier or a path inside the tree (what reaches git).
func FuzzCite(f *testing.F) {
	f.Add("see __NR_foo, bar(2), sys_baz( and qux() syscall\nbase-commit: 0123456789abcdef", "net/../x.c", "f_n")
	f.Add("static int helper(void) {", "-rf", "--output=x")
	f.Fuzz(func(t *testing.T, body, file, fn string) {
		r := &intake.Report{Body: body}
		facts := &rules.Facts{Files: []string{file}, Functions: []string{fn}, ConfigOptions: []string{"CONFIG_" + fn}}
		cs, _ := Cite(r, facts)
		if len(cs) > MaxCitations {
			t.Fatalf("%d citations", len(cs))
		}
		for _, c := range cs {
			switch c.Kind {
			case KindFile:
				if !rePath.MatchString(c.Name) || slices.Contains(strings.Split(c.Name, "/"), "..") || strings.HasPrefix(c.Name, "-") {
					t.Fatalf("unsafe path %q", c.Name)
				}
			default:
				if !reIdent.MatchString(c.Name) {
					t.Fatalf("not an identifier: %q", c.Name)
				}
			}
		}
		for _, w := range Revisions(r, facts) {
			for _, n := range w.Names {
				if strings.HasPrefix(n, "-") {
					t.Fatalf("revision %q", n)
				}
			}
		}
	})
}
