package baseline

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// A model the cache holds is read when load is called, not before: the
// file is swapped for another model's between TrainLazily and load, and
// load returns the other model. One the cache lacks is trained and kept
// at once.
func TestTrainLazilyReadsTheModelOnFirstUse(t *testing.T) {
	eng := kernelEngine(t)
	c := &TrainCache{Dir: t.TempDir(), Fingerprint: "test rules"}
	ex := handExamples(6, 0)
	first, id, err := c.Train(ex, eng, TrainOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, id)
	path := filepath.Join(c.Dir, id+".bin")
	require.FileExists(t, path, "kept when trained")

	load, id2, err := c.TrainLazily(ex, eng, TrainOptions{})
	require.NoError(t, err)
	assert.Equal(t, id, id2, "the same examples, the same key")

	other, err := Train(handExamples(6, 1), eng, TrainOptions{})
	require.NoError(t, err)
	require.NotEqual(t, other.Fingerprint, first.Fingerprint)
	data, err := other.MarshalBinary()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o600))

	m, err := load()
	require.NoError(t, err)
	assert.Equal(t, other.Fingerprint, m.Fingerprint, "read at load, not at TrainLazily")
	again, err := load()
	require.NoError(t, err)
	assert.Same(t, m, again, "read once")

	// A file that no longer decodes: trained again, as Train would.
	load, _, err = c.TrainLazily(ex, eng, TrainOptions{})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte("damaged"), 0o600))
	m, err = load()
	require.NoError(t, err)
	assert.Equal(t, first.Fingerprint, m.Fingerprint)
}

// A lazy voter votes as the voter of the model it loads, and loads it on
// its first vote; a model of another threat model fails its votes.
func TestLazyVoterVotesAsTheModel(t *testing.T) {
	m, eng := trainHand(t)
	tm := threatmodel.Kernel()
	loads := 0
	lazy := LazyVoter(func() (*Model, error) { loads++; return m, nil }, tm, eng)
	assert.Zero(t, loads)
	eager := Voter(m, tm, eng)
	require.NotNil(t, eager)
	ctx := context.Background()
	for k := range kinds {
		r := handReport(k, 12)
		ev := eng.Evaluate(r)
		want, err := eager.Classify(ctx, r, &ev)
		require.NoError(t, err)
		got, err := lazy.Classify(ctx, r, &ev)
		require.NoError(t, err)
		want.Usage.Latency, got.Usage.Latency = 0, 0
		assert.Equal(t, want, got)
	}
	assert.Equal(t, eager.Describe(), lazy.Describe())
	assert.Equal(t, 1, loads)

	other := *m
	other.ThreatModel = "another"
	wrong := LazyVoter(func() (*Model, error) { return &other, nil }, tm, eng)
	r := handReport(0, 1)
	_, err := wrong.Classify(ctx, r, nil)
	assert.ErrorContains(t, err, "another")
}
