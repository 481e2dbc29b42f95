package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func kernelEngine(t testing.TB) *Engine {
	t.Helper()
	set := KernelRules()
	e, err := NewEngine(threatmodel.Kernel(), set, Options{})
	require.NoError(t, err)
	return e
}

// ruleIDs lists the ids of s's rules in order.
func ruleIDs(s *RuleSet) []string {
	ids := make([]string, len(s.Rules))
	for i, r := range s.Rules {
		ids[i] = r.ID
	}
	return ids
}

// handEngine is the kernel pack without its fitted weights: the
// hand-written decision, which the decision tests exercise.
func handEngine(t testing.TB) *Engine {
	t.Helper()
	set := KernelRules()
	e, err := NewEngine(threatmodel.Kernel(), set.WithoutWeights(), Options{})
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

// Every security and not-security category has at least one rule that is
// evidence for it: boundaries and exclusions are what the rules are for.
// The report-quality categories may have none (whether cited code exists
// or behaviour is documented is not in the reporter's words).
func TestEveryCategoryHasARule(t *testing.T) {
	tm := threatmodel.Kernel()
	have := map[string]bool{}
	for _, r := range kernelEngine(t).Rules() {
		if r.Weight > 0 {
			have[r.Category] = true
		}
	}
	for _, id := range tm.IDs(threatmodel.Security, threatmodel.NotSecurity) {
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

func TestNewEngineRejectsUnknownFact(t *testing.T) {
	set, err := Parse([]byte("rules:\n  - id: e\n    category: lab.cost\n    match: ['x']\n    requires: {facts: [nope]}\n"), "f.yaml")
	require.NoError(t, err)
	_, err = NewEngine(threatmodel.Kernel(), set, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "f.yaml:2: rule e")
	assert.Contains(t, err.Error(), `unknown fact "nope"`)

	// A fact of the pack's own extractors is known.
	set, err = Parse([]byte("facts:\n  - {fact: nope, match: ['nope']}\nrules:\n  - id: e\n    category: lab.cost\n    match: ['x']\n    requires: {facts: [nope]}\n"), "f.yaml")
	require.NoError(t, err)
	e, err := NewEngine(threatmodel.Kernel(), set, Options{})
	require.NoError(t, err)
	assert.Empty(t, e.Evaluate(&intake.Report{Body: "x"}).Findings)
	ev := e.Evaluate(&intake.Report{Body: "x nope"})
	assert.Equal(t, []string{"e"}, firedIDs(ev))
	assert.Equal(t, map[string][]string{"nope": {"nope"}}, ev.Facts.Other)
}

func TestLoadFileMergeOverridesDisablesAndAdds(t *testing.T) {
	base := KernelRules()
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
	ids := ruleIDs(merged)
	assert.NotContains(t, ids, "lab.cost")
	assert.Equal(t, "local.magic", ids[len(ids)-1])
	assert.Equal(t, len(base.Rules)-1+1, len(merged.Rules))
	i := strings.Index(strings.Join(ruleIDs(base), ","), "leak.padding")
	require.GreaterOrEqual(t, i, 0)
	for _, r := range merged.Rules {
		if r.ID == "leak.padding" {
			assert.Equal(t, "replaced", r.Description)
			assert.Equal(t, path, r.Source)
		}
	}
	assert.Contains(t, ruleIDs(base), "lab.cost", "Merge must not change its receiver")

	_, err = LoadFile(filepath.Join(t.TempDir(), "absent.yaml"))
	require.Error(t, err)
}

func bytesReader(b []byte) *strings.Reader { return strings.NewReader(string(b)) }

func TestEngineMechanics(t *testing.T) {
	set, err := Parse([]byte(`rules:
  - id: t.subject
    description: subject only
    category: lab.cost
    weight: 1
    match: ['needle']
    parts: [subject]
  - id: t.attach
    description: attachments only
    category: lab.cost
    weight: 1
    match: ['needle']
    parts: [attachments]
  - id: t.veto
    description: vetoed by text in another part
    category: lab.cost
    weight: 1
    match: ['needle']
    unless: ['haystack']
  - id: t.case
    description: case sensitive
    category: lab.cost
    weight: 1
    match: ['NEEDLE']
    case_sensitive: true
  - id: t.requires
    description: needs a reproducer
    category: lab.cost
    weight: 1
    match: ['needle']
    requires: {has_reproducer: true}
  - id: t.inject
    description: injection signal
    category: info.unverified-tool
    weight: 0.5
    signal: injection
    match: ['needle']
    parts: [body]
`), "mech.yaml")
	require.NoError(t, err)
	e, err := NewEngine(threatmodel.Kernel(), set, Options{})
	require.NoError(t, err)
	r := &intake.Report{
		Subject: "a needle",
		Body:    "line one\n  the needle is here",
		Attachments: []intake.Attachment{
			{Name: "notes.txt", Text: "needle"},
			{Name: "blob.bin", Binary: true},
		},
	}
	ev := e.Evaluate(r)
	byID := map[string]Finding{}
	for _, f := range ev.Findings {
		byID[f.RuleID] = f
	}
	assert.Equal(t, Span{Part: "subject", Line: 1, Column: 3, Start: 2, End: 8}, byID["t.subject"].Span)
	assert.Equal(t, "attachment:notes.txt", byID["t.attach"].Span.Part)
	assert.Equal(t, Span{Part: "body", Line: 2, Column: 7, Start: 15, End: 21}, byID["t.inject"].Span)
	assert.Contains(t, byID, "t.veto")
	assert.NotContains(t, byID, "t.case")
	assert.NotContains(t, byID, "t.requires")
	assert.True(t, ev.Injection)
	assert.Equal(t, []string{"t.subject", "t.attach", "t.veto", "t.inject"}, firedIDs(ev), "findings come in rule order")

	r.Attachments[0].Text = "a haystack"
	r.Body = "NEEDLE"
	ev = e.Evaluate(r)
	assert.NotContains(t, firedIDs(ev), "t.veto", "unless looks at every part")
	assert.Contains(t, firedIDs(ev), "t.case")
}

func TestNegationIgnoresWhatTheAttackerLacks(t *testing.T) {
	assert.False(t, negatedBefore(newText("A user without root can read", nil), len("A user without root can ")))
	assert.False(t, negatedBefore(newText("needs no privileges and can kill", nil), len("needs no privileges and can ")))
	assert.True(t, negatedBefore(newText("a user cannot read", nil), len("a user cannot ")))
	assert.True(t, negatedBefore(newText("without root it does not read", nil), len("without root it does not ")))
}
