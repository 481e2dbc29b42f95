package cliapp

import (
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliflag"
)

var table = []cliflag.Flag{
	{Name: "name", Env: "CLIAPP_TEST_NAME", Usage: "a `NAME`"},
	{Name: "format", Aliases: []string{"f"}, Default: "text"},
	{Name: "quiet", Aliases: []string{"q"}, Default: false},
	{Name: "n", Default: 3},
	{Name: "seed", Default: int64(7)},
	{Name: "count", Default: uint64(9)},
	{Name: "rate", Default: 0.5, DefaultText: "half"},
	{Name: "timeout", Default: time.Minute},
}

// read runs a command with the flags built from flags on args and returns
// every flag of table as the command line gives it.
func read(t *testing.T, flags []cliflag.Flag, args ...string) (map[string]any, error) {
	t.Helper()
	var got map[string]any
	app := &cli.App{Writer: io.Discard, ErrWriter: io.Discard, Commands: []*cli.Command{{Name: "x", Flags: Flags(flags),
		Action: func(c *cli.Context) error { got = snapshot(c); return nil }}}}
	UsageErrors(app)
	err := app.Run(append([]string{"secscreen", "x"}, args...))
	return got, err
}

// snapshot reads every flag of table through v, and whether it was set.
func snapshot(v cliflag.Values) map[string]any {
	return map[string]any{"name": v.String("name"), "format": v.String("format"), "quiet": v.Bool("quiet"), "n": v.Int("n"),
		"seed": v.Int64("seed"), "count": v.Uint64("count"), "rate": v.Float64("rate"), "timeout": v.Duration("timeout"),
		"set": []bool{v.IsSet("name"), v.IsSet("format"), v.IsSet("quiet"), v.IsSet("n"), v.IsSet("seed"), v.IsSet("count"), v.IsSet("rate"), v.IsSet("timeout")}}
}

// The flags built from a table read on a command line as cliflag.Given
// reads the same flags given: defaults, values, aliases and IsSet agree.
func TestBuiltFlagsReadAsGivenSays(t *testing.T) {
	got, err := read(t, table)
	require.NoError(t, err)
	assert.Equal(t, snapshot(cliflag.Given(table, nil)), got, "defaults")

	got, err = read(t, table, "--name", "a", "-f", "json", "-q", "--n", "0", "--seed", "-2", "--count", "5", "--rate", "0.25", "--timeout", "3s")
	require.NoError(t, err)
	assert.Equal(t, snapshot(cliflag.Given(table, map[string]any{"name": "a", "format": "json", "quiet": true, "n": 0,
		"seed": int64(-2), "count": uint64(5), "rate": 0.25, "timeout": 3 * time.Second})), got, "given")

	t.Setenv("CLIAPP_TEST_NAME", "from-env")
	got, err = read(t, table)
	require.NoError(t, err)
	assert.Equal(t, "from-env", got["name"], "Env is read when the flag is not given")
	assert.Equal(t, true, got["set"].([]bool)[0])
}

func TestBuiltFlagsKeepTheirHelp(t *testing.T) {
	flags := Flags(table[:1], table[6:7])
	require.Len(t, flags, 2)
	assert.Equal(t, "--name NAME\ta NAME [$CLIAPP_TEST_NAME]", flags[0].String())
	assert.Equal(t, "--rate value\t(default: half)", flags[1].String())
}

func TestARequiredFlagLeftOutIsRefused(t *testing.T) {
	_, err := read(t, []cliflag.Flag{{Name: "corpus", Required: true}})
	require.EqualError(t, err, `Required flag "corpus" not set`)
	_, err = read(t, []cliflag.Flag{{Name: "corpus", Required: true}}, "--corpus", "c")
	require.NoError(t, err)
}

func TestAFlagOfAnotherTypeIsRefused(t *testing.T) {
	assert.PanicsWithValue(t, "cliapp: no flag type for --ratio", func() { Flags([]cliflag.Flag{{Name: "ratio", Default: float32(1)}}) })
}

// flagNames gives what cli.FlagNames gives, on every name and alias of up
// to six characters from the ones its regular expression treats apart
// (every string, so names with commas, spaces and line breaks too).
func TestFlagNamesAsTheLibrarys(t *testing.T) {
	const alphabet = "a, \n-"
	var all func(prefix string, n int, yield func(string))
	all = func(prefix string, n int, yield func(string)) {
		yield(prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			all(prefix+string(c), n-1, yield)
		}
	}
	all("", 6, func(s string) {
		require.Equal(t, cli.FlagNames(s, []string{s + ",x", "y"}), flagNames(s, []string{s + ",x", "y"}), "%q", s)
	})
}

// Every flag build makes gives the names, help and type of the library's
// flag it holds: only where the names come from differs.
func TestBuiltFlagsAreTheLibrarys(t *testing.T) {
	for _, f := range Flags(table, []cliflag.Flag{{Name: "list, l", Aliases: []string{"L"}}}) {
		// Each is a struct whose first field is the library's flag.
		lib := reflect.ValueOf(f).Elem().Field(0).Interface().(cli.Flag)
		assert.Equal(t, lib.Names(), f.Names())
		assert.Equal(t, lib.String(), f.String())
		_, libBool := lib.(*cli.BoolFlag)
		assert.Equal(t, libBool, isBool(f), "%s", f.Names()[0])
	}
}
