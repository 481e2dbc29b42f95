package intake

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inbox is a public-inbox-shaped repository built with git in a test: one
// commit per message, the message in the file "m".
type inbox struct {
	t   *testing.T
	dir string // the work tree
	n   int
}

func newInbox(t *testing.T) *inbox {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	in := &inbox{t: t, dir: filepath.Join(t.TempDir(), "work")}
	in.git("init", "-q", in.dir)
	return in
}

func (in *inbox) git(args ...string) string {
	in.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@x", "GIT_COMMITTER_NAME=a",
		"GIT_COMMITTER_EMAIL=a@x", "GIT_CONFIG_NOSYSTEM=1", "HOME="+in.t.TempDir())
	out, err := cmd.CombinedOutput()
	require.NoError(in.t, err, "git %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

// add commits one message and returns its Message-ID.
func (in *inbox) add(subject string) string {
	in.t.Helper()
	in.n++
	id := fmt.Sprintf("msg%d@lore.example", in.n)
	m := fmt.Sprintf("From: r%d@example.org\nSubject: %s\nMessage-ID: <%s>\nDate: Mon, 2 Jun 2025 10:%02d:00 +0000\n\nReport %d: kernel 6.12.%d oopses.\n",
		in.n, subject, id, in.n%60, in.n, in.n)
	require.NoError(in.t, os.WriteFile(filepath.Join(in.dir, "m"), []byte(m), 0o644))
	in.git("-C", in.dir, "add", "m")
	in.git("-C", in.dir, "commit", "-q", "-m", subject)
	return id
}

// remove commits the removal of the last message as public-inbox v2 does
// for spam: the tree holds "d" (the removed message) instead of "m".
func (in *inbox) remove() {
	in.git("-C", in.dir, "mv", "m", "d")
	in.git("-C", in.dir, "commit", "-q", "-m", "remove")
	in.git("-C", in.dir, "rm", "-q", "d")
}

// mirror clones the inbox bare to dst, as grokmirror does, or fetches
// into an existing mirror.
func (in *inbox) mirror(dst string) string {
	if _, err := os.Stat(dst); err == nil {
		in.git("--git-dir", dst, "fetch", "-q", "--force", in.dir, "+refs/heads/*:refs/heads/*")
		return dst
	}
	in.git("clone", "-q", "--mirror", in.dir, dst)
	return dst
}

func ids(items []Item) []string {
	var out []string
	for _, it := range items {
		if it.Err != nil {
			out = append(out, "ERR "+it.Err.Error())
			continue
		}
		out = append(out, it.Report.ID)
	}
	return out
}

func TestPublicInboxV1ReadsEveryMessageOldestFirst(t *testing.T) {
	in := newInbox(t)
	a := in.add("first report")
	b := in.add("spam, removed below")
	in.remove()
	c := in.add("third report")
	bare := in.mirror(filepath.Join(t.TempDir(), "lkml.git"))

	items := readThreads(t, Options{}, bare)
	assert.Equal(t, []string{a, c}, ids(items), "the removed message is skipped, the removal commit yields nothing")
	assert.NotContains(t, ids(items), b)
	require.Len(t, items, 2)
	assert.Equal(t, FormatPublicInbox, items[0].Report.Format)
	assert.Regexp(t, `lkml\.git@[0-9a-f]{12}$`, items[0].Source)
	assert.Contains(t, items[0].Report.Body, "Report 1")

	// The work tree (a non-bare clone) is read the same way.
	assert.Equal(t, []string{a, c}, ids(readThreads(t, Options{}, in.dir)))
}

func TestPublicInboxSkipsMessagesRemovedLater(t *testing.T) {
	in := newInbox(t)
	a := in.add("first report")
	in.add("spam, deleted with git rm")
	in.git("-C", in.dir, "rm", "-q", "m")
	in.git("-C", in.dir, "commit", "-q", "-m", "remove spam")
	c := in.add("third report")
	in.add("spam again, removed the v2 way much later")
	spam := in.git("-C", in.dir, "rev-parse", "HEAD:m")
	e := in.add("fifth report")
	// public-inbox v2 removes an older message by committing it as "d".
	require.NoError(t, os.Remove(filepath.Join(in.dir, "m")))
	blob := in.git("-C", in.dir, "cat-file", "blob", spam)
	require.NoError(t, os.WriteFile(filepath.Join(in.dir, "d"), []byte(blob+"\n"), 0o644))
	in.git("-C", in.dir, "add", "-A")
	in.git("-C", in.dir, "commit", "-q", "-m", "purge")
	in.git("-C", in.dir, "rm", "-q", "d")
	g := in.add("seventh report")
	bare := in.mirror(filepath.Join(t.TempDir(), "inbox.git"))

	assert.Equal(t, []string{a, c, e, g}, ids(readThreads(t, Options{}, bare)))

	// With --since-last, a removal that comes after the message was read
	// is no error: the next run reads what is new.
	statePath := filepath.Join(t.TempDir(), "since.json")
	st, err := LoadSinceState(statePath)
	require.NoError(t, err)
	assert.Len(t, readThreads(t, Options{Since: st}, bare), 4)
	require.NoError(t, st.Save())
	in.remove()
	h := in.add("eighth report")
	in.mirror(bare)
	st, err = LoadSinceState(statePath)
	require.NoError(t, err)
	assert.Equal(t, []string{h}, ids(readThreads(t, Options{Since: st}, bare)))
}

func TestPublicInboxV2EpochsInOrder(t *testing.T) {
	old := newInbox(t)
	a := old.add("in epoch 0")
	cur := newInbox(t)
	b := cur.add("in epoch 1")
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "git"), 0o755))
	cur.mirror(filepath.Join(root, "git", "1.git"))
	old.mirror(filepath.Join(root, "git", "0.git"))
	require.NoError(t, os.WriteFile(filepath.Join(root, "msgmap.sqlite3"), []byte("not read"), 0o644))

	assert.Equal(t, []string{a, b}, ids(readThreads(t, Options{}, root)))
	// Inside a directory walk too.
	assert.Equal(t, []string{a, b}, ids(readThreads(t, Options{}, filepath.Dir(root)))[:2])
}

