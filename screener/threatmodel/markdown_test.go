package threatmodel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMarkdownSharedTaxonomy(t *testing.T) {
	p := realDocument(t, "taxonomy.md")
	m, err := Load(p)
	require.NoError(t, err)
	k := Kernel()
	assert.Equal(t, k.IDs(), m.IDs())
	for _, c := range k.Clauses {
		got, ok := m.Clause(c.ID)
		require.True(t, ok, c.ID)
		assert.Equal(t, c.Verdict, got.Verdict, c.ID)
		assert.Equal(t, c.Title, got.Title, "known ids take the built-in title: %s", c.ID)
		assert.NotEmpty(t, got.Text, c.ID)
	}
	c, _ := m.Clause("privilege.root")
	assert.Equal(t, "done by root in the initial namespace", c.Summary)
	assert.Equal(t, "Categories for `not-security` (the exclusion that applies)", c.Section)
	assert.Equal(t, "Verdicts and categories", m.Name)
}

func TestMarkdownFixture(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "taxonomy-like.md"))
	require.NoError(t, err)
	assert.Equal(t, "Widget threat model", m.Name)
	assert.Equal(t, []string{
		"widget.cross-user", "widget.remote", "widget.debug", "widget.paint", "widget.vague", "widget.bogus",
		"info.missing", "info.unverified-tool", "invalid.nonexistent", "invalid.intended",
	}, m.IDs())
	want := map[string]Verdict{
		"widget.cross-user": Security, "widget.remote": Security,
		"widget.debug": NotSecurity, "widget.paint": NotSecurity,
		"widget.vague": NeedsInfo, "widget.bogus": Invalid,
	}
	for id, v := range want {
		got, _ := m.VerdictOf(id)
		assert.Equal(t, v, got, id)
	}
	c, _ := m.Clause("widget.cross-user")
	assert.Equal(t, "an unprivileged user reaches another user's widget", c.Text, "continuation lines join the bullet")
	assert.Equal(t, "What is a security bug", c.Section)
	c, _ = m.Clause("widget.debug")
	assert.Equal(t, "Debug knob", c.Title)
	assert.Equal(t, "needs the administrator's debug knob", c.Summary)
	c, _ = m.Clause("widget.paint")
	assert.Equal(t, "cosmetic | paint problems", c.Text, "escaped pipes stay in the cell")
	c, _ = m.Clause("widget.vague")
	assert.Equal(t, "Report quality", c.Section, "setext headings open sections")
	assert.Equal(t, "the report says too little", c.Summary)
	_, inFence := m.Clause("widget.in-fence")
	assert.False(t, inFence, "code blocks are ignored")
}

func TestMarkdownMultiVerdictHeading(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "multi-verdict.md"))
	require.NoError(t, err)
	_, err = ParseMarkdown(data, "multi.md")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "multi.md:6:")
	assert.Contains(t, err.Error(), `"widget.unknown"`)
	assert.Contains(t, err.Error(), "needs-info, invalid")
	assert.Contains(t, err.Error(), "line 3")

	// Without the unknown id, the built-in verdict settles it.
	m, err := ParseMarkdown(data[:len(data)-len("- `widget.unknown`: unknown id under a heading with two verdicts\n")], "multi.md")
	require.NoError(t, err)
	v, _ := m.VerdictOf("info.missing")
	assert.Equal(t, NeedsInfo, v)
}

func TestMarkdownErrors(t *testing.T) {
	cases := map[string][]string{
		"no-verdict.md":  {"no-verdict.md:5:", `"widget.one"`, "no verdict"},
		"bad-cells.md":   {"bad-cells.md:6:", "3 cells", "line 3", "has 2"},
		"dup.md":         {"dup.md:4:", `duplicate clause id "widget.a"`, "line 3"},
		"bad-verdict.md": {"bad-verdict.md:3:", `"maybe"`},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", file))
			require.NoError(t, err)
			_, err = Parse(data, FormatMarkdown, file)
			require.Error(t, err)
			for _, w := range want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	_, err := ParseMarkdown([]byte("# Nothing\n\nJust prose.\n"), "empty.md")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "empty.md: no clauses found")
	_, err = ParseMarkdown([]byte("## Categories for `security`\n\n| id | verdict |\n|---|---|\n| `a.b` |  |\n"), "v.md")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "v.md:5:")
	assert.Contains(t, err.Error(), "empty verdict")
}

func TestHeadingVerdicts(t *testing.T) {
	cases := map[string][]Verdict{
		"What does not constitute a security bug":      {NotSecurity},
		"This is a security bug":                       {Security},
		"Categories for `security` (the boundary)":     {Security},
		"Categories for `needs-info` and `invalid`":    {NeedsInfo, Invalid},
		"not-security classes":                         {NotSecurity},
		"Security and invalid without backticks":       nil,
		"Things that are not considered security bugs": {NotSecurity},
	}
	for title, want := range cases {
		assert.Equal(t, want, headingVerdicts(title), title)
	}
}

func TestMarkdownNumberedItems(t *testing.T) {
	m, err := ParseMarkdown([]byte("## Not a security bug\n\n1. `w.one`: first\n2) `w.two` - second\n"), "n.md")
	require.NoError(t, err)
	assert.Equal(t, []string{"w.one", "w.two"}, m.IDs()[:2])
	c, _ := m.Clause("w.two")
	assert.Equal(t, "second", c.Text)
	assert.Equal(t, NotSecurity, c.Verdict)
}
