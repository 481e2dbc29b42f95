package enum

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type color string

func TestParse(t *testing.T) {
	exact := Set[color]{What: "color", Values: []color{"red", "dark-blue"}, Aliases: map[string]color{"navy": "dark-blue"}}
	for in, want := range map[string]color{"red": "red", " dark-blue\n": "dark-blue", "navy": "dark-blue"} {
		got, err := exact.Parse(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := exact.Parse("Red")
	assert.EqualError(t, err, `unknown color "Red" (want one of red, dark-blue)`, "exact sets keep case")

	folded := exact
	folded.FoldCase = true
	for in, want := range map[string]color{"Red": "red", "DARK-blue": "dark-blue", "NAVY": "dark-blue"} {
		got, err := folded.Parse(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err = folded.Parse("")
	assert.EqualError(t, err, `unknown color "" (want one of red, dark-blue)`)
	assert.Equal(t, "red, dark-blue", folded.List())
}
