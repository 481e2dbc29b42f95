package intake

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus/synth"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// msg is one mbox message with the given headers and body.
func msg(id, subject, inReplyTo, refs, body string) string {
	var b strings.Builder
	b.WriteString("From someone@example.org Mon Jun  2 10:00:00 2025\n")
	fmt.Fprintf(&b, "From: someone@example.org\nSubject: %s\n", subject)
	if id != "" {
		fmt.Fprintf(&b, "Message-ID: <%s>\n", id)
	}
	if inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\n", inReplyTo)
	}
	if refs != "" {
		fmt.Fprintf(&b, "References: %s\n", refs)
	}
	fmt.Fprintf(&b, "\n%s\n\n", body)
	return b.String()
}

func readThreads(t *testing.T, opt Options, inputs ...string) []Item {
	t.Helper()
	var out []Item
	for it := range Read(context.Background(), inputs, opt) {
		out = append(out, it)
	}
	return out
}

func TestThreadsFoldRepliesIntoTheirReport(t *testing.T) {
	mbox := msg("root@x", "nf_tables: use-after-free in set GC", "", "", "The report, no version.") +
		msg("other@x", "io_uring: leak on cancel", "", "", "Another report.") +
		msg("q@x", "Re: nf_tables: use-after-free in set GC", "root@x", "<root@x>", "Which kernel?") +
		msg("a@x", "Re: nf_tables: use-after-free in set GC", "q@x", "<root@x> <q@x>", "6.12.3, reproducer attached.") +
		msg("", "RE: Re: io_uring: leak on cancel", "", "", "Subject-only reply.") +
		msg("late-reply@x", "Re: unrelated thing", "early-root@x", "<early-root@x>", "I answer a report that comes later.") +
		msg("early-root@x", "unrelated thing", "", "", "The root, after its reply.") +
		msg("orphan@x", "Re: a report from last week", "gone@x", "<gone@x>", "The root is not in this input.") +
		"From x Mon Jun  2 10:00:00 2025\n\n\n" // an empty message: an error item keeps its place
	p := writeFile(t, t.TempDir(), "inbox.mbox", []byte(mbox))

	items := readThreads(t, Options{Threads: true}, p)
	require.Len(t, items, 5)
	root := items[0].Report
	require.NotNil(t, root)
	assert.Equal(t, "root@x", root.ID)
	assert.Equal(t, []string{"q@x", "a@x"}, root.Replies)
	assert.Equal(t, 3, root.ThreadSize)
	assert.Contains(t, root.Body, "6.12.3, reproducer attached.", "the screening sees what the replies add")
	assert.Equal(t, p+":1", root.Source)

	other := items[1].Report
	assert.Equal(t, "other@x", other.ID)
	assert.Equal(t, []string{p + ":5"}, other.Replies, "a Re: subject joins its report; an id-less reply is named by its source")

	early := items[2].Report
	assert.Equal(t, "early-root@x", early.ID, "the root is the thread's identity even when its reply came first")
	assert.Equal(t, []string{"late-reply@x"}, early.Replies)
	assert.Equal(t, p+":7", early.Source)

	assert.Equal(t, "orphan@x", items[3].Report.ID, "a reply to a message not in the input is screened alone")
	assert.Empty(t, items[3].Report.Replies)
	assert.Error(t, items[4].Err)

	plain := readThreads(t, Options{}, p)
	assert.Len(t, plain, 9, "without Threads every message is its own item")
}

func TestThreadsWindowBoundsTheWait(t *testing.T) {
	var b strings.Builder
	b.WriteString(msg("root@x", "a report about a bug in ext4", "", "", "root"))
	for i := range 5 {
		b.WriteString(msg(fmt.Sprintf("m%d@x", i), fmt.Sprintf("filler report number %d", i), "", "", "filler"))
	}
	b.WriteString(msg("reply@x", "Re: a report about a bug in ext4", "root@x", "<root@x>", "too late"))
	p := writeFile(t, t.TempDir(), "inbox.mbox", []byte(b.String()))

	items := readThreads(t, Options{Threads: true, ThreadWindow: 3}, p)
	require.Len(t, items, 7, "the reply came after the window: on its own")
	assert.Empty(t, items[0].Report.Replies)
	assert.Equal(t, "reply@x", items[6].Report.ID)

	items = readThreads(t, Options{Threads: true, ThreadWindow: 10}, p)
	require.Len(t, items, 6)
	assert.Equal(t, []string{"reply@x"}, items[0].Report.Replies)
}

