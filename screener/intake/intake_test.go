package intake

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readOne reads a single input that must give exactly one Report.
func readOne(t *testing.T, in string, opt Options) *Report {
	t.Helper()
	items := readAll(t, []string{in}, opt)
	require.Len(t, items, 1)
	require.NoError(t, items[0].Err)
	require.NotNil(t, items[0].Report)
	return items[0].Report
}

// writeFile writes data under dir and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

// gzipped compresses data.
func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// sources lists the Source of each Item.
func sources(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Source)
	}
	return out
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"": FormatAuto, "AUTO": FormatAuto, "eml": FormatEmail, "email": FormatEmail,
		"mboxrd": FormatMbox, "Maildir": FormatMaildir, "ndjson": FormatJSONL, "txt": FormatText,
	} {
		got, err := ParseFormat(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, f := range []Format{FormatAuto, FormatEmail, FormatMbox, FormatMaildir, FormatJSONL, FormatText, FormatPublicInbox} {
		got, err := ParseFormat(string(f))
		require.NoError(t, err)
		assert.Equal(t, f, got)
	}
	_, err := ParseFormat("pdf")
	require.ErrorContains(t, err, `"pdf"`)
}

func TestDetect(t *testing.T) {
	cases := []struct {
		name   string
		head   string
		kind   sniffResult
		format Format
	}{
		{"empty", "", sniffEmpty, ""},
		{"blank", " \n\t\n", sniffEmpty, ""},
		{"gzip", "\x1f\x8b\x08\x00", sniffGzip, ""},
		{"nul", "abc\x00def", sniffBinary, ""},
		{"mbox", "From a@b Mon Jun  2 10:00:00 2025\nFrom: a@b\n\nx\n", sniffFormat, FormatMbox},
		{"prose starting with From", "From the start, the driver was broken.\nIt leaks.\n", sniffFormat, FormatText},
		{"jsonl", "{\"id\":\"1\",\"text\":\"x\"}\n{\"id\":2}\n", sniffFormat, FormatJSONL},
		{"pretty json is text", "{\n  \"id\": 1\n}\n", sniffFormat, FormatText},
		{"email", "Received: from x\n\tby y\nSubject: hi\n\nbody\n", sniffFormat, FormatEmail},
		{"title line is text", "Title: overflow in foo\n\nDetails follow.\n", sniffFormat, FormatText},
		{"prose", "Hello,\nI found a bug: it crashes.\n", sniffFormat, FormatText},
		{"latin1 text", "caf\xe9 cr\xe8me\n", sniffFormat, FormatText},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kind, format := detect([]byte(c.head), true)
			assert.Equal(t, c.kind, kind)
			assert.Equal(t, c.format, format)
		})
	}
}

func TestDecodeQuotedPrintableLatin1AndEncodedWords(t *testing.T) {
	r := readOne(t, "testdata/email/qp-latin1.eml", Options{})
	assert.Equal(t, "Überlauf in foo_rx", r.Subject)
	assert.Equal(t, "Jörg Müller <joerg@example.org>", r.From)
	assert.Contains(t, r.Body, "Grüße aus Köln.\nThe driver")
	assert.NotContains(t, r.Body, "=\n")
	assert.Equal(t, time.Date(2025, 6, 3, 8, 15, 0, 0, time.UTC), r.Date.UTC())
	assert.Equal(t, "qp-latin1@example.org", r.ID)
	assert.Equal(t, "qp-latin1@example.org", r.MessageID)
	assert.Empty(t, r.Notes)
}

func TestDecodeBase64AndThreading(t *testing.T) {
	r := readOne(t, "testdata/email/base64-utf8.eml", Options{})
	assert.Equal(t, "KASAN: use-after-free in ext4_xattr_get — reproducer below.\nЭто тест.\n", r.Body)
	assert.Equal(t, "parent@example.com", r.InReplyTo)
	assert.Equal(t, []string{"root@example.com", "parent@example.com"}, r.References)
	raw, err := os.ReadFile("testdata/email/base64-utf8.eml")
	require.NoError(t, err)
	assert.Equal(t, newReport("", raw).Hash, r.Hash)
	assert.Len(t, r.Hash, 64)
}

