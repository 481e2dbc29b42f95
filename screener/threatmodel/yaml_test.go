package threatmodel

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseYAMLFixture(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "model.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "widget", m.Name)
	assert.Equal(t, []string{"widget.cross-user", "widget.admin-knob", "widget.vague"}, m.IDs())
	require.NoError(t, m.Check(NotSecurity, "widget.admin-knob"))
	c, ok := m.Clause("widget.admin-knob")
	require.True(t, ok)
	assert.Equal(t, "widget.admin-knob", c.Title, "a missing title defaults to the id")
	c, _ = m.Clause("widget.cross-user")
	assert.Equal(t, "Guarantees", c.Section)
}

func TestParseYAMLNameDefaultsToFile(t *testing.T) {
	m, err := ParseYAML([]byte("clauses:\n  - id: a.b\n    verdict: security\n"), "/etc/curl-model.yaml")
	require.NoError(t, err)
	assert.Equal(t, "curl-model", m.Name)
}

func TestParseYAMLErrors(t *testing.T) {
	cases := []struct {
		name, data string
		want       []string
	}{
		{"syntax", "name: x\nclauses:\n  - id: [unclosed\n", []string{"m.yaml: yaml: line 2"}},
		{"unknown top-level field", "name: x\nowner: me\nclauses: []\n", []string{"line 2", "owner"}},
		{"unknown clause field", "clauses:\n  - id: a\n    verdict: security\n    severity: high\n", []string{"line 4", "severity"}},
		{"wrong type", "clauses:\n  - id: a\n    verdict: [security]\n", []string{"line 3"}},
		{"unknown verdict", "clauses:\n  - id: a\n    verdict: security\n  - id: b\n    verdict: maybe\n", []string{"m.yaml:4:", `clause b`, `"maybe"`}},
		{"duplicate id", "clauses:\n  - id: a\n    verdict: security\n  - id: a\n    verdict: invalid\n", []string{"m.yaml:4:", `duplicate clause id "a"`, "line 2"}},
		{"missing id", "clauses:\n  - verdict: security\n", []string{"m.yaml:2:", "missing id"}},
		{"id with space", "clauses:\n  - id: a b\n    verdict: security\n", []string{"m.yaml:2:", "white space"}},
		{"no clauses", "name: x\n", []string{"no clauses"}},
		{"empty", "", []string{"empty"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseYAML([]byte(c.data), "m.yaml")
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseYAMLRulePack(t *testing.T) {
	const clauses = "clauses:\n  - id: a.b\n    verdict: security\n"
	m, err := ParseYAML([]byte("rules: curl.rules.yaml\n"+clauses), filepath.Join("models", "curl.yaml"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("models", "curl.rules.yaml"), m.RulePack, "relative to the model's file")
	m, err = ParseYAML([]byte("rules: none\n"+clauses), "curl.yaml")
	require.NoError(t, err)
	assert.Equal(t, NoRulePack, m.RulePack)
	m, err = ParseYAML([]byte(clauses), "curl.yaml")
	require.NoError(t, err)
	assert.Empty(t, m.RulePack)
}
