package intake

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedFiles adds every fixture matching the globs to f's seed corpus.
func seedFiles(f *testing.F, globs ...string) {
	f.Helper()
	for _, g := range globs {
		paths, err := filepath.Glob(g)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
}

// FuzzParseEmail: any bytes give a report or an error, never a panic, and a
// report's text is valid UTF-8 within the limits.
func FuzzParseEmail(f *testing.F) {
	seedFiles(f, "testdata/email/*.eml")
	f.Add([]byte("Subject: =?utf-8?B?////?=\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n"))
	lim := Limits{MaxMessageBytes: 1 << 20, MaxAttachmentBytes: 4 << 10, MaxParts: 50}.withDefaults()
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newReport("fuzz", data)
		if err := parseEmail(data, r, lim); err != nil {
			return
		}
		for _, p := range r.Parts() {
			if !utf8.ValidString(p.Text) {
				t.Fatalf("part %s is not valid UTF-8", p.Name)
			}
		}
		for _, a := range r.Attachments {
			if int64(len(a.Text)) > lim.MaxAttachmentBytes+utf8.UTFMax*1024 {
				t.Fatalf("attachment %q keeps %d bytes, over the limit", a.Name, len(a.Text))
			}
		}
	})
}

// FuzzMboxSplit: the splitter never panics, never yields a message holding
// a separator line that follows an empty line unless the stream escaped it
// (">From ", which mboxrd unescaping turns back into the writer's line),
// and loses no body text: the messages' bytes, unescaped, account for the
// stream less its separators.
func FuzzMboxSplit(f *testing.F) {
	seedFiles(f, "testdata/mbox/*.mbox")
	f.Add([]byte("From a@b Mon Jun  2 10:00:00 2025\n\nFrom the log\n\nFrom x Tue Jun  3 10:00:00 2025\nbody\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sp := newMboxSplitter(bytes.NewReader(data), 1<<20)
		total, separators := 0, 0
		escaped := bytes.Count(data, []byte(">From "))
		for range 10000 {
			msg, err := sp.next()
			if err != nil {
				break
			}
			total += len(msg)
			lines := strings.Split(string(msg), "\n")
			for i := 1; i < len(lines); i++ {
				if isBlankLine([]byte(lines[i-1])) && isMboxSeparator([]byte(lines[i])) {
					if separators++; separators > escaped {
						t.Fatalf("message holds a separator the stream did not escape, at line %d: %q", i+1, lines[i])
					}
				}
			}
		}
		if total > len(data) {
			t.Fatalf("messages hold %d bytes, the stream only %d", total, len(data))
		}
	})
}

// FuzzJSONLine: any line gives a report or an error, never a panic.
func FuzzJSONLine(f *testing.F) {
	seedFiles(f, "testdata/jsonl/*.jsonl")
	f.Add([]byte(`{"id":1e400,"text":"x"}`))
	f.Add([]byte(`{"id":"a","raw":"Subject: s\n\nbody"}`))
	f.Add([]byte(`[{"id":"a"}]`))
	lim := DefaultLimits()
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := parseJSONLine(line, "fuzz:1", lim)
		if err == nil && r == nil {
			t.Fatal("no report and no error")
		}
	})
}

// FuzzMaildirID: a message keeps its id when it moves from new/ to cur/
// and its flags change, whatever the names involved.
func FuzzMaildirID(f *testing.F) {
	f.Add("box", "1700000001.M1P1.host", "S")
	f.Add("a:b", "1.x", "")
	f.Add(":::", "k", "2,")
	f.Fuzz(func(t *testing.T, dir, key, flags string) {
		if dir == "" || key == "" || key == "." || key == ".." || strings.ContainsAny(key, "/:") || strings.Contains(flags, "/") {
			return
		}
		fresh := maildirID(filepath.Join(dir, "new", key))
		seen := maildirID(filepath.Join(dir, "cur", key+":2,"+flags))
		if fresh != seen {
			t.Fatalf("id changed from %q to %q when the message was read", fresh, seen)
		}
	})
}