func TestThreadsStayWithinOneInput(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.mbox", []byte(msg("root@x", "a report about a bug in ext4", "", "", "root")))
	b := writeFile(t, dir, "b.mbox", []byte(msg("reply@x", "Re: a report about a bug in ext4", "root@x", "<root@x>", "reply")))
	assert.Len(t, readThreads(t, Options{Threads: true}, a, b), 2)

	// A directory is one input: its files thread together.
	items := readThreads(t, Options{Threads: true}, dir)
	require.Len(t, items, 1)
	assert.Equal(t, []string{"reply@x"}, items[0].Report.Replies)
}

func TestThreadsInAMaildirAndTextFilesNeverThread(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(md, sub), 0o755))
	}
	writeFile(t, filepath.Join(md, "cur"), "1000.a:2,S", []byte(strings.SplitN(msg("root@x", "a report about a bug in ext4", "", "", "root"), "\n", 2)[1]))
	writeFile(t, filepath.Join(md, "new"), "1001.b", []byte(strings.SplitN(msg("reply@x", "Re: a report about a bug in ext4", "root@x", "<root@x>", "reply"), "\n", 2)[1]))
	items := readThreads(t, Options{Threads: true}, md)
	require.Len(t, items, 1)
	assert.Equal(t, []string{"reply@x"}, items[0].Report.Replies)

	txt := t.TempDir()
	writeFile(t, txt, "1.txt", []byte("a report about a bug in ext4\n\nbody"))
	writeFile(t, txt, "2.txt", []byte("Re: a report about a bug in ext4\n\nbody"))
	assert.Len(t, readThreads(t, Options{Threads: true}, txt), 2)
}

func TestThreadsStopWhenTheConsumerStops(t *testing.T) {
	p := writeFile(t, t.TempDir(), "many.mbox", genMbox(50))
	n := 0
	for range Read(context.Background(), []string{p}, Options{Threads: true, ThreadWindow: 5}) {
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n = 0
	for range Read(ctx, []string{p}, Options{Threads: true, ThreadWindow: 5}) {
		n++
		if n == 2 {
			cancel()
		}
	}
	assert.Equal(t, 2, n, "nothing is yielded after a cancellation")
}

func TestNormSubject(t *testing.T) {
	assert.Equal(t, "bug in x", normSubject("Re: AW:  RE[2]: Bug  in X"))
	assert.True(t, isReplySubject("re: x"))
	assert.False(t, isReplySubject("regression in x"))
}

func TestThreadsInJSONLNeedHeaders(t *testing.T) {
	lines := `{"id":"a","text":"a report about a bug in ext4\nbody"}
{"id":"b","text":"Re: a report about a bug in ext4\nanother report"}
{"id":"c","raw":"Message-ID: <c@x>\nSubject: a report about xfs\n\nbody"}
{"id":"d","raw":"Message-ID: <d@x>\nIn-Reply-To: <c@x>\nSubject: Re: a report about xfs\n\nreply"}
`
	p := writeFile(t, t.TempDir(), "in.jsonl", []byte(lines))
	items := readThreads(t, Options{Threads: true}, p)
	require.Len(t, items, 3)
	assert.Empty(t, items[0].Report.Replies, "a text line starting with Re: answers nothing")
	assert.Equal(t, "c", items[2].Report.ID)
	assert.Equal(t, []string{"d"}, items[2].Report.Replies)
}

// BenchmarkReadSynthThreads reads a synthetic mbox of ~4 KB reports, a
// tenth of them replies, with thread grouping on.
func BenchmarkReadSynthThreads(b *testing.B) {
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, synth.Options{N: 2000, Seed: 1, Replies: 0.1}); err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(b.TempDir(), "synth.mbox")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		for it := range Read(context.Background(), []string{p}, Options{Threads: true}) {
			if it.Err != nil {
				b.Fatal(it.Err)
			}
		}
	}
}

// fakeEarlier is a history holding one thread, as an earlier run screened
// it.
type fakeEarlier struct {
	thread *EarlierThread
	asked  [][]string
}

