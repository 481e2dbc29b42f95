package batch

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/advice"
	"github.com/secscreen/secscreen/screener/setup"
)

// Check is a check run: advice on one report (its Inputs, read as one
// thread) before it is sent.
type Check struct {
	Job
	// Format is text (advice for a person) or json (docformat).
	Format string
	// AIAssisted says a tool helped find or write the report.
	AIAssisted bool
}

// Run screens the report and writes the advice. Its error carries the exit
// code: the advice's own (advice.Action.ExitCode; an error with no text
// when the run went well), usage, failure or interrupted.
func (o Check) Run(ctx context.Context) error {
	f, err := docformat.Parse(o.Format)
	if err != nil {
		return exit.Usagef("check: %w", err)
	}
	p, err := setup.Build(ctx, o.Settings, o.Files, setup.Options{Log: o.Stderr, SmallInput: setup.SmallInputs(o.Inputs)})
	if err != nil {
		return err
	}
	opt, err := p.Advice(o.Maintainers, o.AIAssisted, o.Stderr)
	if err != nil {
		return err
	}
	a, err := advice.Check(ctx, p.Screener, o.Inputs, o.Intake, opt)
	if ctx.Err() != nil {
		return exit.With(exit.Interrupted, errors.New("interrupted"))
	} else if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if err := docformat.Write(o.Stdout, f, a, func(w io.Writer) error { return advice.WriteText(w, a) }); err != nil {
		return fmt.Errorf("check: write: %w", err)
	}
	if code := a.Action.ExitCode(); code != 0 {
		return exit.With(code, errors.New(""))
	}
	return nil
}
