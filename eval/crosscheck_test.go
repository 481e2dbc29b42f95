package eval

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// leakRows: four security reports and two others.
//
//	s1: security, final security (private); every voter right
//	s2: security, final not-security on a public route: a leak
//	s3: security, final not-security, but the baseline said security so
//	    the route was held private (flagged): no leak
//	s4: security, an error row: not screened, so not routed, not a leak
//	n1: not-security, final not-security, flagged for a decisive rule
//	n2: invalid, final invalid, flagged for an injection
func leakRows() []Row {
	secRoute := screener.DefaultRoutes().Verdicts["security"].To
	pubRoute := screener.DefaultRoutes().Verdicts["not-security"].To
	res := func(v, c string, public bool, route string, m *screener.ModelAnswer, rv, rc string, b *screener.Opinion, flags ...string) screener.Result {
		r := screener.Result{Label: threatmodel.Label{Verdict: threatmodel.Verdict(v), Category: c}, Confidence: 0.8, Route: route, RoutePublic: public, Model: m, Baseline: b,
			RulesVerdict: screener.Opinion{Label: threatmodel.Label{Verdict: threatmodel.Verdict(rv), Category: rc}, Confidence: 0.5}, Backend: "fake"}
		if len(flags) > 0 {
			r.NeedsReview, r.ReviewFlags, r.ReviewReason = true, flags, strings.Join(flags, "; ")
		}
		return r
	}
	op := func(v, c string) *screener.Opinion {
		return &screener.Opinion{Label: threatmodel.Label{Verdict: threatmodel.Verdict(v), Category: c}, Confidence: 0.7}
	}
	boom := "read: boom"
	in := []labelled{
		{"s1", "security", "isolation.memory", res("security", "isolation.memory", false, secRoute,
			model("security", "isolation.memory", 0.9, 10, 1, 1), "security", "isolation.memory", op("security", "isolation.memory"))},
		{"s2", "security", "isolation.data", res("not-security", "leak.pointer", true, pubRoute,
			model("not-security", "leak.pointer", 0.9, 10, 1, 1), "not-security", "privilege.root", op("needs-info", "info.missing"))},
		{"s3", "security", "capability.sys-admin", res("not-security", "leak.pointer", false, secRoute,
			model("not-security", "leak.pointer", 0.9, 10, 1, 1), "needs-info", "info.missing", op("security", "capability.sys-admin"), screener.FlagHeldPrivate)},
		{"s4", "security", "isolation.memory", screener.Result{Error: &boom}},
		{"n1", "not-security", "privilege.root", res("not-security", "privilege.root", true, pubRoute,
			model("security", "isolation.data", 0.9, 10, 1, 1), "not-security", "privilege.root", op("not-security", "privilege.root"), screener.FlagDecisiveRule, screener.FlagHeldPrivate)},
		{"n2", "invalid", "invalid.intended", res("invalid", "invalid.intended", false, "no action",
			model("invalid", "invalid.intended", 0.9, 10, 1, 1), "invalid", "invalid.intended", op("invalid", "invalid.intended"), screener.FlagInjection)},
	}
	rows := make([]Row, len(in))
	for i, l := range in {
		rows[i] = Row{ID: l.id, File: l.id + ".eml", True: threatmodel.Label{Verdict: threatmodel.Verdict(l.verdict), Category: l.category}}
		rows[i].fill(l.res)
	}
	return rows
}

func TestPublicLeaksCrossCheckAndReviewLoad(t *testing.T) {
	r := score(leakRows(), Meta{Corpus: "c", Split: "dev", Backend: "fake", Repeat: 1}, fixedOptions(), t0)

	assert.Equal(t, Leaks{Count: 1, SecurityReports: 4, Share: 0.25, IDs: []string{"s2"}}, r.PublicLeaks)

	assert.Equal(t, 3, r.ReviewLoad.Flagged)
	assert.Equal(t, 5, r.ReviewLoad.N, "error rows are not screened, so not in the review load")
	near(t, 0.6, r.ReviewLoad.Share)
	assert.Equal(t, map[string]int{screener.FlagHeldPrivate: 2, screener.FlagDecisiveRule: 1, screener.FlagInjection: 1}, r.ReviewLoad.ByFlag)

	require.NotNil(t, r.Baseline, "the baseline voter is scored alone")
	byName := map[string]CrossCheckLine{}
	var names []string
	for _, l := range r.CrossCheck {
		byName[l.Predictor] = l
		names = append(names, l.Predictor)
	}
	assert.Equal(t, []string{"final", "model", "rules", "baseline"}, names)
	// Final: s1, n1, n2 right of 6 (s4 is an error) -> 0.5; security
	// recall 1 of 4.
	near(t, 0.5, byName["final"].Accuracy)
	near(t, 0.25, byName["final"].SecurityRecall)
	assert.Equal(t, 1, byName["final"].PublicLeaks)
	// The model alone would have sent s2 and s3 to the public list.
	assert.Equal(t, 2, byName["model"].PublicLeaks)
	near(t, 1.0/3, byName["model"].SecurityRecall, "s1 of s1, s2, s3: the model was not asked about s4")
	// The rules alone: s2 (privilege.root) goes public; s3 (needs-info) not.
	assert.Equal(t, 1, byName["rules"].PublicLeaks)
	// The baseline alone: s1 and s3 right, s2 to the reporter: no leak.
	assert.Equal(t, 0, byName["baseline"].PublicLeaks)
	assert.Equal(t, 5, byName["baseline"].N)
	near(t, 2.0/3, byName["baseline"].SecurityRecall)
}

