package eval

import (
	"context"
	"errors"
	"fmt"
	"github.com/secscreen/secscreen/screener/threatmodel"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
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
			assert.NoError(t, lr.Err, "unreadable reports are not trained on") // not require: train runs in another goroutine
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

// waitingBackend answers nothing until ch is closed, and tells whether it
// had to give up waiting.
type waitingBackend struct {
	ch      <-chan struct{}
	gaveUp  atomic.Bool
	answers atomic.Int32
}

func (*waitingBackend) Name() string  { return "fake" }
func (*waitingBackend) Model() string { return "fake-model" }
func (w *waitingBackend) Complete(ctx context.Context, _ backend.Request) (backend.Reply, error) {
	select {
	case <-w.ch:
	case <-time.After(5 * time.Second):
		w.gaveUp.Store(true)
	}
	w.answers.Add(1)
	return backend.Reply{}, errors.New("no answer")
}

// The next fold is trained while the current one is screened, never two
// trainings at once, and the folds still come out in their order.
func TestCrossValidateTrainsTheNextFoldWhileScreening(t *testing.T) {
	c := testCorpus(t)
	secondTraining := make(chan struct{})
	first := &waitingBackend{ch: secondTraining}
	screeners := []*screener.Screener{newScreener(t, first), newScreener(t, nil), newScreener(t, nil)}
	var calls, inFlight, most atomic.Int32
	train := func(context.Context, []corpus.LabeledReport) (*screener.Screener, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		call := calls.Add(1)
		if call == 2 {
			close(secondTraining)
		}
		return screeners[call-1], nil
	}
	run, err := CrossValidate(context.Background(), c, 3, train, Options{Resamples: 20, Seed: 5})
	require.NoError(t, err)
	assert.Positive(t, first.answers.Load(), "the first fold asked its model")
	assert.False(t, first.gaveUp.Load(), "the second fold was trained while the first was screened")
	assert.EqualValues(t, 3, calls.Load())
	assert.EqualValues(t, 1, most.Load(), "one training at a time")
	for _, row := range run.Rows {
		if row.Fold == 1 && row.Error == "" {
			require.NotNil(t, row.Model, row.ID)
			assert.NotEmpty(t, row.Model.Error, "fold 1 was screened by the first screener")
		}
	}
}
