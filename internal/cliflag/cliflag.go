// Package cliflag describes command-line flags as data, so that the
// package that owns a command's options declares the command's flags
// beside them (name, default, help) and reads its options back from the
// parsed command line itself, while cmd/secscreen only wires commands
// together. internal/cliapp builds the urfave/cli flags from the
// descriptions in one loop. This package imports no CLI library, so that
// the packages owning options do not depend on one.
package cliflag

import (
	"fmt"
	"slices"
	"time"
)

// Flag describes one flag.
type Flag struct {
	// Name is the long name ("format"; a one-letter name is written "-n");
	// Aliases are the others ("f" for -f).
	Name    string
	Aliases []string
	// Env is the environment variable read when the flag is not given
	// ("" none); the help names it.
	Env string
	// Default is the value when the flag is not given. Its type is the
	// flag's: string, bool, int, int64, uint64, float64 or time.Duration;
	// nil is a string flag with no default.
	Default any
	// DefaultText, when set, is shown as the default in the help instead
	// of Default (a default that depends on something else).
	DefaultText string
	// Usage is the help; a `NAME` in back quotes is the value's
	// placeholder.
	Usage string
	// Required makes leaving the flag out a usage error.
	Required bool
}

// Values are the flags of a parsed command line, by name; a flag not given
// has its default. A *cli.Context of urfave/cli is one; Given makes one
// from a map.
type Values interface {
	String(name string) string
	Bool(name string) bool
	Int(name string) int
	Int64(name string) int64
	Uint64(name string) uint64
	Float64(name string) float64
	Duration(name string) time.Duration
	// IsSet reports whether the flag was given (on the command line or
	// through its variable).
	IsSet(name string) bool
}

// Replace returns flags with each of own in place of the flag of the same
// name, or after them when there is none: a command whose flag means more
// than the shared one's (eval's --corpus is the corpus it scores, not only
// the one --shots picks from) keeps the shared flag's place in the help.
func Replace(flags []Flag, own ...Flag) []Flag {
	out := slices.Clone(flags)
	for _, f := range own {
		if i := slices.IndexFunc(out, func(g Flag) bool { return g.Name == f.Name }); i >= 0 {
			out[i] = f
		} else {
			out = append(out, f)
		}
	}
	return out
}

// Given returns the Values of flags when the flags in given (by name, each
// a value of the flag's type) were given and the others were not: what a
// command line would give, for callers and tests without one. As on a
// command line, a name that is not one of flags reads as the zero value
// and as not set: readers shared by commands with fewer flags rely on it.
// Given panics on a name or a type in given that is not a flag's, and
// reading a flag as another type panics: either is a mistake in the
// caller.
func Given(flags []Flag, given map[string]any) Values {
	v := values{byName: map[string]Flag{}, given: given}
	for _, f := range flags {
		v.byName[f.Name] = f
	}
	for name, x := range given {
		f, ok := v.byName[name]
		if !ok {
			panic("cliflag: --" + name + " is not a flag")
		}
		if want, got := fmt.Sprintf("%T", f.value()), fmt.Sprintf("%T", x); want != got {
			panic(fmt.Sprintf("cliflag: --%s takes a %s, not a %s", name, want, got))
		}
	}
	return v
}

// value is the flag's default as a value of its type.
func (f Flag) value() any {
	if f.Default == nil {
		return ""
	}
	return f.Default
}

type values struct {
	byName map[string]Flag
	given  map[string]any
}

func get[T any](v values, name string) T {
	f, ok := v.byName[name]
	if !ok {
		var zero T
		return zero
	}
	x, ok := v.given[name]
	if !ok {
		x = f.value()
	}
	t, ok := x.(T)
	if !ok {
		panic(fmt.Sprintf("cliflag: --%s is a %T flag, read as a %T", name, x, t))
	}
	return t
}

func (v values) String(name string) string          { return get[string](v, name) }
func (v values) Bool(name string) bool              { return get[bool](v, name) }
func (v values) Int(name string) int                { return get[int](v, name) }
func (v values) Int64(name string) int64            { return get[int64](v, name) }
func (v values) Uint64(name string) uint64          { return get[uint64](v, name) }
func (v values) Float64(name string) float64        { return get[float64](v, name) }
func (v values) Duration(name string) time.Duration { return get[time.Duration](v, name) }

func (v values) IsSet(name string) bool {
	_, ok := v.given[name]
	return ok
}
