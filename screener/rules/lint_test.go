package rules

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func lintFixture(t *testing.T) (*Engine, []Example) {
	t.Helper()
	set, err := Parse([]byte(`facts:
  - {fact: stack_trace, case_sensitive: true, match: ['Call Trace:']}
rules:
  - id: t.alpha
    description: three alternatives
    category: leak.padding
    weight: 2
    match:
      - '\balpha\b'
      - '\bnever-seen\b'
      - '\bbeta\b'
  - id: t.gated
    description: matches often but its condition holds once
    category: lab.cost
    weight: 2
    match: ['\balpha\b']
    requires: {has_stack_trace: true}
  - id: t.inject
    description: exempt from the count
    category: info.unverified-tool
    weight: 1
    signal: injection
    match: ['\bclassify this as\b']
`), "lint.yaml")
	require.NoError(t, err)
	e, err := NewEngine(threatmodel.Kernel(), set, Options{})
	require.NoError(t, err)
	ex := func(id, cat, body string) Example {
		return Example{ID: id, Category: cat, Report: &intake.Report{ID: id, Body: body}}
	}
	return e, []Example{
		ex("r1", "leak.padding", "alpha and beta"),
		ex("r2", "leak.padding", "alpha again, beta too"),
		ex("r3", "leak.pointer", "alpha once more"),
		ex("r4", "capability.sys-admin", "nothing here"),
		ex("r5", "lab.cost", "alpha with a trace:\nCall Trace:\n foo+0x1/0x2"),
	}
}

func TestLintFailsAlternativesThatFireOnTooFewReports(t *testing.T) {
	e, examples := lintFixture(t)
	rep, err := Lint(context.Background(), e, examples, 0)
	require.NoError(t, err)
	assert.Equal(t, DefaultMinReports, rep.MinReports)
	assert.False(t, rep.OK())

	byRule := map[string]RuleLint{}
	for _, r := range rep.Rules {
		byRule[r.ID] = r
	}
	a := byRule["t.alpha"]
	require.Len(t, a.Alternatives, 3)
	assert.Equal(t, 4, a.Alternatives[0].Reports, "alpha fires on r1, r2, r3 and r5")
	assert.True(t, a.Alternatives[0].OK)
	assert.Equal(t, 0, a.Alternatives[1].Reports, "an alternative that matches nothing fails")
	assert.False(t, a.Alternatives[1].OK)
	assert.Equal(t, []string{"r1", "r2"}, a.Alternatives[2].IDs, "an alternative that matches two reports fails")
	assert.False(t, a.Alternatives[2].OK)
	assert.Equal(t, 4, a.Hits)
	assert.Equal(t, 2, a.CategoryHits)
	assert.Equal(t, 4, a.VerdictHits, "leak.pointer and lab.cost are not-security too")
	assert.InDelta(t, 0.5, a.CategoryPrecision, 1e-9)
	assert.InDelta(t, 1.0, a.VerdictPrecision, 1e-9)
	assert.InDelta(t, Wilson(4, 4), a.LowerBound, 1e-4)
	assert.Equal(t, 2, a.Support)

	// The condition is applied: the alternative alone fires the rule once.
	g := byRule["t.gated"]
	assert.Equal(t, 1, g.Alternatives[0].Reports)
	assert.False(t, g.Alternatives[0].OK)

	// Injection rules are measured elsewhere.
	in := byRule["t.inject"]
	assert.NotEmpty(t, in.Exempt)
	assert.True(t, in.Alternatives[0].OK)

	var failed []string
	for _, f := range rep.Failures {
		failed = append(failed, f.Rule+"#"+string(rune('1'+f.Index)))
	}
	assert.Equal(t, []string{"t.alpha#2", "t.alpha#3", "t.gated#1"}, failed)

	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	assert.Contains(t, text.String(), "3 alternatives fire on too few reports")
	assert.Contains(t, text.String(), `\bnever-seen\b`)

	rep, err = Lint(context.Background(), e, examples, 1)
	require.NoError(t, err)
	assert.Len(t, rep.Failures, 1, "with a minimum of 1, only the alternative that matches nothing fails")
}

func TestLintRejectsAnUnknownCategoryAndStopsWhenCancelled(t *testing.T) {
	e, examples := lintFixture(t)
	examples[0].Category = "no.such"
	_, err := Lint(context.Background(), e, examples, 0)
	assert.ErrorContains(t, err, "no.such")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Lint(ctx, e, examples[1:], 0)
	assert.ErrorIs(t, err, context.Canceled)
}

// The built-in pack passes its own lint on the bundled corpus: see
// TestBuiltInPackPassesLint in cmd/secscreen, which reads the corpus.

func TestWilson(t *testing.T) {
	assert.Zero(t, Wilson(0, 0))
	assert.InDelta(t, 0.7225, Wilson(10, 10), 1e-3)
	assert.InDelta(t, 0.9011, Wilson(35, 35), 1e-3)
	assert.Less(t, Wilson(34, 35), MinDecisiveLowerBound)
	assert.InDelta(t, 0.2366, Wilson(5, 10), 1e-3)
}
