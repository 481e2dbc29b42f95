package batch

import (
	"io"
	"slices"
	"strings"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/replies"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/history"
	"github.com/secscreen/secscreen/screener/setup"
)

// MaintainersFlag is the flag of Job's advice's MAINTAINERS file.
var MaintainersFlag = cliflag.Flag{Name: "maintainers",
	Usage: "the kernel's MAINTAINERS `FILE`: name the maintainers and lists of the files a report cites, as get_maintainer.pl does"}

// replyTemplateName is the name of the flag of the replies' wording.
const replyTemplateName = "reply-template"

// replyTemplateFlag is the flag of the replies' wording. Its usage lists
// the built-in templates, which are read (a directory walk of the
// embedded files and a regexp to order their versions) when a command's
// flags are built, not at every start.
func replyTemplateFlag() cliflag.Flag {
	return cliflag.Flag{Name: replyTemplateName,
		Usage: "reply wording: NAME@VERSION (built-in: " + strings.Join(replies.List(), ", ") + ") or a template `FILE`"}
}

// NewJob returns the job the flags v, the merged settings s (config.Resolve
// of the same command line) and the inputs describe, writing to stdout and
// stderr. An unknown --input-format is a usage error.
func NewJob(v cliflag.Values, s config.Settings, inputs []string, stdout, stderr io.Writer) (Job, error) {
	in, err := setup.IntakeOptions(v, s)
	if err != nil {
		return Job{}, err
	}
	return Job{Settings: s, Files: setup.FilesFrom(v), Inputs: inputs, Intake: in, Stdout: stdout, Stderr: stderr,
		Maintainers: v.String(MaintainersFlag.Name), ReplyTemplate: v.String(replyTemplateName)}, nil
}

// screenFlags are screen's own flags, in the order of its help, but for
// the last two (the replies' wording and MaintainersFlag: see ScreenFlags).
var screenFlags = []cliflag.Flag{
	{Name: "format", Aliases: []string{"f"}, Default: "text", Usage: "output `FORMAT`: text, json, jsonl, csv, md, html"},
	{Name: "output", Aliases: []string{"o"}, Usage: "write results to `FILE` instead of standard output"},
	{Name: "verbose", Aliases: []string{"v"}, Default: false, Usage: "text format: show route, review reason and every rule that fired"},
	{Name: "quiet", Aliases: []string{"q"}, Default: false, Usage: "no progress line and no summary on standard error"},
	{Name: "resume", Default: false, Usage: "continue into the JSONL output named by -o: skip the reports it already has a row for (same id and content), repair a half-written last line, append the rest"},
	{Name: "no-threads", Default: false, Usage: "screen every message alone, replies included (by default a reply is folded into the report it answers within the same input, or into the thread an earlier run recorded in the history)"},
	{Name: "since-last", Default: false, Usage: "public-inbox and Maildir inputs: screen only what arrived since the last --since-last run (see --state)"},
	{Name: "state", Usage: "the `FILE` --since-last remembers what it read in (default $XDG_STATE_HOME/secscreen/since-last.json)"},
	setup.SourceFlag,
	{Name: "replies", Usage: "draft a reply to each report that is not a security bug, one file each in `DIR` (see secscreen reply)"},
}

// noHistoryFlag screens without the history.
var noHistoryFlag = cliflag.Flag{Name: "no-history", Default: false,
	Usage: "neither look reports up in the history nor record them (duplicates within the run are still found)"}

// ScreenFlags are the flags of the screen command: its own, the input
// flags, the pipeline's (setup) and the history's.
func ScreenFlags() []cliflag.Flag {
	return slices.Concat(screenFlags, []cliflag.Flag{replyTemplateFlag(), MaintainersFlag}, setup.InputFlags(), setup.PipelineFlags(),
		[]cliflag.Flag{history.Flag, noHistoryFlag})
}

// NewScreen returns the screen run of j the flags v describe (ScreenFlags),
// all but Verbose: -v given before the command counts too, which only the
// command line knows.
func NewScreen(v cliflag.Values, j Job) Screen {
	j.Intake.Threads = !v.Bool("no-threads")
	return Screen{Job: j, Format: v.String("format"), FormatGiven: v.IsSet("format"), Output: v.String("output"),
		Resume: v.Bool("resume"), SinceLast: v.Bool("since-last"), State: v.String("state"), Quiet: v.Bool("quiet"),
		Replies: v.String("replies"), History: v.String(history.Flag.Name), NoHistory: v.Bool(noHistoryFlag.Name)}
}

// replyFlags are reply's own flags, in the order of its help.
func replyFlags() []cliflag.Flag {
	return []cliflag.Flag{
		{Name: "dir", Aliases: []string{"o"}, Usage: "write each reply to a file in `DIR` (created, readable only by you); default: all replies to standard output as an mbox"},
		replyTemplateFlag(), MaintainersFlag, setup.SourceFlag,
		{Name: "category", Usage: "answer with this threat-model `ID` (a person's decision) instead of the screening's label; no model is asked"},
	}
}

// ReplyFlags are the flags of the reply command: its own, the input flags
// and the pipeline's (setup).
func ReplyFlags() []cliflag.Flag {
	return slices.Concat(replyFlags(), setup.InputFlags(), setup.PipelineFlags())
}

// NewReply returns the reply run of j the flags v describe (ReplyFlags).
func NewReply(v cliflag.Values, j Job) Reply {
	return Reply{Job: j, Dir: v.String("dir"), Category: v.String("category")}
}

// checkFlags are check's own flags, in the order of its help.
var checkFlags = []cliflag.Flag{
	{Name: "format", Aliases: []string{"f"}, Default: "text", Usage: "`FORMAT`: text (advice for a person) or json (for tools)"},
	MaintainersFlag, setup.SourceFlag,
	{Name: "ai-assisted", Default: false, Usage: "a tool helped find or write the report: the kernel then treats the bug as public (its reproducer excepted)"},
}

// CheckFlags are the flags of the check command: its own, the input flags
// and the pipeline's (setup).
func CheckFlags() []cliflag.Flag {
	return slices.Concat(checkFlags, setup.InputFlags(), setup.PipelineFlags())
}

// NewCheck returns the check run of j the flags v describe (CheckFlags).
func NewCheck(v cliflag.Values, j Job) Check {
	return Check{Job: j, Format: v.String("format"), AIAssisted: v.Bool("ai-assisted")}
}
