package eval

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func fixedOptions() Options {
	return Options{Resamples: 200, Seed: 3, Now: func() time.Time { return t0 }}.withDefaults()
}

type labelled struct {
	id, verdict, category string
	res                   screener.Result
}

func model(verdict, category string, conf float64, ms int, in, out int) *screener.ModelAnswer {
	return &screener.ModelAnswer{Classification: screener.Classification{Answer: prompts.Answer{Label: threatmodel.Label{Verdict: threatmodel.Verdict(verdict), Category: category}, Confidence: conf}, Prompt: "screen@1",
		Usage: backend.Usage{Backend: "fake", Model: "fake-1", PromptTokens: in, CompletionTokens: out, Latency: time.Duration(ms) * time.Millisecond}}}
}

func result(verdict, category string, conf float64, rv, rc string, m *screener.ModelAnswer, fired ...rules.Finding) screener.Result {
	return screener.Result{Label: threatmodel.Label{Verdict: threatmodel.Verdict(verdict), Category: category}, Confidence: conf,
		RulesVerdict: screener.Opinion{Label: threatmodel.Label{Verdict: threatmodel.Verdict(rv), Category: rc}, Confidence: 0.5}, Model: m, Rules: fired, Backend: "fake"}
}

func finding(rule, category string) rules.Finding {
	return rules.Finding{RuleID: rule, Category: category}
}

// fixture: five reports.
//
//	a: security/isolation.memory; final right, rules right, model right
//	b: security/capability.sys-admin; final wrong (not-security), rules wrong, model right
//	c: not-security/privilege.root; final right (category wrong), rules right, model skipped
//	d: needs-info/info.missing; error row
//	e: invalid/invalid.intended; final right, rules wrong, model failed
func fixtureRows() []Row {
	failed := model("", "", 0, 40, 100, 0)
	failed.Error = "invalid answer after one repair"
	errMsg := "screen: boom"
	in := []labelled{
		{"a", "security", "isolation.memory", result("security", "isolation.memory", 0.9, "security", "isolation.memory",
			model("security", "isolation.memory", 0.8, 100, 1000, 50), finding("uaf", "isolation.memory"), finding("uaf", "isolation.memory"))},
		{"b", "security", "capability.sys-admin", result("not-security", "privilege.root", 0.6, "not-security", "privilege.root",
			model("security", "capability.sys-admin", 0.7, 300, 2000, 60), finding("root", "privilege.root"))},
		{"c", "not-security", "privilege.root", result("not-security", "privilege.already-held", 0.95, "not-security", "privilege.already-held", nil,
			finding("root", "privilege.root"))},
		{"d", "needs-info", "info.missing", screener.Result{Error: &errMsg}},
		{"e", "invalid", "invalid.intended", result("invalid", "invalid.intended", 0.5, "needs-info", "info.missing", failed)},
	}
	rows := make([]Row, len(in))
	for i, l := range in {
		rows[i] = Row{ID: l.id, File: l.id + ".eml", True: threatmodel.Label{Verdict: threatmodel.Verdict(l.verdict), Category: l.category}}
		rows[i].fill(l.res)
	}
	return rows
}

