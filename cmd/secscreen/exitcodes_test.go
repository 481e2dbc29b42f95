package main

import "github.com/secscreen/secscreen/internal/exit"

// The exit codes the tests expect (internal/exit).
const (
	exitOK          = exit.OK
	exitFailure     = exit.Failure
	exitUsage       = exit.Usage
	exitInputErrors = exit.InputErrors
	exitModelFailed = exit.ModelFailed
	exitInterrupted = exit.Interrupted
)
