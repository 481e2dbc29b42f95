package batch

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/config"
)

const examples = "../../examples"

// job screens the examples with the rules alone, away from the user's
// config, history and state.
func job(t *testing.T, inputs ...string) (Job, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	for _, v := range []string{"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"} {
		t.Setenv(v, t.TempDir())
	}
	s, err := config.Resolve(config.Input{Flags: map[string]any{"backend": "rules"}, Getenv: func(string) string { return "" }})
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	return Job{Settings: s, Inputs: inputs, Stdout: &out, Stderr: &errOut}, &out, &errOut
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var ls []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		ls = append(ls, sc.Text())
	}
	return ls
}

func TestScreenWritesARowPerInputAndTheSummary(t *testing.T) {
	j, out, errOut := job(t, examples)
	path := filepath.Join(t.TempDir(), "rows.jsonl")
	require.NoError(t, Screen{Job: j, Format: "text", Output: path}.Run(context.Background()))
	assert.Empty(t, out.String(), "the rows went to the file")
	assert.Len(t, lines(t, path), 5, "-o rows.jsonl writes JSONL without -f")
	summary := errOut.String()
	assert.Contains(t, summary, "5 inputs, 5 rows: 5 screened, 0 errors")
	assert.Contains(t, summary, "duplicates: 0 of earlier reports")
	assert.Contains(t, summary, "; history ", "the default history records the run")

	// Resumed, the run skips every report the file has.
	j, _, errOut = job(t, examples)
	require.NoError(t, Screen{Job: j, Format: "jsonl", FormatGiven: true, Output: path, Resume: true, NoHistory: true}.Run(context.Background()))
	assert.Len(t, lines(t, path), 5)
	assert.Contains(t, errOut.String(), "resumed "+path)
	assert.NotContains(t, errOut.String(), "; history ")

	j, _, errOut = job(t, examples)
	require.NoError(t, Screen{Job: j, Format: "text", Output: path, Quiet: true, NoHistory: true}.Run(context.Background()))
	assert.Empty(t, errOut.String(), "quiet")
}

func TestScreenUsageErrors(t *testing.T) {
	for want, o := range map[string]Screen{
		"--resume continues a JSONL output": {Format: "text", Resume: true},
		"--state goes with --since-last":    {Format: "text", State: "state.json"},
		`unknown output format "xml"`:       {Format: "xml"},
	} {
		j, _, _ := job(t, examples)
		o.Job = j
		err := o.Run(context.Background())
		assert.Equal(t, exit.Usage, exit.Code(err), "%s: %v", want, err)
		assert.ErrorContains(t, err, want)
	}
}

func TestScreenAnUnreadableInputIsAnErrorRow(t *testing.T) {
	j, out, _ := job(t, examples+"/05-vague-report.txt", filepath.Join(t.TempDir(), "missing.eml"))
	err := Screen{Job: j, Format: "jsonl", NoHistory: true}.Run(context.Background())
	assert.Equal(t, exit.InputErrors, exit.Code(err), "%v", err)
	assert.EqualError(t, err, "1 of 2 inputs could not be screened (see their error rows)")
	assert.Equal(t, 2, strings.Count(out.String(), "\n"), "one row each")
}

func TestScreenSinceLastReadsWhatIsNew(t *testing.T) {
	maildir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		require.NoError(t, os.Mkdir(filepath.Join(maildir, sub), 0o755))
	}
	msg, err := os.ReadFile(examples + "/01-pipe-splice-overwrite.eml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(maildir, "new", "1.host"), msg, 0o600))
	state := filepath.Join(t.TempDir(), "state.json")

	j, out, _ := job(t, maildir)
	require.NoError(t, Screen{Job: j, Format: "jsonl", SinceLast: true, State: state, NoHistory: true}.Run(context.Background()))
	assert.Equal(t, 1, strings.Count(out.String(), "\n"))
	out.Reset()
	require.NoError(t, Screen{Job: j, Format: "jsonl", SinceLast: true, State: state, NoHistory: true}.Run(context.Background()))
	assert.Empty(t, out.String(), "nothing arrived since")
}

func TestOutcomeOfARun(t *testing.T) {
	for code, sum := range map[int]screener.Summary{
		exit.Interrupted: {Cancelled: true, Errors: 1},
		exit.ModelFailed: {ModelRefused: true},
		exit.InputErrors: {Inputs: 2, Errors: 1, ModelCalls: 2, ModelFailures: 1},
	} {
		assert.Equal(t, code, exit.Code(outcome(sum)), "%+v", sum)
	}
	err := outcome(screener.Summary{ModelCalls: 3, ModelFailures: 3})
	assert.Equal(t, exit.ModelFailed, exit.Code(err))
	assert.ErrorContains(t, err, "no valid answer for any of 3 reports")
	assert.NoError(t, outcome(screener.Summary{Inputs: 1, Results: 1}))
}

func TestReplyAnswersAsThePersonDecided(t *testing.T) {
	j, out, errOut := job(t, examples+"/02-tc-uaf-needs-net-admin.eml")
	j.Settings.Backend = "auto" // --category asks no model, whatever is configured
	require.NoError(t, Reply{Job: j, Category: "config.out-of-tree"}.Run(context.Background()))
	assert.True(t, strings.HasPrefix(out.String(), "From secscreen "), "an mbox on standard output")
	assert.Contains(t, out.String(), "vendor of that module")
	assert.Contains(t, errOut.String(), "1 replies drafted")

	j, _, _ = job(t, examples+"/02-tc-uaf-needs-net-admin.eml")
	err := Reply{Job: j, Category: "no.such"}.Run(context.Background())
	assert.Equal(t, exit.Usage, exit.Code(err))
	assert.ErrorContains(t, err, "not a category")

	j, _, _ = job(t, examples)
	j.ReplyTemplate = "nosuch@v9"
	err = Reply{Job: j, Dir: t.TempDir()}.Run(context.Background())
	assert.Equal(t, exit.Usage, exit.Code(err))
	assert.ErrorContains(t, err, "--reply-template")
}

// The history opens beside the rules' loading: its error still comes
// first, as when it opened before them, and a run that then fails
// otherwise still says why.
func TestScreenHistoryErrorComesFirst(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o600))
	unopenable := filepath.Join(blocker, "history.db") // under a file

	j, _, _ := job(t, examples)
	j.Files.ThreatModel = "testdata/nosuch.rst"
	err := Screen{Job: j, Format: "text", History: unopenable}.Run(context.Background())
	assert.Equal(t, exit.Failure, exit.Code(err), "%v", err)
	assert.ErrorContains(t, err, "--no-history screens without one")

	j, _, _ = job(t, examples)
	err = Screen{Job: j, Format: "text", History: unopenable}.Run(context.Background())
	assert.Equal(t, exit.Failure, exit.Code(err), "%v", err)
	assert.ErrorContains(t, err, "--no-history screens without one")

	j, _, _ = job(t, examples)
	j.Files.ThreatModel = "testdata/nosuch.rst"
	err = Screen{Job: j, Format: "text", History: filepath.Join(t.TempDir(), "history.db")}.Run(context.Background())
	assert.Equal(t, exit.Usage, exit.Code(err), "%v", err)
	assert.ErrorContains(t, err, "threat model: ")
}
