package cliapp

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// FlagsFirst moves the flags a user wrote after the inputs of a command
// ("screen inbox/ -f json") in front of them, because urfave/cli stops
// reading flags at the first argument and would take "-f" and "json" for
// inputs. It knows which flags take a value from the command's own flag
// definitions. "--" ends flags as usual, and "-" (standard input) is an
// input, not a flag.
func FlagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	cmds, i := app.Commands, 1
	var cmd *cli.Command
	for i < len(args) {
		next := findCommand(cmds, args[i])
		if next == nil {
			break
		}
		cmd, cmds = next, next.Subcommands
		i++
	}
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		for _, name := range f.Names() {
			takesValue[name] = !isBool(f)
		}
	}

	out := append([]string{}, args[:i]...)
	var flags, inputs []string
	for j := i; j < len(args); j++ {
		a := args[j]
		switch {
		case a == "--":
			inputs = append(inputs, args[j:]...)
			j = len(args)
		case a == "-" || !strings.HasPrefix(a, "-"):
			inputs = append(inputs, a)
		default:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if k := strings.IndexByte(name, '='); k >= 0 {
				continue // --name=value
			}
			if takesValue[name] && j+1 < len(args) {
				j++
				flags = append(flags, args[j])
			}
		}
	}
	return append(append(out, flags...), inputs...)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
