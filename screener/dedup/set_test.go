package dedup

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// u64Set holds what a map would, across resets (the stamp wrapping round
// among them) and growth past its hint.
func TestU64SetIsASet(t *testing.T) {
	var s u64Set
	rng := rand.New(rand.NewPCG(3, 3))
	for round := range 300 {
		if round == 150 {
			s.stamp = math.MaxUint32 - 1 // the next resets wrap round
		}
		hint := rng.IntN(50)
		s.reset(hint)
		model := map[uint64]bool{}
		for range rng.IntN(400) {
			x := rng.Uint64N(64) << (rng.IntN(4) * 16) // repeats, and values differing in high bits only
			if rng.IntN(3) == 0 {
				require.Equal(t, model[x], s.has(x))
				continue
			}
			require.Equal(t, !model[x], s.add(x))
			model[x] = true
		}
		for x := range model {
			require.True(t, s.has(x))
		}
		require.Equal(t, len(model), s.n)
	}
}