func TestDecodeCharsets(t *testing.T) {
	koi := readOne(t, "testdata/email/koi8r.eml", Options{})
	assert.Equal(t, "Ошибка в драйвере", koi.Subject)
	assert.Equal(t, "Иван Петров <ivan@example.ru>", koi.From)
	assert.Equal(t, "Привет! Найдена ошибка в драйвере.\n", koi.Body)
	assert.True(t, koi.Date.IsZero(), "a bad Date is left zero")
	assert.Contains(t, strings.Join(koi.Notes, "\n"), "Date")

	sjis := readOne(t, "testdata/email/shiftjis.eml", Options{})
	assert.Equal(t, "バグ報告", sjis.Subject)
	assert.Equal(t, "カーネルのバグです。\n", sjis.Body)

	unk := readOne(t, "testdata/email/unknown-charset.eml", Options{})
	assert.Equal(t, "café crème\n", unk.Body, "unknown charset falls back to windows-1252")
	require.Len(t, unk.Notes, 1)
	assert.Contains(t, unk.Notes[0], "x-no-such-charset")

	txt := readOne(t, "testdata/text-cp1252.txt", Options{})
	assert.Equal(t, "Report: “smart quotes” in the driver", txt.Subject)
	assert.Equal(t, FormatText, txt.Format)
	assert.Equal(t, "testdata/text-cp1252.txt", txt.ID)
}

func TestMultipartMixedAttachments(t *testing.T) {
	r := readOne(t, "testdata/email/mixed-attachments.eml", Options{})
	assert.Equal(t, "Hello,\n\nsyzbot found the following issue. Reproducer and config attached.", r.Body)
	require.Len(t, r.Attachments, 4)
	byName := map[string]Attachment{}
	for _, a := range r.Attachments {
		byName[a.Name] = a
	}
	repro := byName["repro.c"]
	assert.False(t, repro.Binary)
	assert.Equal(t, "text/x-csrc", repro.ContentType)
	assert.Contains(t, repro.Text, "syscall(999, 0, 0);")
	assert.Equal(t, int64(len(repro.Text)), repro.Size)

	config := byName[".config"]
	assert.False(t, config.Binary, "octet-stream that sniffs as text is kept")
	assert.Equal(t, "CONFIG_KASAN=y\nCONFIG_DEBUG_INFO=y\n", config.Text)

	png := byName["screenshot.png"]
	assert.True(t, png.Binary)
	assert.Empty(t, png.Text)
	assert.Equal(t, "image/png", png.ContentType)
	assert.Equal(t, int64(33), png.Size)

	diff := byName["part5.diff"]
	assert.Equal(t, "text/x-diff", diff.ContentType)
	assert.Contains(t, diff.Text, "+\tif (len >= max)")

	var names []string
	for _, p := range r.Parts() {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"subject", "body", "attachment:repro.c", "attachment:.config", "attachment:part5.diff"}, names)
}

func TestMultipartAlternative(t *testing.T) {
	r := readOne(t, "testdata/email/alternative.eml", Options{})
	assert.Equal(t, "Plain version.", r.Body, "text/plain wins even when HTML comes first")
	assert.Empty(t, r.Attachments)

	h := readOne(t, "testdata/email/html-only.eml", Options{})
	assert.Equal(t, "Null deref in foo_ioctl() & café\n\nSecond line\n", h.Body)
	assert.NotContains(t, h.Body, "color")
}

func TestMalformedMIME(t *testing.T) {
	bad := readOne(t, "testdata/email/bad-boundary.eml", Options{})
	assert.Equal(t, "bad boundary", bad.Subject)
	assert.Contains(t, bad.Body, "The real text of the report.")
	assert.Contains(t, strings.Join(bad.Notes, "\n"), "raw body")

	tr := readOne(t, "testdata/email/truncated-multipart.eml", Options{})
	assert.Equal(t, "First part is complete.", tr.Body)
	require.Len(t, tr.Attachments, 1)
	assert.Equal(t, "dmesg.txt", tr.Attachments[0].Name)
	assert.Contains(t, tr.Attachments[0].Text, "BUG: kernel NULL pointer dereference")
	assert.NotEmpty(t, tr.Notes)

	// Header block unreadable: the message survives as text.
	dir := t.TempDir()
	p := writeFile(t, dir, "x.eml", []byte("Subject: ok\nThis line is not a header\n\nbody\n"))
	r := readOne(t, p, Options{Format: FormatEmail})
	assert.Contains(t, r.Body, "body")
	assert.NotEmpty(t, r.Notes)
}

func TestMboxEscaping(t *testing.T) {
	o := readAll(t, []string{"testdata/mbox/mboxo.mbox"}, Options{})
	require.Len(t, o, 2)
	require.NoError(t, o[0].Err)
	require.NoError(t, o[1].Err)
	assert.Equal(t, "Line one.\nFrom the start this was wrong.\n", o[0].Report.Body)
	assert.Equal(t, "testdata/mbox/mboxo.mbox:2", o[1].Source)
	assert.Equal(t, "testdata/mbox/mboxo.mbox:2", o[1].Report.ID, "no Message-ID: ID is path:index")
	assert.Equal(t, FormatMbox, o[1].Report.Format)

	rd := readOne(t, "testdata/mbox/mboxrd.mbox", Options{})
	assert.Equal(t, "From here on, it breaks.\n>From there, it was quoted.\n>>From deeper still.\n> From is not escaped with a space.\n", rd.Body)
	assert.Equal(t, "testdata/mbox/mboxrd.mbox:1", rd.Source)
}

