package baseline

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A model read back from its binary encoding is the model: the same JSON
// byte for byte, the same predictions; damage is refused as LoadModel
// refuses it.
func TestBinaryRoundTripIsTheModel(t *testing.T) {
	for _, algo := range algos {
		t.Run(algo, func(t *testing.T) {
			m, eng := trainHandWith(t, algo)
			data, err := m.MarshalBinary()
			require.NoError(t, err)
			var back Model
			require.NoError(t, back.UnmarshalBinary(data))
			assert.Equal(t, string(saved(t, m)), string(saved(t, &back)))
			for k := range kinds {
				r := handReport(k, 11)
				ev := eng.Evaluate(r)
				assert.Equal(t, m.Predict(r, &ev), back.Predict(r, &ev))
			}

			var bad Model
			assert.ErrorContains(t, bad.UnmarshalBinary(saved(t, m)), "not a", "JSON is not the binary form")
			for cut := 0; cut < len(data); cut += 1 + cut/16 {
				require.Error(t, bad.UnmarshalBinary(data[:cut]), "cut short at %d of %d bytes", cut, len(data))
			}
			require.Error(t, bad.UnmarshalBinary(append(slices.Clone(data), 0)), "trailing bytes")
			// Damage anywhere is refused or decodes to a model that
			// passes LoadModel's checks; it never panics.
			for i := len(binaryMagic); i < len(data); i += 1 + i/64 {
				damaged := slices.Clone(data)
				damaged[i] ^= 0x55
				var d Model
				if d.UnmarshalBinary(damaged) == nil {
					_, err := LoadModel(bytes.NewReader(saved(t, &d)))
					require.NoError(t, err, "damage at byte %d", i)
				}
			}
			m2 := *m
			m2.Format = FormatVersion + 1
			other, err := m2.MarshalBinary()
			require.NoError(t, err)
			assert.ErrorContains(t, bad.UnmarshalBinary(other), "format version", "checked as LoadModel checks")
		})
	}
}

// BenchmarkLoadModel compares reading a trained model from Save's JSON and
// from its binary encoding.
func BenchmarkLoadModel(b *testing.B) {
	m, _ := trainHandWith(b, algos[0])
	js := saved(b, m)
	bin, err := m.MarshalBinary()
	require.NoError(b, err)
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			if _, err := LoadModel(bytes.NewReader(js)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary", func(b *testing.B) {
		for b.Loop() {
			var back Model
			if err := back.UnmarshalBinary(bin); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestEmbeddedOptionsAreTheEmbeddedModels(t *testing.T) {
	m := Embedded()
	o := EmbeddedOptions()
	assert.Equal(t, m.Options, o)
}
