package cliapp

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/exit"
)

// app is an app with "show" and "group sub", which emit v and note -v.
func app(out io.Writer, v any, verbose *bool) *cli.App {
	action := func(c *cli.Context) error {
		*verbose = Verbose(c)
		return Emit(c, v, func(w io.Writer) error {
			_, err := io.WriteString(w, "as text\n")
			return err
		})
	}
	format := &cli.StringFlag{Name: "format", Value: "text"}
	a := &cli.App{Writer: out, ErrWriter: io.Discard, ExitErrHandler: func(*cli.Context, error) {},
		Flags: []cli.Flag{&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}}},
		Commands: []*cli.Command{
			{Name: "show", Flags: []cli.Flag{format, &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}}}, Action: action},
			{Name: "group", Subcommands: []*cli.Command{{Name: "sub", Flags: []cli.Flag{format}, Action: action}}},
		}}
	UsageErrors(a)
	return a
}

func TestEmitWritesTextOrJSON(t *testing.T) {
	var out bytes.Buffer
	var verbose bool
	require.NoError(t, app(&out, map[string]int{"n": 1}, &verbose).Run([]string{"x", "show"}))
	assert.Equal(t, "as text\n", out.String())
	out.Reset()
	require.NoError(t, app(&out, map[string]int{"n": 1}, &verbose).Run([]string{"x", "group", "sub", "--format", "json"}))
	assert.Equal(t, "{\n  \"n\": 1\n}\n", out.String())

	err := app(&out, nil, &verbose).Run([]string{"x", "group", "sub", "--format", "xml"})
	assert.Equal(t, exit.Usage, exit.Code(err))
	assert.EqualError(t, err, `group sub: unknown format "xml" (want one of text, json)`)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEmitNamesTheCommandOfAFailedWrite(t *testing.T) {
	var verbose bool
	err := app(failingWriter{}, nil, &verbose).Run([]string{"x", "show"})
	assert.EqualError(t, err, "show: write: disk full")
	assert.Equal(t, exit.Failure, exit.Code(err))
}

func TestFlagErrorsAreUsageErrorsEverywhere(t *testing.T) {
	var verbose bool
	for _, args := range [][]string{{"x", "--nosuch"}, {"x", "show", "--nosuch"}, {"x", "group", "sub", "--nosuch"}} {
		err := app(io.Discard, nil, &verbose).Run(args)
		assert.Equal(t, exit.Usage, exit.Code(err), "%v: %v", args, err)
	}
}

func TestVerboseBeforeOrAfterTheCommand(t *testing.T) {
	for args, want := range map[string][]string{"before": {"x", "-v", "show"}, "after": {"x", "show", "-v"}} {
		var verbose bool
		require.NoError(t, app(io.Discard, nil, &verbose).Run(want))
		assert.True(t, verbose, args)
	}
	var verbose bool
	require.NoError(t, app(io.Discard, nil, &verbose).Run([]string{"x", "show"}))
	assert.False(t, verbose)
}