func TestUnescapeFromLine(t *testing.T) {
	for in, want := range map[string]string{
		">>From x\r\n": ">From x\r\n", ">>>From y\n": ">>From y\n", ">From z\n": "From z\n",
		">>Fromage\n": "", ">>From": "", "a\n": "", "> From x\n": "",
	} {
		got, ok := unescapeFromLine([]byte(in))
		assert.Equal(t, want != "", ok, in)
		assert.Equal(t, want, string(got), in)
	}
}

func TestGzipDetectedByMagic(t *testing.T) {
	dir := t.TempDir()
	mb, err := os.ReadFile("testdata/mbox/mboxo.mbox")
	require.NoError(t, err)
	p := writeFile(t, dir, "notes.txt", gzipped(t, mb))
	items := readAll(t, []string{p}, Options{})
	require.Len(t, items, 2)
	for _, it := range items {
		require.NoError(t, it.Err)
		assert.Equal(t, FormatMbox, it.Report.Format)
	}
	assert.Equal(t, p+":1", items[0].Source)
	assert.Equal(t, "first", items[0].Report.Subject)

	// gzip of an email and of plain text, under misleading names too.
	eml, err := os.ReadFile("testdata/email/koi8r.eml")
	require.NoError(t, err)
	q := writeFile(t, dir, "archive.mbox", gzipped(t, eml))
	r := readOne(t, q, Options{})
	assert.Equal(t, "Ошибка в драйвере", r.Subject)
	assert.Equal(t, FormatEmail, r.Format)

	s := writeFile(t, dir, "mail.eml", gzipped(t, []byte("plain words\n")))
	assert.Equal(t, "plain words", readOne(t, s, Options{}).Subject)

	// gzip that holds nothing.
	e := writeFile(t, dir, "empty.gz", gzipped(t, nil))
	items = readAll(t, []string{e}, Options{})
	require.Len(t, items, 1)
	require.ErrorContains(t, items[0].Err, "empty")

	// Corrupt gzip: right magic, wrong rest.
	c := writeFile(t, dir, "bad.gz", []byte("\x1f\x8bnot really gzip"))
	items = readAll(t, []string{c}, Options{})
	require.Len(t, items, 1)
	require.ErrorContains(t, items[0].Err, "gzip")
}

func TestMaildir(t *testing.T) {
	items := readAll(t, []string{"testdata/maildir"}, Options{})
	require.Equal(t, []string{"testdata/maildir/cur/1700000000.M0P0.host", "testdata/maildir/cur/1700000001.M1P1.host:2,S",
		"testdata/maildir/new/1700000002.M2P2.host"}, sources(items), "each row names its message file")
	assert.Equal(t, "testdata/maildir/1700000000.M0P0.host", items[0].Report.ID, "without a Message-ID the id survives flag changes")
	assert.Equal(t, "md1@example.com", items[1].Report.ID)
	var subjects []string
	for _, it := range items {
		require.NoError(t, it.Err)
		subjects = append(subjects, it.Report.Subject)
		assert.Equal(t, FormatMaildir, it.Report.Format)
	}
	// Sorted by key: cur's 1700000000 and 1700000001, then new's 1700000002.
	assert.Equal(t, []string{"maildir no info", "maildir seen", "maildir new"}, subjects)
	assert.Equal(t, "md1@example.com", items[1].Report.ID)

	// Found inside a directory walk, with tmp/ present and a plain file
	// beside it; the Maildir is read as one, and nothing is moved.
	dir := t.TempDir()
	writeFile(t, dir, "a-report.txt", []byte("first report\n"))
	md := filepath.Join(dir, "box")
	writeFile(t, md, "cur/1.x:2,S", []byte("Subject: one\n\nbody one\n"))
	writeFile(t, md, "new/2.x", []byte("Subject: two\n\nbody two\n"))
	writeFile(t, md, "tmp/3.x", []byte("Subject: in flight\n\nnot yet delivered\n"))
	writeFile(t, md, ".Sub/cur/4.x:2,", []byte("Subject: subfolder\n\nbody four\n"))
	require.NoError(t, os.MkdirAll(filepath.Join(md, ".Sub", "new"), 0o755))
	writeFile(t, dir, "z-report.txt", []byte("last report\n"))
	items = readAll(t, []string{dir}, Options{})
	require.Equal(t, []string{
		filepath.Join(dir, "a-report.txt"), filepath.Join(md, "cur", "1.x:2,S"), filepath.Join(md, "new", "2.x"),
		filepath.Join(md, ".Sub", "cur", "4.x:2,"), filepath.Join(dir, "z-report.txt"),
	}, sources(items))
	for _, it := range items {
		require.NoError(t, it.Err)
	}
	_, err := os.Stat(filepath.Join(md, "new", "2.x"))
	require.NoError(t, err, "reading must not move new/ messages")

	// Forcing Maildir on a plain directory is an error Item.
	items = readAll(t, []string{t.TempDir()}, Options{Format: FormatMaildir})
	require.Len(t, items, 1)
	require.ErrorContains(t, items[0].Err, "Maildir")
}

