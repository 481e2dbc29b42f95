package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/urfave/cli/v2"
)

// flagHelp is the help line of each flag, in order.
func flagHelp(flags []cli.Flag) []string {
	var out []string
	for _, f := range flags {
		out = append(out, f.String())
	}
	return out
}

// The app built for a command line has the very flags of every command
// the command line names, at any depth, and no flags for the others: what
// runs or shows its help is built as newApp builds it.
func TestAppForACommandLineBuildsTheFlagsItNames(t *testing.T) {
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, full := range cmds {
			p := append(append([]string{}, path...), full.Name)
			named := newAppFor(commandLine{words: append([]string{"-v"}, p...)})
			cmd := find(named.Commands, p)
			if assert.NotNil(t, cmd, "%v", p) {
				assert.Equal(t, flagHelp(full.Flags), flagHelp(cmd.Flags), "%v named", p)
			}
			if len(full.Flags) > 0 {
				other := find(newAppFor(commandLine{words: []string{"nothing"}}).Commands, p)
				assert.Empty(t, other.Flags, "%v not named", p)
			}
			walk(p, full.Subcommands)
		}
	}
	app := newApp()
	walk(nil, app.Commands)
	assert.Equal(t, flagHelp(app.Flags), flagHelp(newAppFor(commandLine{}).Flags), "the global flags")
}

// find returns the command at path among cmds.
func find(cmds []*cli.Command, path []string) *cli.Command {
	var c *cli.Command
	for _, name := range path {
		c = nil
		for _, x := range cmds {
			if x.Name == name {
				c = x
			}
		}
		if c == nil {
			return nil
		}
		cmds = c.Subcommands
	}
	return c
}
