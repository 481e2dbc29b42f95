// Command secscreen screens security bug reports against a project's threat
// model (the Linux kernel's by default), with deterministic rules and,
// optionally, a language model. Run "secscreen help" for the commands.
//
// Its exit codes (internal/exit; "secscreen help" lists them) tell scripts
// how a run went; check has its own, for pre-send hooks.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"syscall"

	"github.com/urfave/cli/v2"

	// Prepares the run's heap for huge pages from an init, before the other
	// packages' inits fill it.
	_ "github.com/secscreen/secscreen/cmd/secscreen/internal/earlyheap"
	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/internal/gcstart"
)

// newApp returns the app with every command's flags: for the tests and
// anything that shows or walks all of them.
func newApp() *cli.App { return newAppFor(commandLine{every: true}) }

// commandLine says which commands newAppFor builds the flags of: every
// command's (every), or those of the commands a word of the command line
// names. A command the command line does not name neither runs nor shows
// its flags (help lists commands by name and usage), and building the
// ~200 flags of every command was ~0.5 ms of CPU in every run. A word
// that names a command without being one (an input called "list") only
// builds flags that are not used.
type commandLine struct {
	every bool
	words []string
}

// flags returns what build makes when the command line names the command
// name (or asks for every command), and nil otherwise.
func (l commandLine) flags(name string, build func() []cli.Flag) []cli.Flag {
	if l.every || slices.Contains(l.words, name) {
		return build()
	}
	return nil
}

// newAppFor returns the app with the flags of the commands cl names.
func newAppFor(cl commandLine) *cli.App {
	// -v means verbose everywhere: the version is --version only.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
	app := &cli.App{
		Name:                 "secscreen",
		Version:              cliapp.Version(),
		Usage:                "screen security bug reports against a threat model",
		Description:          "secscreen reads reports (email, mbox, Maildir, JSONL, text), checks them with\ndeterministic rules and optionally a model, and says which are security bugs.\n\n" + exit.Help,
		EnableBashCompletion: true,
		HideHelpCommand:      false,
		Commands: []*cli.Command{
			screenCommand(cl),
			checkCommand(cl),
			replyCommand(cl),
			evalCommand(cl),
			trainCommand(cl),
			corpusCommand(cl),
			threatModelCommand(cl),
			rulesCommand(cl),
			historyCommand(cl),
		},
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "more detail in the text output (the same as a command's own -v)"},
		},
		ExitErrHandler: func(*cli.Context, error) {}, // main decides
	}
	cliapp.UsageErrors(app)
	return app
}

func main() {
	gcstart.Begin(gcstart.Window, gcstart.Limit) // a short run ends before a collection is worth it
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
	app := newAppFor(commandLine{words: args[min(1, len(args)):]})
	app.Writer, app.ErrWriter = stdout, stderr
	err := cliapp.RunErrors(app.RunContext(ctx, cliapp.FlagsFirst(app, args)))
	if err != nil && err.Error() != "" {
		fmt.Fprintf(stderr, "secscreen: %s\n", err)
	}
	return exit.Code(err)
}
