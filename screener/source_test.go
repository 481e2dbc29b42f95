package screener

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/sourcetree"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// fakeTree answers every check with the citations it was built with.
type fakeTree struct {
	check *sourcetree.Check
	err   error
	facts *rules.Facts
}

func (f *fakeTree) CheckReport(_ context.Context, _ *intake.Report, facts *rules.Facts) (*sourcetree.Check, error) {
	f.facts = facts
	return f.check, f.err
}

func TestScreenWithASourceTree(t *testing.T) {
	r := &intake.Report{ID: "x", Subject: "crash in frob_it()", Body: "It crashes in frob_it() in net/frob.c on 6.12.1."}
	missing := []sourcetree.Citation{{Kind: sourcetree.KindFile, Name: "net/frob.c"}, {Kind: sourcetree.KindFunction, Name: "frob_it"}}
	tree := &fakeTree{check: &sourcetree.Check{Tree: "/k", At: []string{"the working tree"}, Cited: missing, Missing: missing}}
	s := newTestScreener(t, nil, func(c *Config) { c.Source = tree })
	res := s.Screen(context.Background(), r)

	require.NotNil(t, tree.facts, "the checker gets the rules' facts")
	assert.Contains(t, tree.facts.Files, "net/frob.c")
	assert.Equal(t, "invalid/invalid.nonexistent", res.Label.String(), res.Decision)
	assert.Equal(t, DecisionVoteSource, res.Decision)
	assert.Same(t, tree.check, res.SourceCheck)
	assert.Same(t, r, res.Report())
	assert.NotNil(t, res.Facts())

	b, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"source_check":{"tree":"/k","at":["the working tree"],"cited":[{"kind":"file","name":"net/frob.c","found":false}`)
}

func TestScreenSourceTreeFailureIsANote(t *testing.T) {
	tree := &fakeTree{err: errors.New("git grep: killed")}
	s := newTestScreener(t, nil, func(c *Config) { c.Source = tree })
	res := s.Screen(context.Background(), &intake.Report{ID: "x", Subject: "s", Body: "b"})
	require.NotNil(t, res.SourceCheck)
	assert.Equal(t, []string{"not checked: git grep: killed"}, res.SourceCheck.Notes)
	assert.Equal(t, DecisionRulesOnly, res.Decision)
}

func TestScreenSourceTreeNeedsTheCategory(t *testing.T) {
	// A project's own model without invalid.nonexistent: the tree reports
	// what is missing but does not vote.
	tm, err := threatmodel.New("p", "test", []threatmodel.Clause{
		{ID: "bug", Verdict: threatmodel.NotSecurity, Title: "t", Summary: "s"},
		{ID: "info.missing", Verdict: threatmodel.NeedsInfo, Title: "t", Summary: "s"},
	})
	require.NoError(t, err)
	eng, err := rules.NewEngine(tm, &rules.RuleSet{}, rules.Options{})
	require.NoError(t, err)
	missing := []sourcetree.Citation{{Kind: sourcetree.KindFile, Name: "a.c"}}
	s, err := New(Config{ThreatModel: tm, Rules: eng, Source: &fakeTree{check: &sourcetree.Check{Cited: missing, Missing: missing}}})
	require.NoError(t, err)
	res := s.Screen(context.Background(), &intake.Report{ID: "x", Subject: "s", Body: "b"})
	assert.Equal(t, DecisionRulesOnly, res.Decision)
	assert.Len(t, res.SourceCheck.Missing, 1)
}

func TestErrorRowsHaveNoReport(t *testing.T) {
	r := errorResult("", "f.txt", "rules", DecisionInputError, errors.New("empty"))
	assert.Nil(t, r.Report())
	assert.Nil(t, r.Facts())
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"source_check":null`)
}
