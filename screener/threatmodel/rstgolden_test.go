package threatmodel

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var updateParsed = flag.Bool("update-parsed", false, "TestRSTParsedGolden: rewrite testdata/*.parsed.json from the current RST parser")

// parsedPassage is a passage with exported fields, for the golden files.
type parsedPassage struct {
	Line    int      `json:"line"`
	Section []string `json:"section"`
	Title   string   `json:"title,omitempty"`
	Text    string   `json:"text"`
	Bullet  bool     `json:"bullet,omitempty"`
}

// parsedRST is everything the RST loader makes of one document: the
// reader's title and passages, and the model ParseRST builds from them,
// or the error of either.
type parsedRST struct {
	Title    string          `json:"title,omitempty"`
	Passages []parsedPassage `json:"passages,omitempty"`
	DocError string          `json:"doc_error,omitempty"`
	Model    *Model          `json:"model,omitempty"`
	Error    string          `json:"error,omitempty"`
}

func parseForGolden(data []byte, source string) parsedRST {
	var out parsedRST
	doc, err := parseRSTDoc(string(data), source)
	if err != nil {
		out.DocError = err.Error()
	} else {
		out.Title = doc.title
		for _, p := range doc.passages {
			out.Passages = append(out.Passages, parsedPassage{Line: p.line, Section: p.section, Title: p.title, Text: p.text, Bullet: p.bullet})
		}
	}
	m, err := ParseRST(data, source)
	if err != nil {
		out.Error = err.Error()
	} else {
		out.Model = m
	}
	return out
}

// checkParsedGolden compares got, as indented JSON, with the golden file,
// or writes it there under -update-parsed.
func checkParsedGolden(t *testing.T, golden string, got any) {
	t.Helper()
	js, err := json.MarshalIndent(got, "", "  ")
	require.NoError(t, err)
	js = append(js, '\n')
	p := filepath.Join("testdata", golden)
	if *updateParsed {
		require.NoError(t, os.WriteFile(p, js, 0o644))
		return
	}
	want, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, string(want), string(js), "%s differs: the RST parser's output changed (if on purpose, rerun with -update-parsed and review the diff)", golden)
}

// TestRSTParsedGolden pins everything the RST parser makes of the real
// kernel document and of every RST fixture (passages with their lines,
// sections and wording; the resulting model; the error for broken ones)
// to golden files written by the parser before it was split into methods.
func TestRSTParsedGolden(t *testing.T) {
	p := realDocument(t, "kernel-threat-model.rst")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	real := parseForGolden(data, "kernel-threat-model.rst")
	require.Empty(t, real.DocError)
	require.Empty(t, real.Error)
	checkParsedGolden(t, "kernel-threat-model.parsed.json", real)

	paths, err := filepath.Glob(filepath.Join("testdata", "*.rst"))
	require.NoError(t, err)
	fixtures := map[string]parsedRST{}
	for _, p := range paths {
		name := filepath.Base(p)
		if name == "kernel-threat-model.rst" {
			continue
		}
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		fixtures[name] = parseForGolden(data, name)
	}
	require.Len(t, fixtures, 8)
	checkParsedGolden(t, "rst-fixtures.parsed.json", fixtures)
}
