package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const crashReport = `From: Kenji Sato <ksato@fuzz.example.jp>
Subject: KASAN slab-use-after-free in nfc_llcp_sock_release
Message-ID: <crash-a@fuzz.example.jp>

Our fuzzer found this on 6.14-rc1 as an unprivileged user:

BUG: KASAN: slab-use-after-free in nfc_llcp_sock_release+0x6b2/0x7c0
Read of size 8 at addr ffff88801c3a4e10 by task repro/9120
Call Trace:
 <TASK>
 dump_stack_lvl+0x7d/0xa0
 kasan_report+0xb5/0xe0
 nfc_llcp_sock_release+0x6b2/0x7c0
 __sock_release+0xb0/0x270
 sock_close+0x1c/0x30
 </TASK>

The reproducer opens two LLCP sockets and closes them from two threads.
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	return dir
}

func TestScreenRecordsTheHistoryAndFindsDuplicates(t *testing.T) {
	isolate(t)
	resend := strings.Replace(crashReport, "<crash-a@", "<crash-resend@", 1)
	resend = strings.Replace(resend, "Kenji Sato <ksato@", "Someone Else <else@", 1)
	dir := writeFiles(t, map[string]string{"a.eml": crashReport, "b.eml": resend,
		"c.txt": "ext4: a WARN in ext4_xattr_set_entry on a crafted image, root needed to mount.\n"})
	// JSONL rows, and the history's records, come in the order the
	// reports are done: the resend, which waits for the first one's
	// decision without a slot, may come after c.txt even at -j 1; the
	// history numbers them in that order too (a.eml is always #1).
	code, out, errOut := secscreen(t, "screen", "--backend", "rules", "-j", "1", "-f", "jsonl", dir)
	require.Equal(t, exitOK, code, errOut)
	rows := jsonl(t, out)
	require.Len(t, rows, 3)
	rows = inSourceOrder(t, rows, "a.eml", "b.eml", "c.txt")
	assert.Empty(t, rows[0]["duplicate_of"])
	assert.Equal(t, "duplicate", rows[1]["decision"], "the resend reuses the first one's decision")
	dups := rows[1]["duplicate_of"].([]any)
	require.Len(t, dups, 1)
	d := dups[0].(map[string]any)
	assert.Equal(t, "crash-a@fuzz.example.jp", d["id"])
	assert.Equal(t, "exact", d["signal"])
	assert.Equal(t, rows[0]["verdict"], d["verdict"])
	assert.Contains(t, errOut, "duplicates: 1 of earlier reports, 1 decisions reused")
	assert.Contains(t, errOut, "3 recorded")
	db := filepath.Join(os.Getenv("XDG_DATA_HOME"), "secscreen", "history.db")
	assert.FileExists(t, db, "the default history is in the user data dir")

	// A later run: the same crash from another sender, in other words.
	other := writeFiles(t, map[string]string{"d.txt": "Subject: use after free closing NFC LLCP sockets\n\n" +
		"syzkaller hit this on v6.13.2 when two sockets for one SAP close at once:\n\n" +
		"BUG: KASAN: slab-use-after-free in nfc_llcp_sock_release+0x6a9/0x7b0 net/nfc/llcp_sock.c:639\n" +
		"Call Trace:\n <TASK>\n __dump_stack lib/dump_stack.c:94 [inline]\n dump_stack_lvl+0x116/0x1f0 lib/dump_stack.c:120\n" +
		" nfc_llcp_sock_release+0x6a9/0x7b0 net/nfc/llcp_sock.c:639\n __sock_release+0xae/0x260 net/socket.c:659\n" +
		" sock_close+0x1c/0x30 net/socket.c:1421\n </TASK>\n"})
	code, out, errOut = secscreen(t, "screen", "--backend", "rules", "-j", "1", "-f", "jsonl", other, dir+"/a.eml")
	require.Equal(t, exitOK, code, errOut)
	rows = inSourceOrder(t, jsonl(t, out), "d.txt", "a.eml")
	dups = rows[0]["duplicate_of"].([]any)
	require.NotEmpty(t, dups)
	d = dups[0].(map[string]any)
	assert.Equal(t, "crash", d["signal"])
	assert.Contains(t, d["evidence"], "nfc_llcp_sock_release")
	assert.EqualValues(t, 1, d["history_id"])
	assert.Empty(t, rows[1]["duplicate_of"], "screening a report again updates it: it is not its own duplicate, nor of those that came after it")

	// The history commands.
	code, out, errOut = secscreen(t, "history", "show", "crash-a@fuzz.example.jp")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "screened:  2 time(s)")
	assert.Contains(t, out, "nfc_llcp_sock_release")

	code, out, errOut = secscreen(t, "history", "show", "#1", "-f", "json")
	require.Equal(t, exitOK, code, errOut)
	var shown []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &shown))
	require.Len(t, shown, 1)
	assert.Equal(t, "crash-a@fuzz.example.jp", shown[0]["id"], "the first report screened is #1")

	code, out, errOut = secscreen(t, "history", "search", "ext4_xattr_set_entry")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "c.txt")
	assert.NotContains(t, out, "nfc")

	code, out, errOut = secscreen(t, "history", "search", "--like", dir+"/b.eml")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "duplicate: exact")
	assert.Contains(t, out, "duplicate: crash")

	code, out, errOut = secscreen(t, "history", "stats")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "4 reports, 0 labeled by the team, 2 duplicates")
	assert.Contains(t, out, "3 reports  #1")

	code, _, errOut = secscreen(t, "history", "label", "crash-a@fuzz.example.jp", "--verdict", "security", "--category", "leak.padding")
	assert.Equal(t, exitUsage, code, "a category of another verdict")
	assert.Contains(t, errOut, "leak.padding")
	code, _, _ = secscreen(t, "history", "label", "nobody@nowhere", "--verdict", "invalid", "--category", "invalid.intended")
	assert.Equal(t, exitFailure, code)
	code, out, errOut = secscreen(t, "history", "label", "crash-a@fuzz.example.jp", "--verdict", "security", "--category", "isolation.memory", "--note", "confirmed", "--by", "alice")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "#1 crash-a@fuzz.example.jp: security / isolation.memory")

	code, out, errOut = secscreen(t, "history", "export", "-f", "csv")
	require.Equal(t, exitOK, code, errOut)
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	assert.Len(t, records, 5)
	code, out, errOut = secscreen(t, "history", "export")
	require.Equal(t, exitOK, code, errOut)
	assert.Len(t, jsonl(t, out), 4)

	corpusDir := filepath.Join(t.TempDir(), "team")
	code, _, errOut = secscreen(t, "corpus", "export", "--from-history", corpusDir)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "1 labeled reports written")
	labels, err := os.ReadFile(filepath.Join(corpusDir, "labels.jsonl"))
	require.NoError(t, err)
	assert.Contains(t, string(labels), `"verdict":"security","category":"isolation.memory"`)
	assert.Contains(t, string(labels), `"split":"dev"`)

	// A report the team labeled: its next duplicate takes the label.
	again := writeFiles(t, map[string]string{"e.eml": strings.Replace(crashReport, "<crash-a@", "<crash-third@", 1)})
	code, out, errOut = secscreen(t, "screen", "--backend", "rules", "-f", "jsonl", again)
	require.Equal(t, exitOK, code, errOut)
	rows = jsonl(t, out)
	assert.Equal(t, "duplicate", rows[0]["decision"])
	assert.Equal(t, "security", rows[0]["verdict"])
	assert.Equal(t, "isolation.memory", rows[0]["category"])
	assert.Equal(t, true, rows[0]["duplicate_of"].([]any)[0].(map[string]any)["labeled"])
}

func TestNoHistoryStillFindsDuplicatesWithinTheRun(t *testing.T) {
	isolate(t)
	dir := writeFiles(t, map[string]string{"a.eml": crashReport, "b.eml": strings.Replace(crashReport, "<crash-a@", "<crash-b@", 1)})
	code, out, errOut := secscreen(t, "screen", "--backend", "rules", "--no-history", "-f", "jsonl", dir)
	require.Equal(t, exitOK, code, errOut)
	rows := jsonl(t, out)
	assert.Equal(t, "duplicate", rows[1]["decision"])
	assert.NotContains(t, errOut, "recorded")
	assert.NoDirExists(t, filepath.Join(os.Getenv("XDG_DATA_HOME"), "secscreen"))
}

func TestHistoryIsNamedByFlagOrEnvironment(t *testing.T) {
	isolate(t)
	dir := writeFiles(t, map[string]string{"a.eml": crashReport})
	path := filepath.Join(t.TempDir(), "team.db")
	code, _, errOut := secscreen(t, "screen", "--backend", "rules", "--history", path, "-q", dir)
	require.Equal(t, exitOK, code, errOut)
	assert.FileExists(t, path)
	t.Setenv("SECSCREEN_HISTORY", path)
	code, out, errOut := secscreen(t, "history", "show", "crash-a@fuzz.example.jp")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "#1 crash-a@fuzz.example.jp")

	// A history that cannot be opened stops the run before it starts.
	code, _, errOut = secscreen(t, "screen", "--backend", "rules", "--history", "postgres://u:pw@127.0.0.1:1/none?connect_timeout=2", dir)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "--no-history")
	assert.NotContains(t, errOut, ":pw@")

	code, _, _ = secscreen(t, "history", "search")
	assert.Equal(t, exitUsage, code)
}

// inSourceOrder returns rows ordered as the files named, each matched by
// the end of its source: JSONL rows come as reports are done, and a
// report that waits for an earlier duplicate's decision may come later.
func inSourceOrder(t *testing.T, rows []map[string]any, files ...string) []map[string]any {
	t.Helper()
	require.Len(t, rows, len(files))
	out := make([]map[string]any, 0, len(files))
	for _, f := range files {
		for _, r := range rows {
			if src, _ := r["source"].(string); strings.HasSuffix(src, "/"+f) {
				out = append(out, r)
			}
		}
	}
	require.Len(t, out, len(files), "rows for %v", files)
	return out
}
