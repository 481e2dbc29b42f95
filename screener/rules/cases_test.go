package rules

import (
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/secscreen/secscreen/screener/intake"
)

type ruleCase struct {
	Name        string              `yaml:"name"`
	Subject     string              `yaml:"subject"`
	Body        string              `yaml:"body"`
	Attachments []intake.Attachment `yaml:"attachments"`
	Fires       []string            `yaml:"fires"`
	Silent      []string            `yaml:"silent"`
}

func loadCases(t *testing.T) []ruleCase {
	t.Helper()
	data, err := os.ReadFile("testdata/cases.yaml")
	require.NoError(t, err)
	var doc struct {
		Cases []ruleCase `yaml:"cases"`
	}
	dec := yaml.NewDecoder(bytesReader(data))
	dec.KnownFields(true)
	require.NoError(t, dec.Decode(&doc))
	require.NotEmpty(t, doc.Cases)
	return doc.Cases
}

func (c ruleCase) report() *intake.Report {
	r := &intake.Report{ID: c.Name, Subject: c.Subject, Body: c.Body}
	for _, a := range c.Attachments {
		a.ContentType = "text/plain"
		a.Size = int64(len(a.Text))
		r.Attachments = append(r.Attachments, a)
	}
	return r
}

func firedIDs(ev Evaluation) []string {
	ids := make([]string, len(ev.Findings))
	for i, f := range ev.Findings {
		ids[i] = f.RuleID
	}
	return ids
}

func TestRuleCases(t *testing.T) {
	e := kernelEngine(t)
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			r := c.report()
			ev := e.Evaluate(r)
			fired := firedIDs(ev)
			for _, id := range c.Fires {
				assert.Contains(t, fired, id, "rule %s should fire; facts %+v", id, ev.Facts)
			}
			for _, id := range c.Silent {
				assert.NotContains(t, fired, id, "rule %s should stay silent", id)
			}
			checkSpans(t, r, ev)
		})
	}
}

// checkSpans verifies that every finding's span points at text that its
// rule matches, and that its excerpt is a short single line.
func checkSpans(t *testing.T, r *intake.Report, ev Evaluation) {
	t.Helper()
	parts := map[string]string{}
	for _, p := range r.Parts() {
		parts[p.Name] = p.Text
	}
	for _, f := range ev.Findings {
		text, ok := parts[f.Span.Part]
		require.True(t, ok, "finding %s names unknown part %q", f.RuleID, f.Span.Part)
		require.LessOrEqual(t, f.Span.End, len(text))
		require.Less(t, f.Span.Start, f.Span.End, f.RuleID)
		matched := text[f.Span.Start:f.Span.End]
		assert.Equal(t, oneLine(matched, 120), f.Excerpt)
		assert.LessOrEqual(t, len([]rune(f.Excerpt)), 120)
		assert.NotContains(t, f.Excerpt, "\n")
		lines := slices.Collect(func(yield func(int) bool) {
			for i := 0; i < f.Span.Start; i++ {
				if text[i] == '\n' && !yield(i) {
					return
				}
			}
		})
		assert.Equal(t, len(lines)+1, f.Span.Line, f.RuleID)
		lineStart := 0
		if len(lines) > 0 {
			lineStart = lines[len(lines)-1] + 1
		}
		assert.Equal(t, f.Span.Start-lineStart+1, f.Span.Column, f.RuleID)
	}
}

// Every built-in rule appears in at least one case where it fires and one
// where it must not.
func TestEveryRuleHasPositiveAndNegativeCase(t *testing.T) {
	pos, neg := map[string]bool{}, map[string]bool{}
	for _, c := range loadCases(t) {
		for _, id := range c.Fires {
			pos[id] = true
		}
		for _, id := range c.Silent {
			neg[id] = true
		}
	}
	set := KernelRules()
	known := ruleIDs(set)
	for _, id := range known {
		assert.True(t, pos[id], "rule %s has no positive case", id)
		assert.True(t, neg[id], "rule %s has no negative case", id)
	}
	for id := range pos {
		assert.Contains(t, known, id, "case names unknown rule")
	}
	for id := range neg {
		assert.Contains(t, known, id, "case names unknown rule")
	}
}
