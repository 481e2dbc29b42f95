//go:build !purego

package dedup

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The AVX-512 loop gives what the generic one gives, on base lists of
// every length up to a few hundred and of random and extreme values.
func TestMinMixAVX512EqualsGeneric(t *testing.T) {
	if !hasAVX512 {
		t.Skip("this processor has no AVX-512 F and DQ: minMix runs the generic loop")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for n := 1; n <= 600; n += 1 + n/16 {
		bases := make([]uint64, n)
		for i := range bases {
			switch rng.IntN(10) {
			case 0:
				bases[i] = 0
			case 1:
				bases[i] = math.MaxUint64
			default:
				bases[i] = rng.Uint64()
			}
		}
		var want, got [NumHashes]uint32
		minMixGeneric(&want, bases)
		minMixAVX512(&got, &splitSeeds, bases)
		require.Equal(t, want, got, "%d bases", n)
	}
}