func TestJSONL(t *testing.T) {
	items := readAll(t, []string{"testdata/jsonl/reports.jsonl"}, Options{})
	p := "testdata/jsonl/reports.jsonl"
	require.Equal(t, []string{p + ":1", p + ":2", p + ":3", p + ":5", p + ":6", p + ":7"}, sources(items))

	text := items[0].Report
	require.NotNil(t, text)
	assert.Equal(t, "r-1", text.ID)
	assert.Equal(t, "Title line", text.Subject)
	assert.Equal(t, "eve@example.com", text.From)
	assert.Equal(t, "Title line\nThe text body.\n", text.Body)
	assert.Equal(t, newReport("", []byte("Title line\nThe text body.\n")).Hash, text.Hash)

	raw := items[1].Report
	require.NotNil(t, raw)
	assert.Equal(t, "r-2", raw.ID, "the JSON id wins over the Message-ID")
	assert.Equal(t, "raw1@example.com", raw.MessageID)
	assert.Equal(t, "raw report", raw.Subject)
	assert.Equal(t, "Raw body.\n", raw.Body)

	require.Error(t, items[2].Err, "a broken line is an error for that line only")
	assert.Contains(t, items[2].Err.Error(), "invalid JSON")
	assert.Equal(t, "4", items[3].Report.ID)
	assert.Equal(t, "Given subject", items[3].Report.Subject)
	require.ErrorContains(t, items[4].Err, `"text"`)
	assert.Equal(t, "raw6@example.com", items[5].Report.ID, "no id: Message-ID")

	// A line over MaxMessageBytes is an error for that line; the next is read.
	dir := t.TempDir()
	long := `{"id":"big","text":"` + strings.Repeat("x", 300) + `"}`
	f := writeFile(t, dir, "r.jsonl", []byte(`{"id":"a","text":"small"}`+"\n"+long+"\n"+`{"id":"b","text":"after"}`))
	items = readAll(t, []string{f}, Options{Limits: Limits{MaxMessageBytes: 100}})
	require.Len(t, items, 3)
	require.NoError(t, items[0].Err)
	var le *LimitError
	require.ErrorAs(t, items[1].Err, &le)
	assert.Equal(t, "MaxMessageBytes", le.Limit)
	assert.Equal(t, int64(len(long)), le.Size)
	require.NoError(t, items[2].Err)
	assert.Equal(t, "b", items[2].Report.ID)
}

func TestStdin(t *testing.T) {
	msg := "From: x@example.com\nSubject: via stdin\n\nbody\n"
	r := readOne(t, "-", Options{Stdin: strings.NewReader(msg)})
	assert.Equal(t, "-", r.Source)
	assert.Equal(t, "via stdin", r.Subject)
	assert.Equal(t, "sha256:"+newReport("", []byte(msg)).Hash[:16], r.ID)

	mb, err := os.ReadFile("testdata/mbox/mboxo.mbox")
	require.NoError(t, err)
	items := readAll(t, []string{"-"}, Options{Stdin: bytes.NewReader(gzipped(t, mb))})
	require.Equal(t, []string{"-:1", "-:2"}, sources(items))
	assert.Equal(t, "o1@example.com", items[0].Report.ID)
	assert.True(t, strings.HasPrefix(items[1].Report.ID, "sha256:"))

	// Forced format on stdin.
	r = readOne(t, "-", Options{Stdin: strings.NewReader("Subject: not parsed\n"), Format: FormatText})
	assert.Equal(t, "Subject: not parsed", r.Subject)
}

func TestNonexistentPath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.eml")
	items := readAll(t, []string{missing, "testdata/text-cp1252.txt"}, Options{})
	require.Len(t, items, 2)
	assert.Equal(t, missing, items[0].Source)
	require.Error(t, items[0].Err)
	assert.True(t, errors.Is(items[0].Err, os.ErrNotExist))
	require.NoError(t, items[1].Err, "later inputs are still read")
}

