package main

import (
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/batch"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/setup"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// resolveSettings merges the flags given on the command line with the
// environment and the config file (config.Resolve), once per command.
func resolveSettings(c *cli.Context) (config.Settings, error) {
	// The flags given, by any of their names or their environment
	// variables: c.IsSet per flag would look every flag's names up again
	// (urfave/cli runs a regular expression over each name it reads,
	// ~1 ms of a one-report run for the ~40 flags).
	set := map[string]bool{}
	for _, name := range c.LocalFlagNames() {
		set[name] = true
	}
	given := map[string]any{}
	for _, f := range c.Command.Flags {
		names := f.Names()
		if slices.ContainsFunc(names, func(n string) bool { return set[n] }) {
			given[names[0]] = c.Value(names[0])
		}
	}
	s, err := config.Resolve(config.Input{Flags: given})
	if err != nil {
		return config.Settings{}, exit.Usagef("%w", err)
	}
	return s, nil
}

// job is what a command that reads and screens reports takes from its
// flags and arguments.
func job(c *cli.Context) (batch.Job, error) {
	set, err := resolveSettings(c)
	if err != nil {
		return batch.Job{}, err
	}
	return batch.NewJob(c, set, c.Args().Slice(), c.App.Writer, c.App.ErrWriter)
}

// inputsAction is the action of a command that screens its INPUT
// arguments (screen, reply): run with the job its flags and arguments
// describe.
func inputsAction(run func(*cli.Context, batch.Job) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() == 0 {
			return exit.Usagef("%s: name at least one INPUT (a file, a directory, or - for standard input)", c.Command.Name)
		}
		j, err := job(c)
		if err != nil {
			return err
		}
		return run(c, j)
	}
}

// loadThreatModel returns the model --threat-model names, or the built-in
// kernel model.
func loadThreatModel(c *cli.Context) (*threatmodel.Model, error) {
	return setup.LoadThreatModel(c.String(setup.ThreatModelFlag.Name))
}

// loadThreatModelAndRules loads the threat model and the rule engine the
// flags name (setup.Files.Load).
func loadThreatModelAndRules(c *cli.Context) (*threatmodel.Model, *rules.Engine, error) {
	return setup.FilesFrom(c).Load(c.App.ErrWriter)
}
