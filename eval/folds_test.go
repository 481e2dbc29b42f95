package eval

import (
	"context"
	"fmt"
	"github.com/secscreen/secscreen/screener/threatmodel"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener"
)

func labelsOf(counts map[string]int) []corpus.Label {
	var ls []corpus.Label
	for _, v := range verdictNames() {
		for i := range counts[v] {
			ls = append(ls, corpus.Label{ID: fmt.Sprintf("%s-%d", v, i), Label: threatmodel.Label{Verdict: threatmodel.Verdict(v)}})
		}
	}
	return ls
}

func TestFoldsStratifiedAndReproducible(t *testing.T) {
	ls := labelsOf(map[string]int{"security": 10, "not-security": 7, "needs-info": 4, "invalid": 2})
	folds, err := Folds(ls, 3, 42)
	require.NoError(t, err)
	require.Len(t, folds, 3)

	var all []int
	for _, f := range folds {
		all = append(all, f...)
		assert.True(t, slices.IsSorted(f))
	}
	slices.Sort(all)
	want := make([]int, len(ls))
	for i := range want {
		want[i] = i
	}
	assert.Equal(t, want, all, "every label in exactly one fold")

	sizes := []int{len(folds[0]), len(folds[1]), len(folds[2])}
	assert.LessOrEqual(t, slices.Max(sizes)-slices.Min(sizes), 1, "sizes %v", sizes)
	for _, v := range verdictNames() {
		var per []int
		for _, f := range folds {
			n := 0
			for _, i := range f {
				if string(ls[i].Verdict) == v {
					n++
				}
			}
			per = append(per, n)
		}
		assert.LessOrEqual(t, slices.Max(per)-slices.Min(per), 1, "verdict %s spread %v", v, per)
	}

	again, err := Folds(ls, 3, 42)
	require.NoError(t, err)
	assert.Equal(t, folds, again)
	other, err := Folds(ls, 3, 43)
	require.NoError(t, err)
	assert.NotEqual(t, folds, other)
}

func TestFoldsRejectsBadK(t *testing.T) {
	ls := labelsOf(map[string]int{"security": 2})
	_, err := Folds(ls, 1, 1)
	require.ErrorContains(t, err, "at least 2")
	_, err = Folds(ls, 3, 1)
	require.ErrorContains(t, err, "3 folds for 2 labels")
}

func TestCrossValidateNeverTrainsOnHeldOut(t *testing.T) {
	c := testCorpus(t)
	var trained [][]string
	train := func(_ context.Context, set []corpus.LabeledReport) (*screener.Screener, error) {
		var ids []string
		for _, lr := range set {
			require.NoError(t, lr.Err, "unreadable reports are not trained on")
			ids = append(ids, lr.Label.ID)
		}
		trained = append(trained, ids)
		return newScreener(t, nil), nil
	}
	run, err := CrossValidate(context.Background(), c, 2, train, Options{Resamples: 20, Seed: 5})
	require.NoError(t, err)
	assert.Equal(t, 2, run.Folds)
	require.Len(t, trained, 2)
	require.Len(t, run.Rows, 5)
	for _, row := range run.Rows {
		require.Contains(t, []int{1, 2}, row.Fold, row.ID)
		assert.NotContains(t, trained[row.Fold-1], row.ID, "%s was trained on in its own fold", row.ID)
		other := trained[2-row.Fold]
		if row.Error == "" {
			assert.Contains(t, other, row.ID, "%s trains the other fold", row.ID)
		}
	}
	assert.Contains(t, run.Final.ErrorIDs, "r5")

	_, err = CrossValidate(context.Background(), c, 2, func(context.Context, []corpus.LabeledReport) (*screener.Screener, error) {
		return nil, fmt.Errorf("no data")
	}, Options{})
	require.ErrorContains(t, err, "fold 1 of 2: train: no data")
}
