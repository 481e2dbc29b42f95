package threatmodel

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realDocument returns the path of a real-world document kept in testdata
// (see testdata/ORIGIN.md); a missing one fails the test.
func realDocument(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("testdata", name)
	_, err := os.Stat(p)
	require.NoError(t, err, "testdata/%s is part of the repository", name)
	return p
}

func TestKernelVocabulary(t *testing.T) {
	k := Kernel()
	assert.Equal(t, "linux-kernel", k.Name)
	assert.Len(t, k.IDs(Security), 9)
	assert.Len(t, k.IDs(NotSecurity), 25)
	assert.Equal(t, []string{"info.missing", "info.unverified-tool"}, k.IDs(NeedsInfo))
	assert.Equal(t, []string{"invalid.nonexistent", "invalid.intended"}, k.IDs(Invalid))
	for _, c := range k.Clauses {
		assert.NotEmpty(t, c.Title, c.ID)
		assert.NotEmpty(t, c.Summary, c.ID)
		assert.NotEmpty(t, c.Section, c.ID)
	}
}

func TestDetectFormat(t *testing.T) {
	cases := []struct {
		name, source, data string
		want               Format
	}{
		{"yaml extension", "m.yml", "anything", FormatYAML},
		{"rst extension", "m.rst", "anything", FormatRST},
		{"markdown extension", "M.MD", "anything", FormatMarkdown},
		{"yaml content", "model", "# comment\nname: x\nclauses:\n  - id: a\n", FormatYAML},
		{"rst content", "model.txt", "Title\n=====\n\n* item\n", FormatRST},
		{"markdown content", "-", "# Title\n\n- `a.b`: text\n", FormatMarkdown},
		{"markdown table", "-", "| `a.b` | text |\n", FormatMarkdown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DetectFormat([]byte(c.data), c.source)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
	_, err := DetectFormat([]byte("just some words\n"), "notes.txt")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "notes.txt")
}

func TestParseUnknownFormat(t *testing.T) {
	_, err := Parse([]byte("x"), Format("docx"), "m")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "docx")
}

func TestLoadEachFormat(t *testing.T) {
	for file, n := range map[string]int{"model.yaml": 3, "styles.rst": 10, "taxonomy-like.md": 10} {
		m, err := Load(filepath.Join("testdata", file))
		require.NoError(t, err, file)
		assert.Len(t, m.Clauses, n, file)
		assert.Equal(t, filepath.Join("testdata", file), m.Source)
	}
	_, err := Load(filepath.Join("testdata", "missing.yaml"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.yaml")
}

func TestWriteText(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "model.yaml"))
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, m.WriteText(&b))
	out := b.String()
	assert.True(t, strings.HasPrefix(out, "Threat model widget (testdata/model.yaml): 3 clauses\n"), out)
	sec := strings.Index(out, "\nsecurity (1)\n")
	notSec := strings.Index(out, "\nnot-security (1)\n")
	info := strings.Index(out, "\nneeds-info (1)\n")
	require.True(t, sec >= 0 && notSec > sec && info > notSec, out)
	assert.NotContains(t, out, "\ninvalid (")
	assert.Contains(t, out, "  widget.cross-user: One user reaches another's widget\n      An unprivileged user reads or changes a widget owned by someone else.\n      section: Guarantees\n")
	// A clause without a title is listed under its id.
	assert.Contains(t, out, "  widget.admin-knob: widget.admin-knob\n")
}

func TestWriteJSONRoundTrip(t *testing.T) {
	k := Kernel()
	var b bytes.Buffer
	require.NoError(t, k.WriteJSON(&b))
	var back struct {
		Name    string   `json:"name"`
		Source  string   `json:"source"`
		Clauses []Clause `json:"clauses"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	assert.Equal(t, "linux-kernel", back.Name)
	assert.Equal(t, "built-in", back.Source)
	assert.Equal(t, k.Clauses, back.Clauses)
}
