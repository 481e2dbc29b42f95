package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus/synth"
)

// child starts secscreen in a child process (to kill it): the test binary
// acts as secscreen when SECSCREEN_TEST_AS_MAIN is set (see TestMain).
func child(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SECSCREEN_TEST_AS_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

// lines counts the whole lines of a file.
func lines(path string) int {
	data, _ := os.ReadFile(path)
	return bytes.Count(data, []byte("\n"))
}

// rowKeys reads a JSONL output: the count of rows per id+hash, and
// whether every line is a whole row.
func rowKeys(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	keys := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var row struct {
			ID, Hash, Decision string
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &row), "every line is a whole row: %q", sc.Text())
		assert.NotEqual(t, "cancelled", row.Decision)
		keys[row.ID+" "+row.Hash]++
	}
	require.NoError(t, sc.Err())
	return keys
}

func synthMbox(t *testing.T, n int, replies float64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "inbox.mbox")
	f, err := os.Create(p)
	require.NoError(t, err)
	_, err = synth.Write(f, synth.Options{N: n, Seed: 3, Replies: replies})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return p
}

func TestResumeAfterAKillEndsWithEveryInputOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and resumes a child process over a few seconds")
	}
	isolate(t)
	mbox := synthMbox(t, 500, 0.1)
	dir := t.TempDir()

	// The reference: one uninterrupted run.
	ref := filepath.Join(dir, "ref.jsonl")
	code, _, errOut := secscreen(t, "screen", "--backend", "rules", "-q", "-o", ref, mbox)
	require.Equal(t, exitOK, code, errOut)
	want := rowKeys(t, ref)
	require.Greater(t, len(want), 400)

	// Killed (SIGKILL: no chance to tidy up) twice, at different points,
	// then resumed to the end.
	out := filepath.Join(dir, "out.jsonl")
	args := []string{"screen", "--backend", "rules", "-j", "2", "-o", out, "--resume", mbox}
	for _, at := range []int{10, 200} {
		cmd := child(t, args...)
		deadline := time.Now().Add(60 * time.Second)
		for lines(out) < at && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		got := lines(out)
		require.GreaterOrEqual(t, got, at)
		require.Less(t, got, len(want), "killed before the end")
	}
	code, _, errOut = secscreen(t, args...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "inputs skipped as done")
	assert.Equal(t, want, rowKeys(t, out), "every input exactly once")

	// Resuming a finished output screens nothing.
	code, _, errOut = secscreen(t, args...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "0 inputs, 0 rows")
	assert.Equal(t, want, rowKeys(t, out))
}

func TestResumeAfterCancelAndATornLine(t *testing.T) {
	isolate(t)
	mbox := synthMbox(t, 60, 0)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	args := []string{"screen", "--backend", "rules", "-j", "2", "-o", out, "--resume", mbox}

	// Cancelled after a few rows (as Ctrl-C does): rows for the reports in
	// flight say "cancelled"; then the last line is cut in half.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for lines(out) < 5 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	var so, se bytes.Buffer
	code := run(ctx, append([]string{"secscreen"}, args...), &so, &se)
	require.Equal(t, exitInterrupted, code, se.String())
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(out, data[:len(data)-20], 0o644))

	code, _, errOut := secscreen(t, args...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "half-written last line")
	got := rowKeys(t, out)
	assert.Len(t, got, 60)
	for k, n := range got {
		assert.Equal(t, 1, n, k)
	}
}

func TestResumeUsage(t *testing.T) {
	isolate(t)
	code, _, errOut := secscreen(t, "screen", "--resume", "--backend", "rules", "../../examples")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "-o FILE")
	code, _, _ = secscreen(t, "screen", "--resume", "--backend", "rules", "-o", filepath.Join(t.TempDir(), "x.csv"), "../../examples")
	assert.Equal(t, exitUsage, code)
}