// TestInEqualsOut checks the guarantee callers rely on: every unit gives
// exactly one Item with its Source, whatever is wrong with it.
func TestInEqualsOut(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("testdata/email/mixed-attachments.eml")
	require.NoError(t, err)
	want := map[string]string{} // source -> "ok" or an error fragment
	add := func(name string, data []byte, outcome string) string {
		p := writeFile(t, dir, name, data)
		want[p] = outcome
		return p
	}
	add("01-good.eml", good, "ok")
	add("02-malformed.eml", []byte("From: a@b\nSubject: broken\nContent-Type: multipart/mixed\n\nno boundary at all\n"), "ok")
	add("03-empty", nil, "empty")
	add("04-blank.txt", []byte("\n \n\t\n"), "empty")
	add("05-binary.bin", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00"), "binary")
	add("06-oversized.txt", bytes.Repeat([]byte("A line of a long report.\n"), 100), "--max-message-bytes")
	add("07-good.txt", []byte("a plain report\n"), "ok")
	add("sub/08-junk", []byte{0, 1, 2, 3, 250, 251, 252}, "binary")
	jp := writeFile(t, dir, "sub/09-good.jsonl", []byte(`{"id":"j","text":"ok"}`+"\n"))
	want[jp+":1"] = "ok"
	mbox := "From a Mon Jun  2 10:00:00 2025\nSubject: small\n\nok\n\n" +
		"From b Mon Jun  2 10:00:00 2025\nSubject: huge\n\n" + strings.Repeat("x", 3000) + "\n\n" +
		"From c Mon Jun  2 10:00:00 2025\nSubject: small again\n\nok\n"
	mp := writeFile(t, dir, "10.mbox", []byte(mbox))
	want[mp+":1"], want[mp+":2"], want[mp+":3"] = "ok", "--max-message-bytes", "ok"
	require.NoError(t, os.Mkdir(filepath.Join(dir, "11-emptydir"), 0o755))
	if os.Geteuid() != 0 {
		add("12-unreadable.txt", []byte("secret\n"), "permission denied")
		require.NoError(t, os.Chmod(filepath.Join(dir, "12-unreadable.txt"), 0))
	}
	fifo := filepath.Join(dir, "13-fifo")
	if err := mkfifo(fifo); err == nil {
		want[fifo] = "not a regular file"
	}
	dangling := filepath.Join(dir, "14-dangling")
	require.NoError(t, os.Symlink(filepath.Join(dir, "gone"), dangling))
	want[dangling] = "follow symlink"
	linked := filepath.Join(dir, "15-link.txt")
	require.NoError(t, os.Symlink(filepath.Join(dir, "07-good.txt"), linked))
	want[linked] = "ok"
	missing := filepath.Join(dir, "does-not-exist")
	want[missing] = "no such file"
	emptyDir := t.TempDir()
	want[emptyDir] = "no input files"

	items := readAll(t, []string{dir, missing, emptyDir}, Options{Limits: Limits{MaxMessageBytes: 2000}})
	got := map[string]Item{}
	for _, it := range items {
		require.NotEmpty(t, it.Source)
		_, dup := got[it.Source]
		require.False(t, dup, "two Items for %s", it.Source)
		require.True(t, (it.Err == nil) != (it.Report == nil), "%s: exactly one of Report and Err", it.Source)
		got[it.Source] = it
	}
	require.Len(t, items, len(want))
	for src, outcome := range want {
		it, ok := got[src]
		require.True(t, ok, "no Item for %s", src)
		if outcome == "ok" {
			require.NoError(t, it.Err, src)
			assert.Equal(t, src, it.Report.Source)
			continue
		}
		require.Error(t, it.Err, src)
		assert.Contains(t, it.Err.Error(), outcome, src)
	}
	// Sorted, deterministic order: a second run gives the same sequence.
	again := readAll(t, []string{dir, missing, emptyDir}, Options{Limits: Limits{MaxMessageBytes: 2000}})
	assert.Equal(t, sources(items), sources(again))
	assert.True(t, slices.IsSorted(sources(items)[:len(items)-2]))
}

func TestAttachmentLimit(t *testing.T) {
	log := strings.Repeat("[ 1.0] line of dmesg\n", 100)
	msg := "From: a@b\nSubject: big log\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nsee log\n" +
		"--b\nContent-Type: text/plain; name=dmesg.log\nContent-Disposition: attachment; filename=dmesg.log\n\n" + log + "\n--b--\n"
	p := writeFile(t, t.TempDir(), "m.eml", []byte(msg))
	r := readOne(t, p, Options{Limits: Limits{MaxAttachmentBytes: 100}})
	require.Len(t, r.Attachments, 1)
	a := r.Attachments[0]
	assert.True(t, a.Truncated)
	assert.Len(t, a.Text, 100)
	assert.Equal(t, int64(len(log)), a.Size)
	assert.Contains(t, strings.Join(r.Notes, "\n"), "MaxAttachmentBytes")
}

func TestInputLimit(t *testing.T) {
	var mb strings.Builder
	for i := range 50 {
		fmt.Fprintf(&mb, "From x Mon Jun  2 10:00:00 2025\nSubject: m%d\n\nbody %d\n\n", i, i)
	}
	p := writeFile(t, t.TempDir(), "big.mbox", []byte(mb.String()))
	items := readAll(t, []string{p}, Options{Limits: Limits{MaxInputBytes: 500}})
	require.NotEmpty(t, items)
	last := items[len(items)-1]
	require.Error(t, last.Err)
	assert.Contains(t, last.Err.Error(), "per-input size limit")
	for _, it := range items[:len(items)-1] {
		require.NoError(t, it.Err)
	}
	assert.Less(t, len(items), 50)
}

func TestMaxParts(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@b\nSubject: many parts\nContent-Type: multipart/mixed; boundary=b\n\n")
	for i := range 20 {
		fmt.Fprintf(&b, "--b\nContent-Type: text/plain; name=f%d.txt\n\npart %d\n", i, i)
	}
	b.WriteString("--b--\n")
	p := writeFile(t, t.TempDir(), "m.eml", []byte(b.String()))
	r := readOne(t, p, Options{Limits: Limits{MaxParts: 5}})
	assert.Len(t, r.Attachments, 4, "the multipart itself counts as a part")
	assert.Contains(t, strings.Join(r.Notes, "\n"), "MaxParts")
}

// genMbox builds an mbox of n small messages.
func genMbox(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "From sender%d@example.com Mon Jun  2 10:00:00 2025\n", i)
		fmt.Fprintf(&b, "From: Sender %d <sender%d@example.com>\nSubject: report %d\nMessage-ID: <m%d@example.com>\n", i, i, i, i)
		b.WriteString("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n")
		fmt.Fprintf(&b, "The driver crashes when fed packet %d.\n>From the log:\nBUG: unable to handle page fault\n\n", i)
	}
	return b.Bytes()
}

