package cliapp

import (
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
func build(f cliflag.Flag) cli.Flag {
	n, a, u, dt, r := f.Name, f.Aliases, f.Usage, f.DefaultText, f.Required
	var env []string
	if f.Env != "" {
		env = []string{f.Env}
	}
	switch v := f.Default.(type) {
	case nil:
		return &cli.StringFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env}
	case string:
		return &cli.StringFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}
	case bool:
		return &cli.BoolFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}
	case int:
		return &cli.IntFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}
	case int64:
		return &cli.Int64Flag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}
	case uint64:
		return &cli.Uint64Flag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}
	case float64:
		return &cli.Float64Flag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}
	case time.Duration:
		return &cli.DurationFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Required: r, EnvVars: env, Value: v}
	}
	panic("cliapp: no flag type for --" + f.Name)
}
