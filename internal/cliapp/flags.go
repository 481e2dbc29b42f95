package cliapp

import (
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliflag"
)

// Flags builds the urfave/cli flags the descriptions give (cliflag), in
// their order: every flag of every command is made here.
func Flags(tables ...[]cliflag.Flag) []cli.Flag {
	var flags []cli.Flag
	for _, t := range tables {
		for _, f := range t {
			flags = append(flags, build(f))
		}
	}
	return flags
}

// build makes the urfave/cli flag of f's type; a type cliflag does not
// allow panics (cliapp's tests build every command's flags).
//
// Each flag is the library's own with its names worked out once (see
// names): urfave/cli asks a flag its names again and again, and works
// them out each time with a regular expression; after parsing, it asks
// whether each flag of the command is set, looking the flag up among all
// the command's flags by name, which made ~40 flags cost ~1,500
// regular-expression replacements (~1 ms) in every run.
func build(f cliflag.Flag) cli.Flag {
	n, a, u, dt, r := f.Name, f.Aliases, f.Usage, f.DefaultText, f.Required
	var env []string
	if f.Env != "" {
		env = []string{f.Env}
	}
	names := flagNames(n, a)
	switch v := f.Default.(type) {
	case nil:
		return &stringFlag{&cli.StringFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env}, names}
	case string:
		return &stringFlag{&cli.StringFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}, names}
	case bool:
		return &boolFlag{&cli.BoolFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}, names}
	case int:
		return &intFlag{&cli.IntFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}, names}
	case int64:
		return &int64Flag{&cli.Int64Flag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}, names}
	case uint64:
		return &uint64Flag{&cli.Uint64Flag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}, names}
	case float64:
		return &float64Flag{&cli.Float64Flag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}, names}
	case time.Duration:
		return &durationFlag{&cli.DurationFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}, names}
	}
	panic("cliapp: no flag type for --" + f.Name)
}

// flagNames is cli.FlagNames(name, aliases) without its regular
// expression ("[, ]+.*", which it removes from each name): each name with
// every run of commas and spaces cut out up to the end of its line.
func flagNames(name string, aliases []string) []string {
	names := make([]string, 0, 1+len(aliases))
	for _, s := range append([]string{name}, aliases...) {
		if !strings.ContainsAny(s, ", ") {
			names = append(names, s)
			continue
		}
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if s[i] != ',' && s[i] != ' ' {
				b.WriteByte(s[i])
				continue
			}
			for i+1 < len(s) && s[i+1] != '\n' {
				i++
			}
		}
		names = append(names, b.String())
	}
	return names
}

// The flag types build makes: urfave/cli's, with their names (flagNames)
// kept. Every other method is the library flag's own, so help, parsing
// and the optional interfaces (required, visible, documented) are its.
// The library tells a bool flag by its type in one place only, to show
// its default unless DisableDefaultText is set, which build never sets.
type (
	stringFlag struct {
		*cli.StringFlag
		names []string
	}
	boolFlag struct {
		*cli.BoolFlag
		names []string
	}
	intFlag struct {
		*cli.IntFlag
		names []string
	}
	int64Flag struct {
		*cli.Int64Flag
		names []string
	}
	uint64Flag struct {
		*cli.Uint64Flag
		names []string
	}
	float64Flag struct {
		*cli.Float64Flag
		names []string
	}
	durationFlag struct {
		*cli.DurationFlag
		names []string
	}
)

// Names returns the flag's name and aliases.
func (f *stringFlag) Names() []string { return f.names }

// Names returns the flag's name and aliases.
func (f *boolFlag) Names() []string { return f.names }

// Names returns the flag's name and aliases.
func (f *intFlag) Names() []string { return f.names }

// Names returns the flag's name and aliases.
func (f *int64Flag) Names() []string { return f.names }

// Names returns the flag's name and aliases.
func (f *uint64Flag) Names() []string { return f.names }

// Names returns the flag's name and aliases.
func (f *float64Flag) Names() []string { return f.names }

// Names returns the flag's name and aliases.
func (f *durationFlag) Names() []string { return f.names }

// isBool reports whether f is a bool flag, which takes no value.
func isBool(f cli.Flag) bool {
	switch f.(type) {
	case *cli.BoolFlag, *boolFlag:
		return true
	}
	return false
}
