package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

func kernelEngine(t testing.TB) *Engine {
	t.Helper()
	set, err := KernelRules()
	require.NoError(t, err)
	e, err := NewEngine(threatmodel.Kernel(), set, Options{})
	require.NoError(t, err)
	return e
}

func TestKernelRulesLoadAndValidate(t *testing.T) {
	e := kernelEngine(t)
	require.NotEmpty(t, e.Rules())
	for _, r := range e.Rules() {
		assert.NotEmpty(t, r.Description, r.ID)
		assert.Positive(t, r.Line, r.ID)
	}
}

// Every not-security, needs-info and invalid category, and every security
// category, has at least one rule that is evidence for it.
func TestEveryCategoryHasARule(t *testing.T) {
	tm := threatmodel.Kernel()
	have := map[string]bool{}
	for _, r := range kernelEngine(t).Rules() {
		if r.Weight > 0 {
			have[r.Category] = true
		}
	}
	for _, id := range tm.IDs() {
		assert.True(t, have[id], "no rule is evidence for %s", id)
	}
}

func TestParseErrorsNameFileRuleAndLine(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"bad regexp", "rules:\n  - id: a.ok\n    category: lab.cost\n    match: ['x']\n  - id: b.bad\n    category: lab.cost\n    match: ['(unclosed']\n",
			[]string{"f.yaml:5", "rule b.bad", "(unclosed"}},
		{"bad unless", "rules:\n  - id: c\n    category: lab.cost\n    match: ['x']\n    unless: ['[z-a]']\n",
			[]string{"f.yaml:2", "rule c", "unless pattern"}},
		{"unknown key", "rules:\n  - id: d\n    category: lab.cost\n    matches: ['x']\n",
			[]string{"f.yaml:2", "rule d", "line 4", `unknown key "matches"`}},
		{"unknown fact", "rules:\n  - id: e\n    category: lab.cost\n    match: ['x']\n    requires: {facts: [nope]}\n",
			[]string{"rule e", `unknown fact "nope"`}},
		{"unknown condition", "rules:\n  - id: e2\n    category: lab.cost\n    match: ['x']\n    requires: {has_repro: true}\n",
			[]string{"rule e2", `unknown condition "has_repro"`}},
		{"no match", "rules:\n  - id: f\n    category: lab.cost\n",
			[]string{"rule f", "at least one match"}},
		{"duplicate", "rules:\n  - {id: g, category: lab.cost, match: [x]}\n  - {id: g, category: lab.cost, match: [y]}\n",
			[]string{"f.yaml:3", "duplicate id", "line 2"}},
		{"bad yaml", "rules: [\n", []string{"f.yaml"}},
		{"bad part", "rules:\n  - {id: h, category: lab.cost, match: [x], parts: [headers]}\n",
			[]string{"rule h", `unknown part "headers"`}},
		{"missing id", "rules:\n  - {category: lab.cost, match: [x]}\n", []string{"f.yaml:2", "missing id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), "f.yaml")
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestNewEngineRejectsUnknownCategory(t *testing.T) {
	set, err := Parse([]byte("rules:\n  - {id: x.y, category: no.such, match: [x]}\n"), "o.yaml")
	require.NoError(t, err)
	_, err = NewEngine(threatmodel.Kernel(), set, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "o.yaml:2: rule x.y")
	assert.Contains(t, err.Error(), `"no.such"`)
}

func TestLoadFileMergeOverridesDisablesAndAdds(t *testing.T) {
	base, err := KernelRules()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "local.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`rules:
  - {id: lab.cost, disabled: true}
  - id: leak.padding
    description: replaced
    category: leak.padding
    weight: 1
    match: ['\bpadding\b']
  - id: local.magic
    description: a site rule
    category: invalid.intended
    weight: 5
    match: ['magic word']
    parts: [subject]
`), 0o600))
	over, err := LoadFile(path)
	require.NoError(t, err)
	merged := base.Merge(over)
	ids := merged.IDs()
	assert.NotContains(t, ids, "lab.cost")
	assert.Equal(t, "local.magic", ids[len(ids)-1])
	assert.Equal(t, len(base.Rules)-1+1, len(merged.Rules))
	i := strings.Index(strings.Join(base.IDs(), ","), "leak.padding")
	require.GreaterOrEqual(t, i, 0)
	for _, r := range merged.Rules {
		if r.ID == "leak.padding" {
			assert.Equal(t, "replaced", r.Description)
			assert.Equal(t, path, r.Source)
		}
	}
	assert.Contains(t, base.IDs(), "lab.cost", "Merge must not change its receiver")

	_, err = LoadFile(filepath.Join(t.TempDir(), "absent.yaml"))
	require.Error(t, err)
}

func bytesReader(b []byte) *strings.Reader { return strings.NewReader(string(b)) }
