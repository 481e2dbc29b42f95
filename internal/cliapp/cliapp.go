// Package cliapp holds what secscreen's urfave/cli commands share and
// urfave/cli lacks: flags after the arguments ("screen inbox/ -f json"),
// exit code 2 on every usage error, one --format text|json for the
// commands that print either, -v given before or after the command, and
// every flag built from its description (Flags), which the package that
// owns the flag's option declares (internal/cliflag).
package cliapp

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/internal/exit"
)

// UsageErrors makes the flag errors of app and of each of its commands and
// subcommands usage errors (exit code 2).
func UsageErrors(app *cli.App) {
	app.OnUsageError = onUsageError
	var set func([]*cli.Command)
	set = func(cmds []*cli.Command) {
		for _, c := range cmds {
			c.OnUsageError = onUsageError
			set(c.Subcommands)
		}
	}
	set(app.Commands)
}

func onUsageError(_ *cli.Context, err error, _ bool) error { return exit.With(exit.Usage, err) }

// RunErrors gives the errors app.Run returns the exit code they call for
// where urfave/cli does not: a required flag left out is reported by the
// library itself, not through OnUsageError, and would exit 1 where every
// other usage error exits 2. Its error type is unexported, so it is known
// by its message ("Required flag "output" not set", "Required flags "verdict,
// category" not set"); TestUsageErrorsExitTwo fails if a new urfave/cli
// words it otherwise.
func RunErrors(err error) error {
	var coded *exit.Error
	if err == nil || errors.As(err, &coded) {
		return err
	}
	if msg := err.Error(); strings.HasPrefix(msg, "Required flag ") && strings.HasSuffix(msg, " not set") {
		return exit.With(exit.Usage, err)
	}
	return err
}

// format is the command's --format, text or json (docformat); another
// is a usage error naming the command.
func format(c *cli.Context) (docformat.Format, error) {
	f, err := docformat.Parse(c.String("format"))
	if err != nil {
		return f, exit.Usagef("%s: %w", commandName(c), err)
	}
	return f, nil
}

// CheckFormat refuses a --format other than text or json with a usage
// error naming the command. It fits a command's Before.
func CheckFormat(c *cli.Context) error {
	_, err := format(c)
	return err
}

// Emit writes v as JSON when --format is json, or with text when it is
// text (docformat.Write); another format is a usage error (CheckFormat).
func Emit(c *cli.Context, v any, text func(io.Writer) error) error {
	f, err := format(c)
	if err != nil {
		return err
	}
	if err := docformat.Write(c.App.Writer, f, v, text); err != nil {
		return fmt.Errorf("%s: write: %w", commandName(c), err)
	}
	return nil
}

// commandName is the command's name below the app's, "history stats"
// (cli.Command.FullName leaves the parent out once the subcommand runs).
func commandName(c *cli.Context) string {
	var names []string
	for _, x := range c.Lineage() {
		if x.Command != nil {
			names = append([]string{x.Command.Name}, names...)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return strings.Join(names[1:], " ") // the first is the app's own
}

// Verbose reports whether -v (--verbose) was given to the command or
// before it.
func Verbose(c *cli.Context) bool {
	for _, x := range c.Lineage() {
		if x.Bool("verbose") {
			return true
		}
	}
	return false
}

// Version is the module version the binary was built from, or "devel".
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