// TestLeaksComeFirstInEveryOutput checks that every output opens with the
// public leaks, then the cross-check value, then the review load, before
// any other metric, and names the split.
func TestLeaksComeFirstInEveryOutput(t *testing.T) {
	r := score(leakRows(), Meta{Corpus: "c", Split: "dev", Backend: "fake", Repeat: 1}, fixedOptions(), t0)
	inOrder := func(t *testing.T, doc string, marks ...string) {
		t.Helper()
		last := -1
		for _, m := range marks {
			i := strings.Index(doc, m)
			require.GreaterOrEqual(t, i, 0, "%q missing", m)
			assert.Greater(t, i, last, "%q out of order", m)
			last = i
		}
	}
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	txt := b.String()
	assert.Contains(t, txt, "corpus c (split dev), backend fake")
	assert.Contains(t, txt, "public leaks (true security reports routed publicly): 1 of 4 (0.250): s2\n")
	assert.Regexp(t, `(?m)^model alone \(fake\) +5 +0\.400 +0\.333 +2$`, txt)
	assert.Contains(t, txt, "review load: 3 of 5 flagged for review (0.600): held-private 2, decisive-rule 1, injection 1")
	inOrder(t, txt, "(split dev)", "public leaks", "cross-check value", "review load", "metric ", "verdict (final)", "missed security")

	b.Reset()
	require.NoError(t, r.WriteMarkdown(&b))
	md := b.String()
	assert.Contains(t, md, "**Public leaks** (true security reports routed publicly): 1 of 4 (0.250): s2")
	inOrder(t, md, "(split dev)", "Public leaks", "## Cross-check value", "| baseline alone |", "Review load", "## Metrics", "## Per verdict")

	b.Reset()
	require.NoError(t, r.WriteHTML(&b))
	page := b.String()
	inOrder(t, page, "(split dev)", "<h2>Public leaks</h2>", "<code>s2</code>", "<h2>Cross-check value</h2>", "Review load:", "<h2>Headline</h2>")

	b.Reset()
	require.NoError(t, r.WriteJSON(&b))
	js := b.String()
	inOrder(t, js, `"schema"`, `"public_leaks"`, `"cross_check"`, `"review_load"`, `"corpus"`, `"split": "dev"`, `"final": {`)
	var back RunJSON
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	assert.Equal(t, r.PublicLeaks, back.PublicLeaks)
	assert.Equal(t, "dev", back.Split)
}

func TestCompareListsNewAndFixedLeaks(t *testing.T) {
	a := score(leakRows(), Meta{Backend: "fake"}, fixedOptions(), t0)
	rowsB := leakRows()
	rowsB[1].RoutePublic = false // s2 held private
	rowsB[2].RoutePublic = true  // s3 leaks
	b := score(rowsB, Meta{Backend: "fake"}, fixedOptions(), t0)
	c := Compare(&a.RunJSON, &b.RunJSON)
	assert.Equal(t, []string{"s3"}, c.NewLeaks)
	assert.Equal(t, []string{"s2"}, c.FixedLeaks)
	near(t, 0.25, c.Deltas[0].A)
	near(t, 0, c.Deltas[0].Diff)
	var out bytes.Buffer
	require.NoError(t, c.WriteText(&out))
	assert.Contains(t, out.String(), "new public leaks (1):\n  s3\n")

	old := a.RunJSON
	old.PublicLeaks, old.ReviewLoad = Leaks{}, ReviewLoad{}
	c = Compare(&old, &b.RunJSON)
	assert.False(t, c.Deltas[0].A.Defined(), "a run saved before leaks were counted has none to compare")
}