func TestContextCancel(t *testing.T) {
	p := writeFile(t, t.TempDir(), "many.mbox", genMbox(200))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	for it := range Read(ctx, []string{p, p}, Options{}) {
		require.NoError(t, it.Err)
		n++
		if n == 3 {
			cancel()
		}
	}
	assert.Equal(t, 3, n, "no Item after cancel")

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	assert.Empty(t, readAll(t, nil, Options{}))
	n = 0
	for range Read(done, []string{p}, Options{}) {
		n++
	}
	assert.Zero(t, n)
}

func TestEarlyBreak(t *testing.T) {
	p := writeFile(t, t.TempDir(), "many.mbox", genMbox(10))
	n := 0
	for range Read(context.Background(), []string{p, "testdata"}, Options{}) {
		n++
		if n == 2 {
			break
		}
	}
	assert.Equal(t, 2, n)
}

func TestLimitErrorMessage(t *testing.T) {
	e := &LimitError{Limit: "MaxMessageBytes", Max: 10, Size: 25}
	assert.Equal(t, "25 bytes is over the --max-message-bytes limit of 10 bytes", e.Error())
	d := Limits{}.withDefaults()
	assert.Equal(t, DefaultLimits(), d)
}

func BenchmarkRead(b *testing.B) {
	dir := b.TempDir()
	p := filepath.Join(dir, "bench.mbox")
	if err := os.WriteFile(p, genMbox(3000), 0o644); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for it := range Read(context.Background(), []string{p}, Options{}) {
			if it.Err != nil {
				b.Fatal(it.Err)
			}
			n++
		}
		if n != 3000 {
			b.Fatalf("read %d messages, want 3000", n)
		}
	}
}

func TestForwardedMessage(t *testing.T) {
	inner := "From: =?UTF-8?Q?Ren=C3=A9?= <rene@example.org>\nSubject: original report\nMessage-ID: <inner@example.org>\n" +
		"Date: Mon, 2 Jun 2025 10:00:00 +0000\nContent-Type: multipart/mixed; boundary=in\n\n" +
		"--in\nContent-Type: text/plain\n\nThe original text.\n" +
		"--in\nContent-Type: text/x-csrc; name=poc.c\nContent-Disposition: attachment; filename=poc.c\n\nint main(void) { return 0; }\n--in--\n"
	outer := "From: fwd@example.com\nSubject: Fwd: original report\nMessage-ID: <outer@example.com>\n" +
		"Content-Type: multipart/mixed; boundary=out\n\n" +
		"--out\nContent-Type: text/plain\n\nForwarding this.\n" +
		"--out\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n" + inner + "--out--\n"
	r := readOne(t, writeFile(t, t.TempDir(), "fwd.eml", []byte(outer)), Options{})
	assert.Equal(t, "outer@example.com", r.ID)
	assert.Equal(t, "Forwarding this.", r.Body)
	require.Len(t, r.Attachments, 2)
	fwd := r.Attachments[0]
	assert.Equal(t, "message/rfc822", fwd.ContentType)
	assert.Equal(t, "part2.eml", fwd.Name)
	assert.Contains(t, fwd.Text, "From: René <rene@example.org>\nSubject: original report\n")
	assert.Contains(t, fwd.Text, "\n\nThe original text.")
	assert.Equal(t, "poc.c", r.Attachments[1].Name)
	assert.Contains(t, r.Attachments[1].Text, "int main")
}

