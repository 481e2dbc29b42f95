package main

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/replies"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/batch"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/setup"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Flags that name the data files of a run (setup.Files) and of its advice.
var (
	threatModelFlag = &cli.StringFlag{Name: "threat-model", EnvVars: []string{"SECSCREEN_THREAT_MODEL"},
		Usage: "threat model `FILE` (kernel RST, Markdown or YAML); default: the built-in kernel model"}
	rulesFlag  = &cli.StringFlag{Name: "rules", Usage: "rule `FILE` (YAML) that adds rules to the threat model's rule pack or overrides them by id"}
	seriesFlag = &cli.StringFlag{Name: "series", Usage: "maintained kernel series `FILE` (YAML) replacing the built-in list"}
	sourceFlag = &cli.StringFlag{Name: "source",
		Usage: "kernel source `DIR` (a tree, or a git checkout read at the version a report names): cited files, functions, CONFIG options and syscalls it lacks are evidence for invalid.nonexistent"}
	maintainersFlag = &cli.StringFlag{Name: "maintainers",
		Usage: "the kernel's MAINTAINERS `FILE`: name the maintainers and lists of the files a report cites, as get_maintainer.pl does"}
	replyTemplateFlag = &cli.StringFlag{Name: "reply-template",
		Usage: "reply wording: NAME@VERSION (built-in: " + strings.Join(replies.List(), ", ") + ") or a template `FILE`"}
)

// settingFlags are the flags of config's settings in group g, named,
// typed, defaulted and explained as config.Table says, with the variable
// that stands for each in its help: config.Resolve reads the variables
// itself (flags > environment > file), so the flags do not.
func settingFlags(g config.Group) []cli.Flag {
	var flags []cli.Flag
	for _, st := range config.Table() {
		if st.Flag == "" || st.Group != g {
			continue
		}
		n, a, u, dt := st.Flag, st.Aliases, st.Usage, st.DefaultText
		if st.Env != "" {
			u += " [$" + st.Env + "]"
		}
		switch v := cmp.Or(intakeDefaults[n], st.Default).(type) {
		case string:
			flags = append(flags, &cli.StringFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		case bool:
			flags = append(flags, &cli.BoolFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		case int:
			flags = append(flags, &cli.IntFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		case int64:
			flags = append(flags, &cli.Int64Flag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		case float64:
			flags = append(flags, &cli.Float64Flag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		case time.Duration:
			flags = append(flags, &cli.DurationFlag{Name: n, Aliases: a, Usage: u, DefaultText: dt, Value: v})
		default:
			panic("no flag type for --" + n) // TestGeneratedFlagsAgreeWithResolve catches it
		}
	}
	return flags
}

// intakeDefaults are the limits the settings' 0 stands for, shown as the
// flags' defaults.
var intakeDefaults = map[string]any{"max-message-bytes": intake.DefaultMaxMessageBytes, "max-attachment-bytes": intake.DefaultMaxAttachmentBytes}

// inputFlags are the flags that control reading reports.
func inputFlags() []cli.Flag {
	return append([]cli.Flag{&cli.StringFlag{Name: "input-format", Value: "auto",
		Usage: "input `KIND`: auto (detect from content), email, mbox, maildir, jsonl, text"}}, settingFlags(config.InputGroup)...)
}

// pipelineFlags are the flags that build the screener: threat model,
// rules, and the settings' model and run options. A flag of own replaces
// the setting's flag of the same name (eval's --corpus is the corpus it
// scores, not only the one --shots picks from).
func pipelineFlags(own ...cli.Flag) []cli.Flag {
	flags := append([]cli.Flag{threatModelFlag, rulesFlag, seriesFlag}, settingFlags(config.ScreeningGroup)...)
	for _, f := range own {
		i := slices.IndexFunc(flags, func(g cli.Flag) bool { return g.Names()[0] == f.Names()[0] })
		if i < 0 {
			flags = append(flags, f)
		} else {
			flags[i] = f
		}
	}
	return flags
}

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
		return config.Settings{}, usageErr("%w", err)
	}
	return s, nil
}

// intakeOptions are the input flags with the limits the settings give.
func intakeOptions(c *cli.Context, s config.Settings) (intake.Options, error) {
	f, err := intake.ParseFormat(c.String("input-format"))
	if err != nil {
		return intake.Options{}, usageErr("%w", err)
	}
	return intake.Options{Format: f, Limits: intake.Limits{MaxMessageBytes: s.MessageBytes, MaxAttachmentBytes: s.AttachmentBytes}}, nil
}

// files are the data files the flags name.
func files(c *cli.Context) setup.Files {
	return setup.Files{ThreatModel: c.String(threatModelFlag.Name), Rules: c.String(rulesFlag.Name),
		Series: c.String(seriesFlag.Name), Source: c.String(sourceFlag.Name)}
}

// job is what a command that reads and screens reports takes from its
// flags and arguments.
func job(c *cli.Context) (batch.Job, error) {
	set, err := resolveSettings(c)
	if err != nil {
		return batch.Job{}, err
	}
	in, err := intakeOptions(c, set)
	if err != nil {
		return batch.Job{}, err
	}
	return batch.Job{Settings: set, Files: files(c), Inputs: c.Args().Slice(), Intake: in, Stdout: c.App.Writer, Stderr: c.App.ErrWriter,
		Maintainers: c.String(maintainersFlag.Name), ReplyTemplate: c.String(replyTemplateFlag.Name)}, nil
}

// loadThreatModel returns the model --threat-model names, or the built-in
// kernel model.
func loadThreatModel(c *cli.Context) (*threatmodel.Model, error) {
	return setup.LoadThreatModel(c.String(threatModelFlag.Name))
}

// loadThreatModelAndRules loads the threat model and the rule engine the
// flags name (setup.Files.Load).
func loadThreatModelAndRules(c *cli.Context) (*threatmodel.Model, *rules.Engine, error) {
	return files(c).Load(c.App.ErrWriter)
}

// buildPipeline assembles the screener the settings and flags describe
// (setup.Build).
func buildPipeline(c *cli.Context, s config.Settings, progress func(screener.Summary)) (*setup.Pipeline, error) {
	return setup.Build(c.Context, s, files(c), setup.Options{Log: c.App.ErrWriter, Progress: progress})
}
