package threatmodel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRSTKernelSeed(t *testing.T) {
	p := realDocument(t, "kernel-threat-model.rst")
	m, err := Load(p)
	require.NoError(t, err)
	assert.Equal(t, "The Linux Kernel threat model", m.Name)

	counts := map[string]int{}
	for _, c := range m.Clauses {
		counts[c.ID]++
		assert.False(t, strings.HasPrefix(c.ID, "rst."), "passage left unmapped: %s %q", c.ID, c.Text)
	}
	k := Kernel()
	for _, id := range k.IDs(Security, NotSecurity) {
		assert.Equal(t, 1, counts[id], "id %s", id)
		got, _ := m.Clause(id)
		want, _ := k.Clause(id)
		assert.Equal(t, want.Verdict, got.Verdict, id)
		assert.Equal(t, want.Title, got.Title, id)
		assert.Equal(t, want.Summary, got.Summary, id)
		assert.NotEmpty(t, got.Text, id)
	}
	assert.ElementsMatch(t, k.IDs(), m.IDs(), "the same ids as the built-in model")

	expect := []struct{ id, section, text string }{
		{"config.debug-feature", "What does not constitute a security bug / Configuration", "LOCKDEP, KASAN, FAULT_INJECTION"},
		{"capability.net-admin", "The kernel's responsibilities / Capability-based protection", "users not having the CAP_NET_ADMIN capability may not alter the network configuration"},
		{"isolation.ipc", "The kernel's responsibilities / User-based isolation", "exchanged via UNIX domain sockets"},
		{"userns.escape", "The kernel's responsibilities", "When CONFIG_USER_NS is set"},
		{"weakness.chained", "The kernel's responsibilities", "only once another one was already achieved are only weaknesses"},
		{"physical.access", "What does not constitute a security bug / Physical access", "Physical access: Issues that require physical access"},
		{"regression.mitigable", "What does not constitute a security bug / Functional and performance regressions", "proper permissions and limits"},
		{"lab.cost", "What does not constitute a security bug / Out of production use", "7 uninitialized bytes"},
		{"leak.pointer", "What does not constitute a security bug / Random information leaks", "addresses/pointers"},
	}
	for _, e := range expect {
		c, ok := m.Clause(e.id)
		require.True(t, ok, e.id)
		assert.Equal(t, e.section, c.Section, e.id)
		assert.Contains(t, c.Text, e.text, e.id)
	}
	// Two configuration bullets state the staging exclusion; both are kept.
	c, _ := m.Clause("config.staging-experimental")
	assert.Contains(t, c.Text, "CONFIG_STAGING")
	assert.Contains(t, c.Text, "insecure/broken/staging modules")
	// Report-quality categories come from the built-in model.
	for _, id := range reportQualityIDs {
		got, ok := m.Clause(id)
		require.True(t, ok, id)
		want, _ := k.Clause(id)
		assert.Equal(t, want, got)
	}
}

func TestRSTFixtureStyles(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "styles.rst"))
	require.NoError(t, err)
	assert.Equal(t, "Widget threat model", m.Name, "a lone over- and underlined title names the document")
	assert.Equal(t, []string{
		"isolation.data", "rst.isolation.2",
		"config.debug-feature", "rst.configuration.2",
		"rst.odds-and-ends.1", "rst.odds-and-ends.2",
		"info.missing", "info.unverified-tool", "invalid.nonexistent", "invalid.intended",
	}, m.IDs())

	c, _ := m.Clause("isolation.data")
	assert.Equal(t, Security, c.Verdict)
	assert.Equal(t, "What the widget guarantees / Isolation", c.Section)
	assert.Equal(t, "stored data, via file system permissions, which standard RST continues at the text column", c.Text)
	assert.Equal(t, Kernel().Clauses[0].Title, c.Title)

	c, _ = m.Clause("rst.isolation.2")
	assert.Equal(t, Security, c.Verdict, "verdict inferred from a section about guarantees")
	assert.Equal(t, "the widget never lets one user read another's sessions", c.Summary)
	assert.Equal(t, "the widget never lets one user read another's...", c.Title)

	c, _ = m.Clause("config.debug-feature")
	assert.Equal(t, "Things outside the model / What does not constitute a security bug / Configuration", c.Section)
	assert.Equal(t, "issues triggered only when using features intended for development or debugging (e.g., LOCKDEP, KASAN)", c.Text)

	c, _ = m.Clause("rst.configuration.2")
	assert.Equal(t, NotSecurity, c.Verdict, "verdict inferred from the exclusions section")
	c, _ = m.Clause("rst.odds-and-ends.2")
	assert.Equal(t, NotSecurity, c.Verdict)
	assert.Equal(t, "Things outside the model / What does not constitute a security bug / Odds and ends", c.Section)
	assert.Equal(t, "widgets left in the rain", c.Text)
}

