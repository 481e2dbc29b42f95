// Package exit holds secscreen's exit codes and the error that carries one
// from the package that knows what went wrong up to main, which prints the
// message and exits with the code. The codes are a contract with scripts:
// README.md and the command's help list them.
package exit

import (
	"errors"
	"fmt"
)

// The exit codes. check has codes of its own (advice.Action.ExitCode).
const (
	// OK: success.
	OK = 0
	// Failure: nothing or not everything could run, or an eval gate was
	// missed.
	Failure = 1
	// Usage: a bad flag, argument, setting or file named by the user.
	Usage = 2
	// InputErrors: the run finished, but some inputs could not be
	// screened (they appear as error rows).
	InputErrors = 3
	// ModelFailed: the run finished on the rules alone, as the model
	// never gave a valid answer or its server refused the credentials.
	ModelFailed = 4
	// Interrupted: stopped by a signal; what was done is kept.
	Interrupted = 130
)

// Help lists the exit codes, for the app's help.
const Help = `EXIT CODES:
   0    success
   1    failure (could not run, or an eval gate was missed)
   2    usage error (bad flag, argument or file format)
   3    finished, but some inputs could not be screened (shown as error rows)
   4    finished on the rules alone: the model never gave a valid answer, or its
        server refused the credentials (401/403) and no more calls were made
   130  interrupted by Ctrl-C; results already done were written
   check has its own codes (0 send to the security team, 3 send as an ordinary
   bug, 4 needs more information first, 5 not a bug): see secscreen check --help`

// Error is an error with the exit code it calls for.
type Error struct {
	// Code is the exit code.
	Code int
	// Err says what went wrong; an empty message prints nothing.
	Err error
}

// Error returns the message of Err.
func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// With returns err with the exit code code.
func With(code int, err error) error { return &Error{Code: code, Err: err} }

// Usagef returns a usage error (exit code 2) formatted as fmt.Errorf does.
func Usagef(format string, args ...any) error {
	return &Error{Code: Usage, Err: fmt.Errorf(format, args...)}
}

// Code is the exit code err calls for: OK for nil, the code of the first
// *Error in its chain, else Failure.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Failure
}