func (f *fakeEarlier) EarlierThread(_ context.Context, ids []string) (*EarlierThread, error) {
	f.asked = append(f.asked, ids)
	held := append([]string{f.thread.Report.MessageID}, f.thread.Report.Replies...)
	for _, id := range ids {
		for _, h := range held {
			if id == h {
				r := *f.thread.Report
				return &EarlierThread{Report: &r, Decided: f.thread.Decided}, nil
			}
		}
	}
	return nil, nil
}

func TestThreadsFoldRepliesIntoAThreadOfAnEarlierRun(t *testing.T) {
	root, err := JoinThread([]*Report{
		{ID: "root@x", MessageID: "root@x", Subject: "nf_tables: use-after-free in set GC", Body: "The report.", Hash: "h1", Source: "old.mbox:1", Format: FormatMbox},
		{ID: "q@x", MessageID: "q@x", InReplyTo: "root@x", Subject: "Re: nf_tables: use-after-free in set GC", Body: "Which kernel?", Hash: "h2"},
	})
	require.NoError(t, err)
	root.Replies = []string{"q@x"}
	past := &fakeEarlier{thread: &EarlierThread{Report: root, Decided: ThreadUpdate{HistoryID: 7, Label: threatmodel.Label{Verdict: "not-security", Category: "invalid.insufficient"}, Decision: "agree"}}}

	mbox := msg("a@x", "Re: nf_tables: use-after-free in set GC", "q@x", "<root@x> <q@x>", "6.12.3, reproducer attached.") +
		msg("other@x", "io_uring: leak on cancel", "", "", "Another report.") +
		msg("a2@x", "Re: nf_tables: use-after-free in set GC", "a@x", "<root@x> <q@x> <a@x>", "And the config.") +
		msg("q@x", "Re: nf_tables: use-after-free in set GC", "root@x", "<root@x>", "Which kernel?") +
		msg("lost@x", "Re: something else", "gone@x", "<gone@x>", "Its report is nowhere.")
	p := writeFile(t, t.TempDir(), "new.mbox", []byte(mbox))

	items := readThreads(t, Options{Threads: true, EarlierThreads: past}, p)
	require.Len(t, items, 3)
	up := items[0].Report
	require.NotNil(t, up)
	assert.Equal(t, "root@x", up.ID, "the row is the root's")
	assert.Equal(t, "old.mbox:1", up.Source)
	assert.Equal(t, []string{"q@x", "a@x", "a2@x"}, up.Replies, "the earlier replies, then the new ones; q@x read again is not folded twice")
	assert.Equal(t, 4, up.ThreadSize)
	assert.Contains(t, up.Body, "Which kernel?")
	assert.Contains(t, up.Body, "----- reply 2: from someone@example.org")
	assert.Contains(t, up.Body, "6.12.3, reproducer attached.")
	assert.Contains(t, up.Body, "----- reply 3:")
	assert.NotEqual(t, root.Hash, up.Hash)
	require.NotNil(t, up.Updates)
	assert.Equal(t, int64(7), up.Updates.HistoryID)
	assert.Equal(t, threatmodel.NotSecurity, up.Updates.Verdict)
	assert.Equal(t, []string{"a@x", "a2@x"}, up.Updates.NewReplies)
	assert.Equal(t, []string{"q@x"}, root.Replies, "the earlier thread is not modified")

	assert.Equal(t, "other@x", items[1].Report.ID)
	assert.Nil(t, items[1].Report.Updates)
	assert.Equal(t, "lost@x", items[2].Report.ID, "a reply to nothing known is screened alone")
	assert.Nil(t, items[2].Report.Updates)
	assert.Equal(t, [][]string{{"q@x", "root@x"}, {"gone@x"}}, past.asked, "only replies that answer no waiting thread are looked up")

	// Without threads the history is not asked.
	past.asked = nil
	assert.Len(t, readThreads(t, Options{EarlierThreads: past}, p), 5)
	assert.Empty(t, past.asked)

	// The same thread read again whole: an update too, for its new replies.
	whole := msg("root@x", "nf_tables: use-after-free in set GC", "", "", "The report.") + mbox
	p2 := writeFile(t, t.TempDir(), "whole.mbox", []byte(whole))
	items = readThreads(t, Options{Threads: true, EarlierThreads: past}, p2)
	require.Len(t, items, 3)
	require.NotNil(t, items[0].Report.Updates)
	assert.Equal(t, []string{"a@x", "a2@x"}, items[0].Report.Updates.NewReplies)
	assert.Equal(t, p2+":1", items[0].Report.Source)
}