func TestRSTErrors(t *testing.T) {
	cases := map[string][]string{
		"short-underline.rst":    {"short-underline.rst:5:", "underline too short", "A long section title"},
		"inconsistent-level.rst": {"inconsistent-level.rst:13:", "Jump", "level inconsistent"},
		"overline-mismatch.rst":  {"overline-mismatch.rst:1:", "overline and underline"},
		"stray-adornment.rst":    {"stray-adornment.rst:6:", "neither a title underline nor a transition"},
		"empty-bullet.rst":       {"empty-bullet.rst:5:", "empty bullet"},
		"glued-title.rst":        {"glued-title.rst:5:", "without a blank line"},
		"no-clauses.rst":         {"no-clauses.rst", "no threat model clauses"},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", file))
			require.NoError(t, err)
			_, err = Parse(data, FormatRST, file)
			require.Error(t, err)
			for _, w := range want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestRSTTabsAndCRLF(t *testing.T) {
	src := "Isolation guarantees\r\n====================\r\n\r\n*\tstored data, via\r\n\tfile system permissions\r\n"
	m, err := ParseRST([]byte(src), "crlf.rst")
	require.NoError(t, err)
	c, ok := m.Clause("isolation.data")
	require.True(t, ok)
	assert.Equal(t, "stored data, via file system permissions", c.Text)
	assert.Equal(t, "Isolation guarantees", c.Section, "a lone title without subsections stays a section")
}

func TestMappingTableIsValid(t *testing.T) {
	m, err := loadMapping(rstMapYAML)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, r := range m.Clauses {
		seen[r.ID] = true
		for _, p := range r.Phrases {
			assert.Equal(t, strings.ToLower(p), p, "phrases are matched in lower case: %s", r.ID)
		}
	}
	for _, id := range Kernel().IDs(Security, NotSecurity) {
		assert.True(t, seen[id], "no mapping row for %s", id)
	}
	_, err = loadMapping([]byte("clauses:\n  - id: no.such\n    phrases: [x]\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no.such")
	_, err = loadMapping([]byte("clauses:\n  - id: leak.pointer\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no phrases")
	_, err = loadMapping([]byte("verdicts:\n  - verdict: maybe\n"))
	require.Error(t, err)
}

func TestRSTEnumeratedLists(t *testing.T) {
	src := "Not considered security bugs\n" +
		"============================\n\n" +
		"1. structure padding reported by a system call\n" +
		"2) a widget left in the rain\n" +
		"#. another widget\n" +
		"(4) a fourth widget\n\n" +
		"   #. a nested item\n"
	m, err := ParseRST([]byte(src), "enum.rst")
	require.NoError(t, err)
	assert.Equal(t, []string{
		"rst.not-considered-security-bugs.1", "rst.not-considered-security-bugs.2", "rst.not-considered-security-bugs.3",
		"rst.a-fourth-widget.1",
		"info.missing", "info.unverified-tool", "invalid.nonexistent", "invalid.intended",
	}, m.IDs())
	c, _ := m.Clause("rst.not-considered-security-bugs.1")
	assert.Equal(t, NotSecurity, c.Verdict)
	assert.Equal(t, "structure padding reported by a system call", c.Text, "leak.padding needs a section about leaks, so this stays unmapped")
	c, _ = m.Clause("rst.a-fourth-widget.1")
	assert.Equal(t, "a nested item", c.Text)
	assert.Equal(t, "Not considered security bugs / a fourth widget", c.Section, "a parent item without bold text names its subsection by its text")
}

func TestRSTSkipsLiteralBlocks(t *testing.T) {
	src := "Guarantees\n==========\n\n" +
		"* a widget leaks, for example::\n\n" +
		"      * not a bullet, just code\n" +
		"      more code\n\n" +
		"  and the item goes on after the code\n" +
		"* second item\n"
	m, err := ParseRST([]byte(src), "lit.rst")
	require.NoError(t, err)
	assert.Equal(t, []string{"rst.guarantees.1", "rst.guarantees.2"}, m.IDs()[:2])
	c, _ := m.Clause("rst.guarantees.1")
	assert.Equal(t, "a widget leaks, for example:: and the item goes on after the code", c.Text)
	assert.Len(t, m.Clauses, 6)
}
