package cliflag

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

var table = []Flag{
	{Name: "name"},
	{Name: "format", Aliases: []string{"f"}, Default: "text"},
	{Name: "quiet", Default: false},
	{Name: "n", Default: 3},
	{Name: "seed", Default: int64(7)},
	{Name: "count", Default: uint64(9)},
	{Name: "rate", Default: 0.5},
	{Name: "timeout", Default: time.Minute},
}

func TestGivenReadsDefaultsUnlessGiven(t *testing.T) {
	v := Given(table, nil)
	assert.Equal(t, "", v.String("name"), "nil is a string flag with no default")
	assert.Equal(t, "text", v.String("format"))
	assert.False(t, v.Bool("quiet"))
	assert.Equal(t, 3, v.Int("n"))
	assert.Equal(t, int64(7), v.Int64("seed"))
	assert.Equal(t, uint64(9), v.Uint64("count"))
	assert.Equal(t, 0.5, v.Float64("rate"))
	assert.Equal(t, time.Minute, v.Duration("timeout"))
	for _, f := range table {
		assert.False(t, v.IsSet(f.Name), f.Name)
	}

	v = Given(table, map[string]any{"name": "x", "format": "json", "quiet": true, "n": 0, "seed": int64(1),
		"count": uint64(2), "rate": 0.0, "timeout": time.Second})
	assert.Equal(t, "x", v.String("name"))
	assert.Equal(t, "json", v.String("format"))
	assert.True(t, v.Bool("quiet"))
	assert.Equal(t, 0, v.Int("n"), "a flag given its zero value")
	assert.Equal(t, int64(1), v.Int64("seed"))
	assert.Equal(t, uint64(2), v.Uint64("count"))
	assert.Equal(t, 0.0, v.Float64("rate"))
	assert.Equal(t, time.Second, v.Duration("timeout"))
	for _, f := range table {
		assert.True(t, v.IsSet(f.Name), f.Name)
	}
}

// A name the command lacks reads as zero and unset, as on a command line;
// a given name or type that is no flag's, or a flag read as another type,
// is the caller's mistake.
func TestGivenTreatsOtherNamesAsACommandLineDoesAndRefusesMistakes(t *testing.T) {
	v := Given(table, map[string]any{"n": 4})
	assert.Equal(t, "", v.String("source"))
	assert.Equal(t, 0, v.Int("other"))
	assert.False(t, v.IsSet("source"))

	assert.PanicsWithValue(t, "cliflag: --nme is not a flag", func() { Given(table, map[string]any{"nme": "x"}) })
	assert.PanicsWithValue(t, "cliflag: --n takes a int, not a string", func() { Given(table, map[string]any{"n": "4"}) })
	assert.PanicsWithValue(t, "cliflag: --seed takes a int64, not a int", func() { Given(table, map[string]any{"seed": 1}) })
	assert.PanicsWithValue(t, "cliflag: --n is a int flag, read as a string", func() { v.String("n") })
	assert.Panics(t, func() { Given(table, nil).Int("format") }, "a default read as another type")
}

func TestReplaceKeepsThePlaceOrAppends(t *testing.T) {
	own := Flag{Name: "quiet", Default: true, Usage: "mine"}
	got := Replace(table, own, Flag{Name: "extra"})
	assert.Len(t, got, len(table)+1)
	assert.Equal(t, own, got[2])
	assert.Equal(t, "extra", got[len(table)].Name)
	assert.Equal(t, false, table[2].Default, "the shared table is not changed")
}
