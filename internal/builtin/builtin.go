// Package builtin is the one convention of the loaders of data built into
// the binary: threatmodel.Kernel (kernel.yaml), the threat-model document
// mapping (rstmap.yaml), screener.DefaultRoutes (routes.yaml),
// rules.KernelRules (the kernel rule pack and its weights),
// rules.KernelSeries (series.yaml), baseline.Embedded and EmbeddedOptions
// (model.bin). Each returns its data and panics, through Must, if the data
// does not decode, naming the file and how to rebuild it; none returns an
// error.
//
// Why a panic and not an error: the data is part of the program. It is
// embedded when the binary is built, checked when it is generated (go
// generate) and by the tests, which load every piece
// (TestEveryBuiltinLoaderSucceeds in cmd/secscreen), so nothing a user
// does or has can make it fail in a tested build. An error would make
// every caller handle a failure that cannot happen, and the callers that
// fill zero options with the built-in defaults have no error to return;
// html/template's Must and regexp.MustCompile treat literals the same way.
// Data the user names (a threat model, rule, series or model file) is read
// by other functions, which return errors.
package builtin

import "fmt"

// Must returns v, or panics with an error naming the built-in file (as
// "package: file") and, when rebuild is not "", the command that rebuilds
// it, wrapping err, when err is not nil.
func Must[T any](file, rebuild string, v T, err error) T {
	if err != nil {
		if rebuild != "" {
			panic(fmt.Errorf("built-in %s does not load (rebuild it with `%s`): %w", file, rebuild, err))
		}
		panic(fmt.Errorf("built-in %s does not load: %w", file, err))
	}
	return v
}