func TestScoreFinalRulesAndModel(t *testing.T) {
	opt := fixedOptions()
	opt.Prices = backend.PriceTable{"fake-1": {PromptPer1M: 1, CompletionPer1M: 10}}
	r := score(fixtureRows(), Meta{Corpus: "c", Backend: "fake", Repeat: 1}, opt, t0)

	assert.Equal(t, Schema, r.Schema)
	assert.Equal(t, "fake-1", r.ModelName)
	assert.Equal(t, "screen@1", r.Prompt)

	// Final: a, c, e right; b wrong; d error -> 3/5.
	near(t, 0.6, r.Final.Accuracy)
	assert.Equal(t, 1, r.Final.Errors)
	assert.Equal(t, []string{"d"}, r.Final.ErrorIDs)
	// Categories: a, e right -> 2/5.
	near(t, 0.4, r.Final.CategoryAccuracy)
	near(t, 0.5, r.Final.SecurityRecall)
	assert.Equal(t, []string{"b"}, r.Final.MissedSecurity)
	assert.Equal(t, NoAnswer, r.Final.VerdictConfusion.Labels[4])
	assert.Equal(t, 1, r.Final.VerdictConfusion.Counts[2][4], "needs-info report without answer")
	// The category matrix keeps only categories met, in model order.
	assert.Equal(t, []string{"isolation.memory", "capability.sys-admin", "privilege.already-held", "privilege.root",
		"info.missing", "invalid.intended", NoAnswer}, r.Final.CategoryConfusion.Labels)

	// Rules alone: a, c right; b, e wrong; d error -> 2/5.
	near(t, 0.4, r.Rules.Accuracy)

	// Model alone over a, b, e (asked); e failed -> 2/3, and full recall.
	require.NotNil(t, r.Model)
	assert.Equal(t, 3, r.Model.N)
	near(t, 2.0/3, r.Model.Accuracy)
	near(t, 1, r.Model.SecurityRecall)
	assert.Equal(t, []string{"e"}, r.Model.ErrorIDs)

	// Agreement where both answered: a agrees, b disagrees (e: no model
	// answer).
	require.NotNil(t, r.Agreement)
	assert.Equal(t, 2, r.Agreement.N)
	assert.Equal(t, []string{"b"}, r.Agreement.Disagreeing)

	// Rules: root fired on b (true sys-admin) and c (true privilege.root);
	// uaf fired once on a although it matched twice.
	require.Len(t, r.RuleStats, 2)
	assert.Equal(t, "root", r.RuleStats[0].Rule)
	assert.Equal(t, 2, r.RuleStats[0].Hits)
	near(t, 0.5, r.RuleStats[0].Precision)
	assert.Equal(t, RuleStat{Rule: "uaf", Category: "isolation.memory", Hits: 1, Correct: 1, Precision: 1,
		ByTrue: map[string]int{"isolation.memory": 1}}, r.RuleStats[1])

	// Usage: 3 calls, 1 failed; latencies 100, 300, 40 -> p50 100,
	// p95 = 100 + 0.9·(300-100) = 280; cost = 3100 in, 110 out per 1e6.
	assert.Equal(t, 3, r.Usage.Calls)
	assert.Equal(t, 1, r.Usage.Failures)
	assert.Equal(t, 3100, r.Usage.PromptTokens)
	near(t, 100, r.Usage.LatencyP50MS)
	near(t, 280, r.Usage.LatencyP95MS)
	near(t, (3100*1+110*10)/1e6, r.Usage.Cost)

	assert.True(t, r.Rows[0].Correct)
	assert.True(t, r.Rows[2].Correct)
	assert.False(t, r.Rows[2].CategoryCorrect)
	assert.False(t, r.Rows[3].Correct)
	assert.Equal(t, "screen: boom", r.Rows[3].Error)
	assert.Nil(t, r.Consistency)
}

func TestScoreRulesOnly(t *testing.T) {
	rows := fixtureRows()
	for i := range rows {
		rows[i].Model = nil
	}
	r := score(rows, Meta{Backend: "rules", Repeat: 1}, fixedOptions(), t0)
	assert.Nil(t, r.Model)
	assert.Nil(t, r.Agreement)
	assert.Equal(t, 0, r.Usage.Calls)
	assert.False(t, r.Usage.Cost.Defined())
	assert.False(t, r.Usage.LatencyP50MS.Defined())
}

func TestScoreUnpricedModelHasNoCost(t *testing.T) {
	opt := fixedOptions()
	opt.Prices = backend.PriceTable{"other": {PromptPer1M: 1, CompletionPer1M: 1}}
	r := score(fixtureRows(), Meta{}, opt, t0)
	assert.False(t, r.Usage.Cost.Defined())
}

