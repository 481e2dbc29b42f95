package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// threadRoot and threadReply are a report without a version and the
// reporter's follow-up that brings it, in a later run.
const (
	threadRoot = "From: a@x\nSubject: nf_tables: use-after-free in set GC\nMessage-ID: <root@x>\n\n" +
		"A use-after-free in nf_tables set GC; any local user can trigger it through a user namespace.\n"
	threadReply = "From: a@x\nSubject: Re: nf_tables: use-after-free in set GC\nMessage-ID: <reply@x>\nIn-Reply-To: <root@x>\nReferences: <root@x>\n\n" +
		"Kernel 6.12.3; the reproducer is below.\n"
)

// assertUpdate checks that row is the root's, screened again with the
// reply, and marked as an update of the first run's row.
func assertUpdate(t *testing.T, first, row map[string]any, rootID, replyID string) {
	t.Helper()
	assert.Equal(t, rootID, row["id"], "the row is the root's")
	assert.Equal(t, first["source"], row["source"])
	assert.Equal(t, []any{replyID}, row["thread_replies"])
	assert.NotEqual(t, first["hash"], row["hash"])
	assert.NotEqual(t, "duplicate", row["decision"], "screened again, not its own duplicate")
	assert.Empty(t, row["duplicate_of"])
	up, ok := row["updates"].(map[string]any)
	require.True(t, ok, "marked as an update: %v", row["updates"])
	assert.Equal(t, []any{replyID}, up["new_replies"])
	assert.Equal(t, first["verdict"], up["verdict"])
	assert.Equal(t, first["category"], up["category"])
	assert.Equal(t, first["decision"], up["decision"])
	assert.Positive(t, up["history_id"])
	assert.Contains(t, first["missing"], "version")
	assert.NotContains(t, row["missing"], "version", "what the reply adds counts")
}

func TestScreenSinceLastFoldsAReplyIntoTheReportOfAnEarlierRun(t *testing.T) {
	isolate(t)
	md := filepath.Join(t.TempDir(), "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(md, sub), 0o755))
	}
	deliver := func(name, m string) {
		require.NoError(t, os.WriteFile(filepath.Join(md, "new", name), []byte(m), 0o644))
	}
	state := filepath.Join(t.TempDir(), "state.json")
	screen := func(extra ...string) ([]map[string]any, string) {
		args := append([]string{"screen", "--backend", "rules", "-f", "jsonl", "--since-last", "--state", state}, extra...)
		code, out, errOut := secscreen(t, append(args, md)...)
		require.Equal(t, exitOK, code, errOut)
		return jsonl(t, out), errOut
	}
	deliver("1001.host", threadRoot)
	rows, _ := screen()
	require.Len(t, rows, 1)
	first := rows[0]
	assert.Nil(t, first["updates"], "a new report updates nothing")

	deliver("1002.host", threadReply)
	rows, errOut := screen()
	require.Len(t, rows, 1)
	assertUpdate(t, first, rows[0], "root@x", "reply@x")
	assert.Contains(t, errOut, "1 of them screened in an earlier run")

	// The history keeps both screenings, the newest first.
	code, out, errOut := secscreen(t, "history", "show", "root@x", "-f", "json")
	require.Equal(t, exitOK, code, errOut)
	var shown []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	require.Len(t, shown, 2)
	assert.Equal(t, []any{"reply@x"}, shown[0]["report"].(map[string]any)["thread_replies"])
	assert.Equal(t, first["hash"], shown[1]["hash"], "the first screening is kept")
	assert.Equal(t, first["verdict"], shown[1]["verdict"])

	// A third message answering the reply: the thread as screened last
	// time, with it.
	deliver("1003.host", "From: m@x\nSubject: Re: nf_tables: use-after-free in set GC\nMessage-ID: <third@x>\nIn-Reply-To: <reply@x>\n\nThanks, confirmed.\n")
	rows, _ = screen()
	require.Len(t, rows, 1)
	assert.Equal(t, "root@x", rows[0]["id"])
	assert.Equal(t, []any{"reply@x", "third@x"}, rows[0]["thread_replies"])
	up := rows[0]["updates"].(map[string]any)
	assert.Equal(t, []any{"third@x"}, up["new_replies"])
}

func TestScreenAReplyOfALaterRunAloneWithoutHistoryOrThreads(t *testing.T) {
	for _, flag := range []string{"--no-history", "--no-threads"} {
		t.Run(flag, func(t *testing.T) {
			isolate(t)
			md := filepath.Join(t.TempDir(), "Maildir")
			for _, sub := range []string{"cur", "new", "tmp"} {
				require.NoError(t, os.MkdirAll(filepath.Join(md, sub), 0o755))
			}
			state := filepath.Join(t.TempDir(), "state.json")
			screen := func() []map[string]any {
				code, out, errOut := secscreen(t, "screen", "--backend", "rules", "-f", "jsonl", flag, "--since-last", "--state", state, md)
				require.Equal(t, exitOK, code, errOut)
				return jsonl(t, out)
			}
			require.NoError(t, os.WriteFile(filepath.Join(md, "new", "1001.host"), []byte(threadRoot), 0o644))
			require.Len(t, screen(), 1)
			require.NoError(t, os.WriteFile(filepath.Join(md, "new", "1002.host"), []byte(threadReply), 0o644))
			rows := screen()
			require.Len(t, rows, 1)
			assert.Equal(t, "reply@x", rows[0]["id"], "as before: the reply is screened on its own")
			assert.Nil(t, rows[0]["updates"])
		})
	}
}

func TestScreenAPublicInboxSinceLastFoldsAReplyIntoAnEarlierRunsReport(t *testing.T) {
	isolate(t)
	work := filepath.Join(t.TempDir(), "work")
	git := gitRunner(t)
	post := func(m string) {
		require.NoError(t, os.WriteFile(filepath.Join(work, "m"), []byte(m), 0o644))
		git("-C", work, "add", "m")
		git("-C", work, "commit", "-q", "-m", "message")
	}
	git("init", "-q", work)
	post(threadRoot)
	inbox := filepath.Join(t.TempDir(), "lkml")
	require.NoError(t, os.MkdirAll(filepath.Join(inbox, "git"), 0o755))
	git("clone", "-q", "--mirror", work, filepath.Join(inbox, "git", "0.git"))

	state := filepath.Join(t.TempDir(), "state.json")
	out := filepath.Join(t.TempDir(), "out.jsonl")
	screen := func() []map[string]any {
		code, _, errOut := secscreen(t, "screen", "--backend", "rules", "--since-last", "--state", state, "--resume", "-o", out, inbox)
		require.Equal(t, exitOK, code, errOut)
		data, err := os.ReadFile(out)
		require.NoError(t, err)
		return jsonl(t, string(data))
	}
	rows := screen()
	require.Len(t, rows, 1)
	post(threadReply)
	git("--git-dir", filepath.Join(inbox, "git", "0.git"), "fetch", "-q", work, "+refs/heads/*:refs/heads/*")
	rows = screen()
	require.Len(t, rows, 2, "the update is a row of its own; the first stays")
	assertUpdate(t, rows[0], rows[1], "root@x", "reply@x")
	assert.Len(t, screen(), 2, "nothing new")
}

// gitRunner returns a function that runs git with a fixed identity and no
// system configuration, failing the test on an error; it skips the test
// when git is not on PATH.
func gitRunner(t *testing.T) func(args ...string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	return func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@x", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@x", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
}
