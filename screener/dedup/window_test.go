package dedup

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// words makes a text of n random words from a vocabulary large enough
// that two texts share few shingles.
func words(rng *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "w%d", rng.IntN(50000))
	}
	return b.String()
}

// feed checks and records reports one after the other, as a run does, and
// returns what each was found to duplicate.
func feed(t *testing.T, tr *Tracker, reports []*intake.Report) [][]screener.DuplicateOf {
	t.Helper()
	ctx := context.Background()
	var out [][]screener.DuplicateOf
	for i, r := range reports {
		seq := i + 1
		dups := tr.Check(ctx, seq, r)
		res := screener.Result{ID: r.ID, Label: threatmodel.Label{Verdict: threatmodel.NotSecurity, Category: "config.debug-feature"}, Confidence: 0.9, DuplicateOf: dups}
		for _, d := range dups {
			if p, ok, _ := tr.Prior(seq, d); ok {
				res.Verdict, res.Category, res.Decision = p.Result.Verdict, p.Result.Category, screener.DecisionDuplicate
				break
			}
		}
		tr.Record(ctx, seq, r, &res)
		out = append(out, res.DuplicateOf)
	}
	return out
}

func TestTheRunIndexStaysBounded(t *testing.T) {
	for _, withPast := range []bool{false, true} {
		t.Run(fmt.Sprintf("past=%v", withPast), func(t *testing.T) {
			const window, n = 40, 2000
			rng := rand.New(rand.NewPCG(1, 2))
			var reports []*intake.Report
			for i := range n {
				reports = append(reports, rep(fmt.Sprintf("r%d", i), fmt.Sprintf("report %d", i), words(rng, 120)))
			}
			// An exact duplicate of the first report, long after it left
			// the window, and a near duplicate of the one before, in it.
			resend := rep("resend", "Re: report 0", reports[0].Body)
			near := rep("near", "report 1999 again", reports[n-1].Body+" one more line at the end")
			reports = append(reports, resend, near)

			var past Past
			if withPast {
				past = &memPast{}
			}
			tr := NewTracker(past, Options{Window: window}, nil)
			defer tr.Close()
			dups := feed(t, tr, reports)

			entries, keys, listed, sigs, exact := tr.size()
			assert.LessOrEqual(t, entries, window, "entries")
			assert.LessOrEqual(t, sigs, window, "fingerprints")
			assert.LessOrEqual(t, listed, window*(1+Bands+maxFileFunctions+8), "index")
			assert.LessOrEqual(t, keys, listed)
			if withPast {
				assert.Zero(t, listed, "the past holds every recorded report")
				assert.LessOrEqual(t, exact, window, "the past finds the exact duplicates")
			} else {
				assert.Equal(t, n+1, exact, "one exact key per content")
			}

			for i, d := range dups[:n] {
				require.Empty(t, d, "report %d is new", i)
			}
			got := dups[n]
			require.NotEmpty(t, got, "the resend")
			assert.Equal(t, "r0", got[0].ID)
			assert.Equal(t, SignalExact, got[0].Signal)
			assert.Equal(t, "report 0", got[0].Subject)
			assert.Equal(t, threatmodel.NotSecurity, got[0].Verdict)
			got = dups[n+1]
			require.NotEmpty(t, got, "the near duplicate")
			assert.Equal(t, fmt.Sprintf("r%d", n-1), got[0].ID)
			assert.Equal(t, SignalNear, got[0].Signal)
		})
	}
}

func TestAnExactDuplicateOfAReportThatLeftTheWindowReusesItsDecision(t *testing.T) {
	m := &model{}
	tr := NewTracker(nil, Options{Window: 1}, nil)
	defer tr.Close()
	s := newScreener(t, m, tr)
	res, sum := run(s, rep("a1", "foo", textA), rep("b1", "ext4", textB), rep("c1", "bar", textC), rep("a2", "Re: foo", textA))
	require.Len(t, res, 4)
	assert.EqualValues(t, 3, m.calls.Load())
	require.NotEmpty(t, res[3].DuplicateOf)
	d := res[3].DuplicateOf[0]
	assert.Equal(t, "a1", d.ID)
	assert.Equal(t, SignalExact, d.Signal)
	assert.Equal(t, res[0].Verdict, d.Verdict)
	assert.Equal(t, screener.DecisionDuplicate, res[3].Decision)
	assert.Equal(t, res[0].Category, res[3].Category)
	assert.Equal(t, 1, sum.Reused)
	entries, _, _, _, _ := tr.size()
	assert.LessOrEqual(t, entries, 1)
}

func TestTheSpillKeepsRecordsWithoutAFile(t *testing.T) {
	var s spill
	a, ok := s.add([]byte("first"))
	require.True(t, ok)
	b, ok := s.add([]byte("second record, longer than the alignment"))
	require.True(t, ok)
	e, ok := s.add(nil)
	require.True(t, ok)
	got, err := s.get(b)
	require.NoError(t, err)
	assert.Equal(t, "second record, longer than the alignment", string(got), "read back while still buffered")
	got, err = s.get(a)
	require.NoError(t, err)
	assert.Equal(t, "first", string(got))
	got, err = s.get(e)
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = s.get(e + 1)
	assert.Error(t, err, "past the last record")

	// The file fails: the records after it are kept in memory, and those
	// before still read from the file.
	s.fileErr = errors.New("the disk is full")
	c, ok := s.add([]byte("in memory"))
	require.True(t, ok)
	assert.Greater(t, c, e)
	got, err = s.get(c)
	require.NoError(t, err)
	assert.Equal(t, "in memory", string(got))
	got, err = s.get(b)
	require.NoError(t, err)
	assert.Equal(t, "second record, longer than the alignment", string(got))
	require.NoError(t, s.close())
	_, err = s.get(a)
	assert.Error(t, err, "closed")

	// A spill whose file cannot be made keeps its records in memory.
	t.Setenv("TMPDIR", "/nonexistent/dir")
	var m spill
	c, ok = m.add([]byte("kept"))
	require.True(t, ok)
	require.Error(t, m.fileErr)
	got, err = m.get(c)
	require.NoError(t, err)
	assert.Equal(t, "kept", string(got))
}

func TestAKeyMostReportsShareListsOnlyTheNewest(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var reports []*intake.Report
	for i := range 400 {
		reports = append(reports, rep(fmt.Sprintf("r%d", i), "cve", words(rng, 80)+"\nThis is CVE-2025-37899 again.\n"))
	}
	tr := NewTracker(nil, Options{Window: 1000}, nil)
	defer tr.Close()
	dups := feed(t, tr, reports)
	cve := Signal{Kind: SignalCVE, Value: "CVE-2025-37899"}.key()
	tr.mu.Lock()
	list := tr.byKey[cve]
	tr.mu.Unlock()
	require.Len(t, list, runPerKey)
	assert.Equal(t, 400, list[len(list)-1].seq, "the newest last")
	assert.Equal(t, 400-runPerKey+1, list[0].seq)
	last := dups[len(dups)-1]
	require.Len(t, last, DefaultOptions().MaxMatches)
	for _, d := range last {
		assert.Equal(t, SignalCVE, d.Signal)
		assert.Greater(t, d.Batch, 400-runPerKey, "one of the newest")
	}
}
