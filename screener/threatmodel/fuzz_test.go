package threatmodel

import (
	"os"
	"path/filepath"
	"testing"
)

func seedDocs(f *testing.F, globs ...string) {
	f.Helper()
	for _, g := range globs {
		paths, _ := filepath.Glob(g)
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
}

// checkModel fails when a parser returned a model that breaks its own
// invariants: every clause has an id and a known verdict, ids are unique.
func checkModel(t *testing.T, m *Model) {
	seen := map[string]bool{}
	for _, c := range m.Clauses {
		if c.ID == "" {
			t.Fatal("a clause without an id")
		}
		if _, err := ParseVerdict(string(c.Verdict)); err != nil {
			t.Fatalf("clause %s: %v", c.ID, err)
		}
		if seen[c.ID] {
			t.Fatalf("duplicate clause id %s", c.ID)
		}
		seen[c.ID] = true
	}
}

// FuzzParseRST: the RST loader never panics; a model it returns is sound.
func FuzzParseRST(f *testing.F) {
	seedDocs(f, "testdata/*.rst")
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseRST(data, "fuzz.rst"); err == nil {
			checkModel(t, m)
		}
	})
}

// FuzzParseMarkdown: the Markdown loader never panics; a model it returns
// is sound.
func FuzzParseMarkdown(f *testing.F) {
	seedDocs(f, "testdata/*.md")
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseMarkdown(data, "fuzz.md"); err == nil {
			checkModel(t, m)
		}
	})
}

// FuzzParseYAML: the YAML loader never panics; a model it returns is sound.
func FuzzParseYAML(f *testing.F) {
	seedDocs(f, "testdata/*.yaml")
	f.Add([]byte("name: x\nclauses:\n  - {id: a, verdict: security, title: t, summary: s}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := ParseYAML(data, "fuzz.yaml"); err == nil {
			checkModel(t, m)
		}
	})
}
