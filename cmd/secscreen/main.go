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
	"syscall"

	"github.com/urfave/cli/v2"

	// Prepares a screening run's heap from an init, before the other
	// packages' inits fill it.
	_ "github.com/secscreen/secscreen/cmd/secscreen/internal/earlyheap"
	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/internal/gcstart"
)

func newApp() *cli.App {
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
	app := newApp()
	app.Writer, app.ErrWriter = stdout, stderr
	err := cliapp.RunErrors(app.RunContext(ctx, cliapp.FlagsFirst(app, args)))
	if err != nil && err.Error() != "" {
		fmt.Fprintf(stderr, "secscreen: %s\n", err)
	}
	return exit.Code(err)
}
