package advice

import (
	"context"
	"errors"
	"fmt"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
)

// exitCodes are check's exit codes, for scripts and pre-send hooks
// (README, "secscreen check"). 1 is a failure and 2 a usage error, as for
// every command, so the actions take 0, 3, 4 and 5.
var exitCodes = map[Action]int{
	SendSecurity: 0,
	SendOrdinary: 3,
	FixFirst:     4,
	DoNotSend:    5,
}

// ExitCodesHelp lists check's exit codes, for its help.
const ExitCodesHelp = `EXIT CODES:
   0    send it to the security team (privately, to the maintainers with the
        security team in Cc)
   3    not a security bug: send it as an ordinary bug (publicly, or to the vendor)
   4    it needs more information before it is sent
   5    not a bug: do not send it
   1    check failed (the input could not be read)
   2    usage error (bad flag, argument or file format)
   130  interrupted`

// ExitCode is secscreen check's exit code for the action.
func (a Action) ExitCode() int { return exitCodes[a] }

// Check reads one report from inputs, screens it with s and advises on it.
// Every message the inputs hold is part of the report: a cover letter and
// its patches (b4 send -o, git format-patch) are read as one thread. It
// fails when an input cannot be read, holds no report, or the report
// cannot be screened; when ctx is cancelled, its error wraps ctx.Err().
func Check(ctx context.Context, s *screener.Screener, inputs []string, in intake.Options, opt Options) (Advice, error) {
	var msgs []*intake.Report
	for it := range intake.Read(ctx, inputs, in) {
		if it.Err != nil {
			return Advice{}, fmt.Errorf("%s: %w", it.Source, it.Err)
		}
		msgs = append(msgs, it.Report)
	}
	if err := ctx.Err(); err != nil {
		return Advice{}, err
	}
	r, err := intake.JoinThread(msgs)
	if err != nil {
		return Advice{}, fmt.Errorf("%s: no report found", inputs[0])
	}
	res := s.Screen(ctx, r)
	if res.Failed() {
		return Advice{}, errors.New(*res.Error)
	}
	if err := ctx.Err(); err != nil {
		return Advice{}, err
	}
	return Build(res, opt), nil
}
