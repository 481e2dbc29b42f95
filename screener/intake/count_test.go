package intake_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/benchsupport"
	"github.com/secscreen/secscreen/screener/intake"
)

const intakeData = "testdata/"

const examples = "../../examples"

// The progress bar's total is the number of messages intake then reads.
func TestCountMessagesAsIntakeReadsThem(t *testing.T) {
	tmp := t.TempDir()
	// An mbox larger than countFile's 1 MB chunks, with "From " lines
	// across their edges.
	var mbox strings.Builder
	msg, err := os.ReadFile(examples + "/01-pipe-splice-overwrite.eml")
	require.NoError(t, err)
	for i := range 1500 {
		fmt.Fprintf(&mbox, "From report%d@example.org Thu Jan  1 00:00:00 2026\n%s\n", i, msg)
	}
	big := filepath.Join(tmp, "big.mbox")
	require.NoError(t, os.WriteFile(big, []byte(mbox.String()), 0o600))
	require.Greater(t, mbox.Len(), 2<<20)
	noNewline := filepath.Join(tmp, "last.jsonl")
	jl, err := os.ReadFile(intakeData + "jsonl/reports.jsonl")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(noNewline, []byte(strings.TrimSuffix(string(jl), "\n")), 0o600))

	// What Read decides alike: an mbox after blank lines and a byte order
	// mark; a tree with a symlink to a directory (one error row, not
	// followed inside a walk), a dot file and a nested Maildir.
	blank := filepath.Join(tmp, "blank.mbox")
	require.NoError(t, os.WriteFile(blank, []byte("\xef\xbb\xbf\n\n"+mbox.String()[:len(mbox.String())/100]), 0o600))
	tree := filepath.Join(tmp, "tree")
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "sub", "a.eml"), msg, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(tree, ".hidden"), msg, 0o600))
	require.NoError(t, os.Symlink(filepath.Join(tree, "sub"), filepath.Join(tree, "link")))
	require.NoError(t, os.CopyFS(filepath.Join(tree, "sub", "md"), os.DirFS(intakeData+"maildir")))

	for _, inputs := range [][]string{
		{blank},
		{tree},
		{examples},
		{examples + "/01-pipe-splice-overwrite.eml", examples + "/05-vague-report.txt"},
		{intakeData + "maildir"},
		{intakeData + "jsonl/reports.jsonl"},
		{noNewline},
		{intakeData + "mbox/mboxrd.mbox", intakeData + "mbox/mboxo.mbox", intakeData + "mbox/format-patch.mbox"},
		{big},
		{examples, intakeData + "maildir", big, filepath.Join(tmp, "missing.eml")},
	} {
		n, ok := intake.CountMessages(context.Background(), inputs)
		require.True(t, ok, "%v", inputs)
		read := 0
		for range intake.Read(context.Background(), inputs, intake.Options{}) {
			read++
		}
		assert.Equal(t, read, n, "%v", inputs)
	}
	// An mboxo writer's unescaped "From " line after a blank line inside
	// a message counts as one more: the bar then ends short of its total.
	unescaped := []string{intakeData + "mbox/mboxo-unescaped.mbox"}
	n, ok := intake.CountMessages(context.Background(), unescaped)
	require.True(t, ok)
	read := 0
	for range intake.Read(context.Background(), unescaped, intake.Options{}) {
		read++
	}
	assert.GreaterOrEqual(t, n, read)
}

func TestCountMessagesGivesUpWhereCountingIsNotCheap(t *testing.T) {
	gz := filepath.Join(t.TempDir(), "inbox.mbox.gz")
	f, err := os.Create(gz)
	require.NoError(t, err)
	w := gzip.NewWriter(f)
	_, err = w.Write([]byte("From a@b Thu Jan  1 00:00:00 2026\nSubject: x\n\nbody\n"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, f.Close())
	repo := t.TempDir()
	// A public-inbox v2 layout as Read recognises it: git/0.git a bare
	// repository (HEAD, objects/, refs/).
	epoch := filepath.Join(repo, "git", "0.git")
	for _, sub := range []string{"objects", "refs"} {
		require.NoError(t, os.MkdirAll(filepath.Join(epoch, sub), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(epoch, "HEAD"), []byte("ref: refs/heads/master\n"), 0o644))
	for _, inputs := range [][]string{{"-"}, {gz}, {examples, repo}} {
		_, ok := intake.CountMessages(context.Background(), inputs)
		assert.False(t, ok, "%v", inputs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, ok := intake.CountMessages(ctx, []string{examples})
	assert.False(t, ok, "a cancelled count stops")
}

// BenchmarkCountMessages is the cost of the progress bar's count of an
// mbox, per byte (b.SetBytes): set SECSCREEN_COUNT_MBOX to a file (such as
// one from secscreen corpus synth), else an mbox of the examples is made.
func BenchmarkCountMessages(b *testing.B) {
	path := os.Getenv("SECSCREEN_COUNT_MBOX")
	if path == "" {
		msg, err := os.ReadFile(examples + "/01-pipe-splice-overwrite.eml")
		require.NoError(b, err)
		var mbox strings.Builder
		for i := range 8000 {
			fmt.Fprintf(&mbox, "From report%d@example.org Thu Jan  1 00:00:00 2026\n%s\n", i, msg)
		}
		path = filepath.Join(b.TempDir(), "bench.mbox")
		require.NoError(b, os.WriteFile(path, []byte(mbox.String()), 0o600))
	}
	fi, err := os.Stat(path)
	require.NoError(b, err)
	b.SetBytes(fi.Size())
	start := benchsupport.CPUTime()
	for b.Loop() {
		if _, ok := intake.CountMessages(context.Background(), []string{path}); !ok {
			b.Fatal("not counted")
		}
	}
	benchsupport.ReportCPU(b, start)
}
