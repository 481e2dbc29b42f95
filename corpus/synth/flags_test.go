package synth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/exit"
)

func TestOptionsFromTheFlags(t *testing.T) {
	opt, path, err := NewOptions(cliflag.Given(Flags, nil))
	require.NoError(t, err)
	assert.Equal(t, Options{N: 1000, Seed: 1}, opt)
	assert.Empty(t, path, "standard output")

	opt, path, err = NewOptions(cliflag.Given(Flags, map[string]any{"n": 5, "seed": uint64(3), "replies": 0.5, "distinct-crashes": true, "output": "x.mbox"}))
	require.NoError(t, err)
	assert.Equal(t, Options{N: 5, Seed: 3, Replies: 0.5, DistinctCrashes: true}, opt)
	assert.Equal(t, "x.mbox", path)

	for _, given := range []map[string]any{{"n": -1}, {"replies": 1.5}, {"replies": -0.1}} {
		_, _, err := NewOptions(cliflag.Given(Flags, given))
		assert.EqualError(t, err, "corpus synth: want --n >= 0 and --replies from 0 to 1", "%v", given)
		assert.Equal(t, exit.Usage, exit.Code(err))
	}
}
