package setup

import (
	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/intake"
)

// The flags that name the data files of a run, one per field of Files.
var (
	ThreatModelFlag = cliflag.Flag{Name: "threat-model", Env: "SECSCREEN_THREAT_MODEL",
		Usage: "threat model `FILE` (kernel RST, Markdown or YAML); default: the built-in kernel model"}
	RulesFlag  = cliflag.Flag{Name: "rules", Usage: "rule `FILE` (YAML) that adds rules to the threat model's rule pack or overrides them by id"}
	SeriesFlag = cliflag.Flag{Name: "series", Usage: "maintained kernel series `FILE` (YAML) replacing the built-in list"}
	SourceFlag = cliflag.Flag{Name: "source",
		Usage: "kernel source `DIR` (a tree, or a git checkout read at the version a report names): cited files, functions, CONFIG options and syscalls it lacks are evidence for invalid.nonexistent"}
)

// ModelFlags name the threat model and the rules screened with it.
var ModelFlags = []cliflag.Flag{ThreatModelFlag, RulesFlag, SeriesFlag}

// FilesFrom returns the files the flags name; a command without one of
// the flags gets the built-in file (or no source tree).
func FilesFrom(v cliflag.Values) Files {
	return Files{ThreatModel: v.String(ThreatModelFlag.Name), Rules: v.String(RulesFlag.Name),
		Series: v.String(SeriesFlag.Name), Source: v.String(SourceFlag.Name)}
}

// PipelineFlags are the flags of the commands that build a screener: the
// model's files and the screening settings (config.ScreeningGroup).
func PipelineFlags() []cliflag.Flag {
	return append(append([]cliflag.Flag{}, ModelFlags...), config.Flags(config.ScreeningGroup)...)
}

// inputFormatFlag is the intake format of the reports.
var inputFormatFlag = cliflag.Flag{Name: "input-format", Default: "auto",
	Usage: "input `KIND`: auto (detect from content), email, mbox, maildir, jsonl, text"}

// InputFlags are the flags of the commands that read reports: the format
// and the limits of the settings (config.InputGroup), whose default 0
// stands for intake's limits, which the flags show as their defaults.
func InputFlags() []cliflag.Flag {
	flags := append([]cliflag.Flag{inputFormatFlag}, config.Flags(config.InputGroup)...)
	for i, f := range flags {
		switch f.Name {
		case "max-message-bytes":
			flags[i].Default = intake.DefaultMaxMessageBytes
		case "max-attachment-bytes":
			flags[i].Default = intake.DefaultMaxAttachmentBytes
		}
	}
	return flags
}

// IntakeOptions are the input flags' format with the limits s gives; an
// unknown format is a usage error.
func IntakeOptions(v cliflag.Values, s config.Settings) (intake.Options, error) {
	f, err := intake.ParseFormat(v.String(inputFormatFlag.Name))
	if err != nil {
		return intake.Options{}, exit.Usagef("%w", err)
	}
	return intake.Options{Format: f, Limits: intake.Limits{MaxMessageBytes: s.MessageBytes, MaxAttachmentBytes: s.AttachmentBytes}}, nil
}