func TestUTF16Text(t *testing.T) {
	// "Bug: ü\n" in UTF-16LE with a byte order mark.
	data := []byte{0xff, 0xfe, 'B', 0, 'u', 0, 'g', 0, ':', 0, ' ', 0, 0xfc, 0, '\n', 0}
	r := readOne(t, writeFile(t, t.TempDir(), "r.txt", data), Options{})
	assert.Equal(t, "Bug: ü", r.Subject)
	assert.Equal(t, "Bug: ü\n", r.Body)
}

func TestBrokenTransferEncodingKeepsRawBody(t *testing.T) {
	msg := "From: a@b\nSubject: bad base64\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!! not base64 at all !!!!\n"
	r := readOne(t, writeFile(t, t.TempDir(), "b.eml", []byte(msg)), Options{})
	assert.Contains(t, r.Body, "not base64 at all")
	assert.Contains(t, strings.Join(r.Notes, "\n"), "raw body")
}

func TestFromLineBeforeSingleMessage(t *testing.T) {
	raw := "From 1234abcd Mon Sep 17 00:00:00 2001\nFrom: dev@example.com\nSubject: [PATCH] fix overflow\n\nbody\n"
	line := fmt.Sprintf(`{"id":"p1","raw":%q}`, raw)
	r := readOne(t, writeFile(t, t.TempDir(), "x.jsonl", []byte(line+"\n")), Options{})
	assert.Equal(t, "[PATCH] fix overflow", r.Subject)
	assert.Equal(t, "dev@example.com", r.From)
	assert.Equal(t, "body\n", r.Body)
}

func TestAlternativeEmptyPlainPrefersHTML(t *testing.T) {
	msg := "From: a@b\nSubject: s\nContent-Type: multipart/alternative; boundary=a\n\n" +
		"--a\nContent-Type: text/plain\n\n \n--a\nContent-Type: text/html\n\n<p>Real&nbsp;text</p>\n--a--\n"
	r := readOne(t, writeFile(t, t.TempDir(), "a.eml", []byte(msg)), Options{})
	assert.Equal(t, "Real text\n", r.Body)
}

func TestBadContentTypeParameters(t *testing.T) {
	msg := "From: a@b\nSubject: s\nContent-Type: text/plain; charset\n\nhello\n"
	r := readOne(t, writeFile(t, t.TempDir(), "a.eml", []byte(msg)), Options{})
	assert.Equal(t, "hello\n", r.Body)
	assert.Contains(t, strings.Join(r.Notes, "\n"), "malformed")

	// Unquoted file name with spaces, and a charset in a broken field.
	msg = "From: a@b\nSubject: s\nContent-Type: multipart/mixed; boundary=b\n\n" +
		"--b\nContent-Type: text/plain; charset=iso-8859-1; format\n\ncaf\xe9\n" +
		"--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=my repro.c\n\nint x;\n--b--\n"
	r = readOne(t, writeFile(t, t.TempDir(), "b.eml", []byte(msg)), Options{})
	assert.Equal(t, "café", r.Body)
	require.Len(t, r.Attachments, 1)
	assert.Equal(t, "my repro.c", r.Attachments[0].Name)
}

func TestEmailAfterBOMAndBlankLines(t *testing.T) {
	msg := "\xef\xbb\xbf\r\n\r\nFrom: a@example.com\r\nSubject: pasted\r\n\r\nbody\r\n"
	r := readOne(t, writeFile(t, t.TempDir(), "p.eml", []byte(msg)), Options{})
	assert.Equal(t, FormatEmail, r.Format)
	assert.Equal(t, "pasted", r.Subject)
	assert.Equal(t, "a@example.com", r.From)
	assert.Equal(t, "body\n", r.Body)
}

func TestWalkSkipsHiddenEntriesButReadsANamedHiddenFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".git", "objects"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".git", "objects", "ab"), []byte{0x78, 0x01, 0, 0xff}, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".DS_Store"), []byte{0, 0, 0, 1, 'B', 'u', 'd', '1'}, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "report.txt"), []byte("A bug in 6.12.3: writing to /dev/port oopses.\n"), 0o644))

	var sources []string
	for it := range Read(context.Background(), []string{dir}, Options{}) {
		require.NoError(t, it.Err, it.Source)
		sources = append(sources, it.Source)
	}
	assert.Equal(t, []string{filepath.Join(dir, "report.txt")}, sources)

	hidden := filepath.Join(dir, ".draft-report.txt")
	require.NoError(t, os.WriteFile(hidden, []byte("A bug in 6.12.3, draft.\n"), 0o644))
	n := 0
	for it := range Read(context.Background(), []string{hidden}, Options{}) {
		require.NoError(t, it.Err)
		n++
	}
	assert.Equal(t, 1, n, "a hidden file named as an input is read")
}

