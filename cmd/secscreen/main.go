// Command secscreen screens security bug reports against a project's threat
// model (the Linux kernel's by default), with deterministic rules and,
// optionally, a language model. Run "secscreen help" for the commands.
//
// Exit codes: 0 success; 1 failure (nothing or not everything could run, or
// an eval gate was missed); 2 usage error; 3 the run finished but some
// inputs could not be screened (they appear as error rows); 130 interrupted
// (what was done is kept). check has its own codes for scripts and hooks:
// 0 send to the security team, 3 send as an ordinary bug, 4 needs more
// information first, 5 not a bug.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/exit"
)

// Exit codes (internal/exit), documented in README.md and in the app's help.
const (
	exitOK          = exit.OK
	exitFailure     = exit.Failure
	exitUsage       = exit.Usage
	exitInputErrors = exit.InputErrors
	exitModelFailed = exit.ModelFailed
	exitInterrupted = exit.Interrupted
)

func usageErr(format string, args ...any) error { return exit.Usagef(format, args...) }

func withCode(code int, err error) error { return exit.With(code, err) }

const exitCodesHelp = `EXIT CODES:
   0    success
   1    failure (could not run, or an eval gate was missed)
   2    usage error (bad flag, argument or file format)
   3    finished, but some inputs could not be screened (shown as error rows)
   4    finished on the rules alone: the model never gave a valid answer, or its
        server refused the credentials (401/403) and no more calls were made
   130  interrupted by Ctrl-C; results already done were written
   check has its own codes (0 send to the security team, 3 send as an ordinary
   bug, 4 needs more information first, 5 not a bug): see secscreen check --help`

// onUsageError turns flag parsing errors into exit code 2.
func onUsageError(_ *cli.Context, err error, _ bool) error { return withCode(exitUsage, err) }

// setUsageErrors installs onUsageError on every command and subcommand.
func setUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = onUsageError
		setUsageErrors(c.Subcommands)
	}
}

func newApp() *cli.App {
	// -v means verbose everywhere: the version is --version only.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
	app := &cli.App{
		Name:                 "secscreen",
		Version:              version(),
		Usage:                "screen security bug reports against a threat model",
		Description:          "secscreen reads reports (email, mbox, Maildir, JSONL, text), checks them with\ndeterministic rules and optionally a model, and says which are security bugs.\n\n" + exitCodesHelp,
		EnableBashCompletion: true,
		HideHelpCommand:      false,
		Commands: []*cli.Command{
			screenCommand(),
			checkCommand(),
			replyCommand(),
			evalCommand(),
			trainCommand(),
			corpusCommand(),
			threatModelCommand(),
			rulesCommand(),
			historyCommand(),
		},
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "more detail in the text output (the same as a command's own -v)"},
		},
		OnUsageError:   onUsageError,
		ExitErrHandler: func(*cli.Context, error) {}, // main decides
	}
	setUsageErrors(app.Commands)
	return app
}

// writeJSON writes v to standard output as indented JSON.
func writeJSON(c *cli.Context, v any) error {
	enc := json.NewEncoder(c.App.Writer)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// emit writes v as JSON when --format is json, or with text when it is
// text; another format is a usage error naming the command.
func emit(c *cli.Context, v any, text func(io.Writer) error) error {
	switch f := c.String("format"); f {
	case "json":
		return writeJSON(c, v)
	case "text":
		return text(c.App.Writer)
	default:
		return usageErr("%s: unknown format %q (want text or json)", c.Command.FullName(), f)
	}
}

// verbose reports whether -v was given to the command or before it.
func verbose(c *cli.Context) bool {
	for _, x := range c.Lineage() {
		if x.Bool("verbose") {
			return true
		}
	}
	return false
}

// version is the module version the binary was built from, or "devel".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SECSCREEN_CPUPROFILE=FILE writes a CPU profile of the run, for
	// scripts/bench and for anyone measuring (go tool pprof FILE).
	if path := os.Getenv("SECSCREEN_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			code := run(ctx, os.Args, os.Stdout, os.Stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(ctx, os.Args, os.Stdout, os.Stderr))
}

// run executes the app and maps its error to an exit code, printing one
// line for the user.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp()
	app.Writer, app.ErrWriter = stdout, stderr
	err := app.RunContext(ctx, flagsFirst(app, args))
	if err != nil && err.Error() != "" {
		fmt.Fprintf(stderr, "secscreen: %s\n", err)
	}
	return exit.Code(err)
}