func TestScreenFoldsRepliesUnlessNoThreads(t *testing.T) {
	isolate(t)
	mbox := "From a@x Mon Jun  2 10:00:00 2025\nFrom: a@x\nSubject: nf_tables: use-after-free in set GC\nMessage-ID: <root@x>\n\n" +
		"A use-after-free in nf_tables set GC; any local user can trigger it.\n\n" +
		"From b@x Mon Jun  2 11:00:00 2025\nFrom: b@x\nSubject: Re: nf_tables: use-after-free in set GC\nMessage-ID: <reply@x>\nIn-Reply-To: <root@x>\n\n" +
		"Which kernel version? Do you have a reproducer?\n\n" +
		"From a@x Mon Jun  2 12:00:00 2025\nFrom: a@x\nSubject: Re: nf_tables: use-after-free in set GC\nMessage-ID: <reply2@x>\nIn-Reply-To: <reply@x>\nReferences: <root@x> <reply@x>\n\n" +
		"Kernel 6.12.3; the reproducer is below.\n"
	p := filepath.Join(t.TempDir(), "thread.mbox")
	require.NoError(t, os.WriteFile(p, []byte(mbox), 0o644))

	code, out, errOut := secscreen(t, "screen", "--backend", "rules", "-f", "jsonl", p)
	require.Equal(t, exitOK, code, errOut)
	rows := jsonl(t, out)
	require.Len(t, rows, 1)
	assert.Equal(t, "root@x", rows[0]["id"])
	assert.Equal(t, []any{"reply@x", "reply2@x"}, rows[0]["thread_replies"])
	assert.NotContains(t, rows[0]["missing"], "version", "the reply's version counts")
	assert.Contains(t, errOut, "threads: 2 replies folded into 1 reports")

	code, out, errOut = secscreen(t, "screen", "--backend", "rules", "-f", "jsonl", "--no-threads", p)
	require.Equal(t, exitOK, code, errOut)
	rows = jsonl(t, out)
	require.Len(t, rows, 3)
	for _, r := range rows {
		assert.Equal(t, []any{}, r["thread_replies"])
	}
}

func TestScreenSinceLastOnAMaildir(t *testing.T) {
	isolate(t)
	md := filepath.Join(t.TempDir(), "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(md, sub), 0o755))
	}
	deliver := func(n int) {
		body := fmt.Sprintf("From: a@x\nSubject: report %d about a crash\nMessage-ID: <m%d@x>\n\nKernel 6.12.%d oopses as root.\n", n, n, n)
		require.NoError(t, os.WriteFile(filepath.Join(md, "new", fmt.Sprintf("%d.host", 1000+n)), []byte(body), 0o644))
	}
	state := filepath.Join(t.TempDir(), "state.json")
	screen := func() []map[string]any {
		code, out, errOut := secscreen(t, "screen", "--backend", "rules", "-f", "jsonl", "--since-last", "--state", state, md)
		require.Equal(t, exitOK, code, errOut)
		return jsonl(t, out)
	}
	deliver(1)
	deliver(2)
	assert.Len(t, screen(), 2)
	assert.Empty(t, screen(), "nothing new: no row, exit 0")
	deliver(3)
	rows := screen()
	require.Len(t, rows, 1)
	assert.Equal(t, "m3@x", rows[0]["id"])

	// The default state file lives under XDG_STATE_HOME.
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	code, _, errOut := secscreen(t, "screen", "--backend", "rules", "-f", "jsonl", "--since-last", md)
	require.Equal(t, exitOK, code, errOut)
	_, err := os.Stat(filepath.Join(os.Getenv("XDG_STATE_HOME"), "secscreen", "since-last.json"))
	assert.NoError(t, err)
	code, _, _ = secscreen(t, "screen", "--backend", "rules", "--state", state, md)
	assert.Equal(t, exitUsage, code, "--state without --since-last")
	_ = strings.TrimSpace
}