func TestMboxSplitsOnlyAtRealSeparators(t *testing.T) {
	o := readAll(t, []string{"testdata/mbox/mboxo-unescaped.mbox"}, Options{})
	require.Len(t, o, 2, "body lines starting with 'From ' do not open messages")
	for _, it := range o {
		require.NoError(t, it.Err)
	}
	assert.Contains(t, o[0].Report.Body, "From the log, syzkaller sent a sequence")
	assert.Contains(t, o[0].Report.Body, "From here the filter chain was freed twice.")
	assert.Equal(t, "cna-0002@example.org", o[1].Report.MessageID)

	p := readAll(t, []string{"testdata/mbox/format-patch.mbox"}, Options{})
	require.Len(t, p, 2, "git format-patch separators carry a commit id and a fixed date")
	assert.Equal(t, "[PATCH 2/2] tun: document the queue limit", p[1].Report.Subject)
	assert.Equal(t, "From the start the limit was undocumented.\n", p[1].Report.Body, ">From is unescaped")

	for line, want := range map[string]bool{
		"From a@b Mon Jun  2 10:00:00 2025\n":           true,
		"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n": true,
		"From a@b Mon, 2 Jun 2025 10:00:00 +0000\n":     true,
		"From 3f2a9c1d0b8e Mon Sep 17 00:00:00 2001\n":  true,
		"From the log, syzkaller sent a sequence\n":     false,
		"From here on, it breaks.\n":                    false,
		"From: a@b\n":                                   false,
		"From a@b with love, on Mon Jun 2\n":            false,
	} {
		assert.Equal(t, want, isMboxSeparator([]byte(line)), line)
	}
}

func TestErrorsAUserCanActOn(t *testing.T) {
	dir := t.TempDir()

	// A gzip stream that breaks after a good start says so.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write(bytes.Repeat([]byte("Subject: x\n\nline of a long report body\n"), 4000))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	cut := gz.Bytes()[:gz.Len()/2]
	items := readAll(t, []string{writeFile(t, dir, "cut.eml.gz", cut)}, Options{})
	require.Len(t, items, 1)
	require.Error(t, items[0].Err)
	assert.Contains(t, items[0].Err.Error(), "gzip")
	assert.NotContains(t, items[0].Err.Error(), "binary content")

	// The size limit names the flag that raises it.
	big := writeFile(t, dir, "big.eml", append([]byte("Subject: big\n\n"), bytes.Repeat([]byte("a"), 2000)...))
	items = readAll(t, []string{big}, Options{Limits: Limits{MaxMessageBytes: 1000}})
	require.Len(t, items, 1)
	assert.ErrorContains(t, items[0].Err, "--max-message-bytes")
	assert.NotContains(t, items[0].Err.Error(), "MaxMessageBytes")

	// JSONL lines that are not report objects get their own messages.
	jl := writeFile(t, dir, "r.jsonl", []byte("{\"id\":\"ok\",\"text\":\"a report\"}\n[1,2]\n{\"id\":\"e\",\"text\":\"   \"}\n\"just a string\"\n"))
	items = readAll(t, []string{jl}, Options{})
	require.Len(t, items, 4)
	assert.NoError(t, items[0].Err)
	assert.ErrorContains(t, items[1].Err, "JSON line is an array, not an object")
	assert.ErrorContains(t, items[2].Err, "field text is empty")
	assert.ErrorContains(t, items[3].Err, "JSON line is a string, not an object")
}

// TestHiddenKeepsHeaderFieldsAndHTMLComments: text a detector of injected
// instructions must see although the body does not show it.
func TestHiddenKeepsHeaderFieldsAndHTMLComments(t *testing.T) {
	dir := t.TempDir()
	msg := "From: a@example.org\r\nSubject: s\r\nMessage-ID: <1@x>\r\n" +
		"X-Note: =?utf-8?q?for_the_bot?=\r\nDKIM-Signature: v=1; b=abc\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nplain body\r\n" +
		"--b\r\nContent-Type: text/html\r\n\r\n<p>html body<!-- hidden\r\n words --></p><!---->\r\n--b--\r\n"
	r := readOne(t, writeFile(t, dir, "m.eml", []byte(msg)), Options{})
	assert.Equal(t, "plain body", r.Body)
	assert.Equal(t, []Part{{Name: "header:X-Note", Text: "for the bot"}, {Name: "html-comment", Text: "hidden\n words"}}, r.Hidden)
	assert.NotContains(t, r.Body, "hidden")

	reply := &Report{ID: "2", InReplyTo: "1@x", MessageID: "2@x", Body: "b", Hidden: []Part{{Name: "header:X-Other", Text: "x"}}}
	joined, err := JoinThread([]*Report{r, reply})
	require.NoError(t, err)
	assert.Len(t, joined.Hidden, 3)
	assert.Len(t, r.Hidden, 2, "joining must not change the root")
}