func TestSinceLastReadsOnlyNewCommits(t *testing.T) {
	in := newInbox(t)
	a := in.add("first report")
	b := in.add("second report")
	bare := in.mirror(filepath.Join(t.TempDir(), "inbox.git"))
	statePath := filepath.Join(t.TempDir(), "state", "since.json")

	run := func() []string {
		st, err := LoadSinceState(statePath)
		require.NoError(t, err)
		items := readThreads(t, Options{Since: st}, bare)
		require.NoError(t, st.Save())
		return ids(items)
	}
	assert.Equal(t, []string{a, b}, run(), "the first run reads everything")
	assert.Empty(t, run(), "nothing arrived: nothing read, no row")
	c := in.add("third report")
	d := in.add("fourth report")
	in.mirror(bare)
	assert.Equal(t, []string{c, d}, run())

	// A state not saved (a run stopped halfway) reads the same again.
	e := in.add("fifth report")
	in.mirror(bare)
	st, err := LoadSinceState(statePath)
	require.NoError(t, err)
	assert.Equal(t, []string{e}, ids(readThreads(t, Options{Since: st}, bare)))
	assert.Equal(t, []string{e}, run())

	// History rewritten under the state: read it all again, and say so.
	in.git("-C", in.dir, "commit", "-q", "--amend", "-m", "rewritten")
	in.git("--git-dir", bare, "fetch", "-q", "--force", in.dir, "+refs/heads/*:refs/heads/*")
	st, err = LoadSinceState(statePath)
	require.NoError(t, err)
	got := ids(readThreads(t, Options{Since: st}, bare))
	assert.Len(t, got, 5)
	require.Len(t, st.Warnings, 1)
	assert.Contains(t, st.Warnings[0], "not in the history any more")
}

func TestSinceLastInAMaildir(t *testing.T) {
	md := filepath.Join(t.TempDir(), "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(md, sub), 0o755))
	}
	deliver := func(name, id string) {
		body := fmt.Sprintf("From: a@x\nSubject: report %s\nMessage-ID: <%s>\n\nbody of %s\n", id, id, id)
		require.NoError(t, os.WriteFile(filepath.Join(md, "new", name), []byte(body), 0o644))
	}
	statePath := filepath.Join(t.TempDir(), "since.json")
	run := func() []string {
		st, err := LoadSinceState(statePath)
		require.NoError(t, err)
		items := readThreads(t, Options{Since: st}, md)
		require.NoError(t, st.Save())
		return ids(items)
	}
	deliver("1000.a.host", "a@x")
	deliver("1001.b.host", "b@x")
	assert.Equal(t, []string{"a@x", "b@x"}, run())
	assert.Empty(t, run())

	// A mail program reads one (new/ to cur/, flags added); another arrives.
	require.NoError(t, os.Rename(filepath.Join(md, "new", "1000.a.host"), filepath.Join(md, "cur", "1000.a.host:2,S")))
	deliver("1002.c.host", "c@x")
	assert.Equal(t, []string{"c@x"}, run(), "a message moved to cur/ is not new")

	st, err := LoadSinceState(statePath)
	require.NoError(t, err)
	assert.Equal(t, []string{"1000.a.host", "1001.b.host", "1002.c.host"}, st.Inputs[md].Seen)
}

func TestSinceLastNamesTheInputsReadWhole(t *testing.T) {
	p := writeFile(t, t.TempDir(), "a.mbox", genMbox(2))
	st, err := LoadSinceState(filepath.Join(t.TempDir(), "s.json"))
	require.NoError(t, err)
	assert.Len(t, readThreads(t, Options{Since: st}, p), 2)
	assert.Equal(t, []string{p}, st.Whole)
}

func TestBadStateFile(t *testing.T) {
	p := writeFile(t, t.TempDir(), "s.json", []byte("{not json"))
	_, err := LoadSinceState(p)
	assert.ErrorContains(t, err, "remove it to start over")
}

func TestPublicInboxFormatForced(t *testing.T) {
	dir := t.TempDir()
	items := readThreads(t, Options{Format: FormatPublicInbox}, dir)
	require.Len(t, items, 1)
	assert.ErrorContains(t, items[0].Err, "not a public-inbox repository")
	_ = context.Background
}

func TestAGitRepositoryWithoutMessagesIsAnErrorRow(t *testing.T) {
	in := newInbox(t)
	require.NoError(t, os.WriteFile(filepath.Join(in.dir, "README"), []byte("code, not mail"), 0o644))
	in.git("-C", in.dir, "add", "README")
	in.git("-C", in.dir, "commit", "-q", "-m", "code")
	bare := in.mirror(filepath.Join(t.TempDir(), "code.git"))
	items := readThreads(t, Options{}, bare)
	require.Len(t, items, 1)
	assert.ErrorContains(t, items[0].Err, "not a public-inbox")
}

func TestDefaultSinceStatePathFollowsXDG(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	p, err := DefaultSinceStatePath()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("/state", "secscreen", "since-last.json"), p)

	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/me")
	p, err = DefaultSinceStatePath()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("/home/me", ".local", "state", "secscreen", "since-last.json"), p)
}
