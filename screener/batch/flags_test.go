package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/advice"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/setup"
)

func TestNewJobTakesTheFilesInputAndAdviceFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	s := config.Defaults()
	s.MessageBytes = 1000
	v := cliflag.Given(ScreenFlags(), map[string]any{"threat-model": "tm.md", "source": "linux", "input-format": "jsonl",
		"maintainers": "MAINTAINERS", "reply-template": "reply@v1"})
	j, err := NewJob(v, s, []string{"a", "-"}, &out, &errOut)
	require.NoError(t, err)
	assert.Equal(t, Job{Settings: s, Files: setup.Files{ThreatModel: "tm.md", Source: "linux"}, Inputs: []string{"a", "-"},
		Intake:      intake.Options{Format: intake.FormatJSONL, Limits: intake.Limits{MaxMessageBytes: 1000}},
		Maintainers: "MAINTAINERS", ReplyTemplate: "reply@v1", Stdout: &out, Stderr: &errOut}, j)

	_, err = NewJob(cliflag.Given(ScreenFlags(), map[string]any{"input-format": "pdf"}), s, nil, &out, &errOut)
	assert.Equal(t, exit.Usage, exit.Code(err))
}

func TestNewScreenReadsEveryOwnFlag(t *testing.T) {
	j := Job{Inputs: []string{"x"}}
	s := NewScreen(cliflag.Given(ScreenFlags(), nil), j)
	j.Intake.Threads = true
	assert.Equal(t, Screen{Job: j, Format: "text"}, s, "the defaults: replies folded into threads, the default history")

	s = NewScreen(cliflag.Given(ScreenFlags(), map[string]any{"format": "jsonl", "output": "o.jsonl", "verbose": true, "quiet": true,
		"resume": true, "no-threads": true, "since-last": true, "state": "st.json", "replies": "drafts", "history": "h.db", "no-history": true}), Job{})
	assert.Equal(t, Screen{Format: "jsonl", FormatGiven: true, Output: "o.jsonl", Quiet: true, Resume: true, SinceLast: true,
		State: "st.json", Replies: "drafts", History: "h.db", NoHistory: true}, s, "all but Verbose, which the caller sets")
}

func TestNewReplyAndNewCheck(t *testing.T) {
	j := Job{Inputs: []string{"x"}}
	assert.Equal(t, Reply{Job: j, Dir: "d", Category: "bug.ordinary"},
		NewReply(cliflag.Given(ReplyFlags(), map[string]any{"dir": "d", "category": "bug.ordinary"}), j))
	assert.Equal(t, Check{Job: j, Format: "text"}, NewCheck(cliflag.Given(CheckFlags(), nil), j))
	assert.Equal(t, Check{Job: j, Format: "json", AIAssisted: true},
		NewCheck(cliflag.Given(CheckFlags(), map[string]any{"format": "json", "ai-assisted": true}), j))
}

func TestCheckWritesTheAdviceAndItsExitCode(t *testing.T) {
	j, out, _ := job(t, filepath.Join(examples, "05-vague-report.txt"))
	err := Check{Job: j, Format: "json"}.Run(context.Background())
	var a advice.Advice
	require.NoError(t, json.Unmarshal(out.Bytes(), &a), out.String())
	assert.Equal(t, advice.FixFirst, a.Action, "a vague report")
	assert.Equal(t, a.Action.ExitCode(), exit.Code(err), "the advice's exit code")
	assert.EqualError(t, err, "", "the advice said it all")

	err = Check{Job: j, Format: "xml"}.Run(context.Background())
	assert.Equal(t, exit.Usage, exit.Code(err))
	assert.ErrorContains(t, err, "check: ")
}