func TestConsistency(t *testing.T) {
	rows := []Row{
		{ID: "a", Repeats: []threatmodel.Verdict{"security", "security", "security"}},
		{ID: "b", Repeats: []threatmodel.Verdict{"security", "invalid", "security"}},
		{ID: "c", Repeats: []threatmodel.Verdict{"", "", ""}},
		{ID: "d"}, // unreadable, never screened
	}
	c := consistency(rows)
	require.NotNil(t, c)
	assert.Equal(t, 3, c.Runs)
	assert.Equal(t, 3, c.N)
	assert.Equal(t, 1, c.Consistent)
	near(t, 1.0/3, c.Rate)
	assert.Equal(t, []string{"b", "c"}, c.Inconsistent)
	assert.Nil(t, consistency([]Row{{ID: "a", Repeats: []threatmodel.Verdict{"x"}}}))
}

func TestGate(t *testing.T) {
	r := score(fixtureRows(), Meta{}, fixedOptions(), t0) // accuracy 0.6, recall 0.5
	require.NoError(t, r.Gate(), "no thresholds set")
	r.Options.MinAccuracy = 0.6
	r.Options.MinSecurityRecall = 0.5
	require.NoError(t, r.Gate(), "thresholds met exactly")
	r.Options.MinAccuracy = 0.7
	r.Options.MinSecurityRecall = 0.9
	r.Options.MinMacroF1 = 0.99
	err := r.Gate()
	var ge *GateError
	require.ErrorAs(t, err, &ge)
	require.Len(t, ge.Missed, 3)
	assert.Contains(t, err.Error(), "accuracy 0.600 < 0.700")
	assert.Contains(t, err.Error(), "security recall 0.500 < 0.900")
	assert.Contains(t, err.Error(), "macro-F1")

	// An undefined score misses its threshold.
	empty := score(nil, Meta{}, fixedOptions(), t0)
	empty.Options.MinSecurityRecall = 0.1
	require.ErrorContains(t, empty.Gate(), "security recall n/a")
}

func TestJSONRoundTripAndCompare(t *testing.T) {
	a := score(fixtureRows(), Meta{Backend: "rules"}, fixedOptions(), t0)
	path := filepath.Join(t.TempDir(), "a.json")
	var buf bytes.Buffer
	require.NoError(t, a.WriteJSON(&buf))
	require.NoError(t, writeFile(path, buf.Bytes()))
	back, err := ReadJSON(path)
	require.NoError(t, err)
	assert.Equal(t, a.Final.Accuracy, back.Final.Accuracy)
	assert.Equal(t, a.Final.MissedSecurity, back.Final.MissedSecurity)
	assert.Len(t, back.Rows, 5)
	assert.Equal(t, "root", back.Rows[1].Fired[0].Rule)
	assert.False(t, back.Final.PerVerdict[2].Precision.Defined(), "never predicted needs-info: stays undefined")

	// B fixes b and breaks a and c.
	rowsB := fixtureRows()
	rowsB[1].Verdict = "security"
	rowsB[0].Verdict = "invalid"
	rowsB[2].Verdict = "invalid"
	b := score(rowsB, Meta{Backend: "fake"}, fixedOptions(), t0)
	c := Compare(back, &b.RunJSON)
	assert.Equal(t, 5, c.Paired)
	assert.Equal(t, []string{"a", "c"}, c.RightToWrong)
	assert.Equal(t, []string{"b"}, c.WrongToRight)
	assert.Equal(t, 1, c.BothRight) // e
	assert.Equal(t, 1, c.BothWrong) // d
	assert.InDelta(t, McNemar(2, 1), c.PValue, 1e-12)
	assert.Equal(t, 1.0, c.PValue) // 2·(1+3)/8 capped
	require.Equal(t, "public leaks (share)", c.Deltas[0].Metric, "leaks come first")
	require.Equal(t, "accuracy", c.Deltas[2].Metric)
	near(t, 0.6, c.Deltas[2].A)
	near(t, 0.4, c.Deltas[2].B)
	near(t, -0.2, c.Deltas[2].Diff)

	var out bytes.Buffer
	require.NoError(t, c.WriteText(&out))
	assert.Contains(t, out.String(), "right → wrong (2)")
	assert.Contains(t, out.String(), "-0.200")
	assert.Contains(t, out.String(), "no significant difference")

	// Reports missing on one side are listed, not paired.
	b.Rows = b.Rows[:4]
	b.Rows = append(b.Rows, Row{ID: "z"})
	c = Compare(back, &b.RunJSON)
	assert.Equal(t, []string{"e"}, c.OnlyInA)
	assert.Equal(t, []string{"z"}, c.OnlyInB)
	assert.Equal(t, 4, c.Paired)
}

func TestReadJSONRejectsOtherSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.json")
	require.NoError(t, writeFile(path, []byte(`{"schema":"other/v9"}`)))
	_, err := ReadJSON(path)
	require.ErrorContains(t, err, "schema")
	require.NoError(t, writeFile(path, []byte(`{`)))
	_, err = ReadJSON(path)
	require.Error(t, err)
}

func TestWriteTextAndMarkdown(t *testing.T) {
	r := score(fixtureRows(), Meta{Corpus: "corpus", Backend: "fake", Repeat: 1}, fixedOptions(), t0)
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	txt := b.String()
	for _, want := range []string{"backend fake (model fake-1, prompt screen@1)", "accuracy", "0.600 [", "missed security reports (final): b",
		"errors (1, counted as wrong):", "d: screen: boom", "rules/model verdict agreement: 0.500 over 2 reports; disagreeing: b", "root"} {
		assert.Contains(t, txt, want)
	}
	assert.Contains(t, txt, "true \\ predicted (final)  security  not-security  needs-info  invalid  (none)")
	assert.NotRegexp(t, `(?m)^\(none\)`, txt, "no report is labelled 'no answer': that row is not shown")
	assert.Regexp(t, `(?m)^needs-info +0 +0 +0 +0 +1$`, txt)
	b.Reset()
	require.NoError(t, r.WriteMarkdown(&b))
	md := b.String()
	assert.Contains(t, md, "| metric | final | rules | model |")
	assert.Contains(t, md, "| **security** | 1 | 1 | 0 | 0 | 0 |")
	assert.Contains(t, md, "- b\n")
	// Wrong or failed rows: b, c (category), d; not a or e.
	assert.Contains(t, md, "| b |")
	assert.Contains(t, md, "| d |")
	assert.NotContains(t, md, "| a |")
	assert.Equal(t, `a\|b &lt;x&gt; \*y\*`, mdEscape("a|b <x> *y*"))
}

func TestWriteHTMLEscapesReportText(t *testing.T) {
	rows := fixtureRows()
	rows[1].ID = `<script>alert("id")</script>`
	rows[1].Subject = `<script>alert(1)</script> & <img src=x onerror=alert(2)>`
	rows[1].Error = `"><svg onload=alert(3)>`
	r := score(rows, Meta{Corpus: "c", Backend: "fake", Repeat: 1}, fixedOptions(), t0)
	var b bytes.Buffer
	require.NoError(t, r.WriteHTML(&b))
	page := b.String()
	assert.NotContains(t, page, "<script>")
	assert.NotContains(t, page, "<img")
	assert.NotContains(t, page, "<svg onload")
	assert.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;")
	assert.Contains(t, page, "&lt;script&gt;alert(&#34;id&#34;)&lt;/script&gt;")
	// Self-contained: inline SVG, no external references.
	assert.Contains(t, page, "<svg xmlns=\"http://www.w3.org/2000/svg\"")
	assert.Contains(t, page, "aria-label=\"confusion matrix\"")
	assert.Contains(t, page, "aria-label=\"reliability diagram\"")
	assert.Regexp(t, `<figcaption>final, ECE (\d\.\d{3}|n/a)</figcaption>`, page)
	assert.NotContains(t, page, "src=\"http")
	assert.NotContains(t, page, "<link")
	assert.Regexp(t, `<title>true security, predicted not-security: 1</title>`, page)
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

func TestNumsSurviveJSONInRun(t *testing.T) {
	r := score(nil, Meta{}, fixedOptions(), t0)
	data, err := json.Marshal(r.RunJSON)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"accuracy":null`)
	assert.Contains(t, string(data), `"missed_security":[]`)
}