func TestScreenAPublicInboxSinceLast(t *testing.T) {
	isolate(t)
	work := filepath.Join(t.TempDir(), "work")
	git := gitRunner(t)
	n := 0
	post := func(subject, inReplyTo string) {
		n++
		m := fmt.Sprintf("From: r@example.org\nSubject: %s\nMessage-ID: <m%d@lore>\n", subject, n)
		if inReplyTo != "" {
			m += fmt.Sprintf("In-Reply-To: <%s>\nReferences: <%s>\n", inReplyTo, inReplyTo)
		}
		m += fmt.Sprintf("\nKernel 6.12.%d: a use-after-free, any local user.\n", n)
		require.NoError(t, os.WriteFile(filepath.Join(work, "m"), []byte(m), 0o644))
		git("-C", work, "add", "m")
		git("-C", work, "commit", "-q", "-m", subject)
	}
	git("init", "-q", work)
	post("nf_tables: use-after-free in set GC", "")
	post("Re: nf_tables: use-after-free in set GC", "m1@lore")
	inbox := filepath.Join(t.TempDir(), "lkml")
	require.NoError(t, os.MkdirAll(filepath.Join(inbox, "git"), 0o755))
	git("clone", "-q", "--mirror", work, filepath.Join(inbox, "git", "0.git"))
	fetch := func() {
		git("--git-dir", filepath.Join(inbox, "git", "0.git"), "fetch", "-q", work, "+refs/heads/*:refs/heads/*")
	}

	state := filepath.Join(t.TempDir(), "state.json")
	out := filepath.Join(t.TempDir(), "out.jsonl")
	screen := func() string {
		code, _, errOut := secscreen(t, "screen", "--backend", "rules", "--since-last", "--state", state, "--resume", "-o", out, inbox)
		require.Equal(t, exitOK, code, errOut)
		return errOut
	}
	screen()
	data, _ := os.ReadFile(out)
	rows := jsonl(t, string(data))
	require.Len(t, rows, 1, "the reply is folded into its report")
	assert.Equal(t, "m1@lore", rows[0]["id"])
	assert.Equal(t, []any{"m2@lore"}, rows[0]["thread_replies"])

	assert.Contains(t, screen(), "0 inputs, 0 rows", "nothing new")
	post("io_uring: leak on cancel", "")
	fetch()
	screen()
	data, _ = os.ReadFile(out)
	rows = jsonl(t, string(data))
	require.Len(t, rows, 2)
	assert.Equal(t, "m3@lore", rows[1]["id"])
}

// A warm-cache eval re-run replays the model, the rules' evaluations and
// the fold models, and scores exactly as the cold run did.
func TestEvalWarmCacheReplaysModelsRulesAndFolds(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	var calls atomic.Int32
	srv := fakeOpenAI(t, &calls)
	cache := t.TempDir()
	args := []string{"eval", "--json", "-", "--resamples", "20", "--corpus", dir, "--split", "dev", "--backend", "openai",
		"--base-url", srv.URL + "/v1", "--model", "m", "--cache", cache, "--folds", "2"}
	code, cold, errOut := secscreen(t, args...)
	require.Equal(t, exitOK, code, errOut)
	n := calls.Load()
	require.Positive(t, n)
	rulesEntries, _ := filepath.Glob(filepath.Join(cache, "rules", "*", "*.json"))
	folds, _ := filepath.Glob(filepath.Join(cache, "baseline", "*.bin"))
	assert.NotEmpty(t, rulesEntries, "the rules' evaluations are kept")
	assert.Len(t, folds, 2, "one model per fold")

	code, warm, errOut := secscreen(t, args...)
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, n, calls.Load(), "no model call when warm")
	var a, b struct {
		Rows []map[string]any `json:"rows"`
	}
	require.NoError(t, json.Unmarshal([]byte(cold), &a))
	require.NoError(t, json.Unmarshal([]byte(warm), &b))
	require.Len(t, b.Rows, len(a.Rows))
	for i := range a.Rows {
		require.Contains(t, a.Rows[i], "verdict")
		for k, v := range a.Rows[i] {
			if strings.Contains(k, "model") || strings.Contains(k, "latency") {
				continue // the model's usage says cached, and its latency differs
			}
			assert.Equal(t, v, b.Rows[i][k], "%v %s", a.Rows[i]["id"], k)
		}
	}
}
