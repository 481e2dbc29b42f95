package intake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// errUncountable stops a count whose total cannot be had cheaply.
var errUncountable = errors.New("not countable")

// CountMessages counts the messages that Read will yield for inputs,
// for a progress bar's total, or says the count cannot be had cheaply
// (ok false): standard input, a public-inbox repository, a compressed
// file. It decides what each input is as Read does (isMaildir,
// publicInboxEpochs, detect): a directory counts one message per file and
// a Maildir one per entry of cur/ and new/, from the directory entries
// alone; a file is scanned for its mbox "From " lines or JSONL lines (a
// scan that costs a small part of parsing it, see BenchmarkCountMessages).
// It stops early when ctx is done.
func CountMessages(ctx context.Context, inputs []string) (n int, ok bool) {
	for _, in := range inputs {
		if in == "-" || ctx.Err() != nil {
			return 0, false
		}
		fi, err := os.Stat(in)
		if err != nil {
			n++ // an error row
			continue
		}
		var k int
		if fi.IsDir() {
			k, err = countDir(ctx, in)
		} else {
			k, err = countFile(ctx, in)
		}
		if err != nil {
			return 0, false
		}
		n += k
	}
	return n, true
}

// countDir counts the messages of a directory as Read walks it: a
// Maildir's entries, a plain directory's files (names starting with "."
// skipped) and its subdirectories' messages; a public-inbox repository
// cannot be counted.
func countDir(ctx context.Context, dir string) (int, error) {
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if isMaildir(dir) {
		return countMaildir(dir), nil
	}
	if publicInboxEpochs(dir) != nil {
		return 0, errUncountable
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 1, nil // Read's error row
	}
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if !e.IsDir() {
			// A file, or the one error row of what Read does not
			// follow inside a walk (a symlink to a directory, a device).
			n++
			continue
		}
		k, err := countDir(ctx, filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

// countMaildir counts the entries of a Maildir's cur/ and new/ that Read
// reads (names starting with "." skipped).
func countMaildir(dir string) int {
	n := 0
	for _, sub := range []string{"cur", "new"} {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") {
				n++
			}
		}
	}
	return n
}

// countFile counts the messages of one file: the "From " lines of an
// mbox (after a blank line: a "From " line inside a message that an mboxo
// writer left unescaped is counted too), the lines with text of JSONL,
// else one. A gzip or UTF-16 file is not counted (it would be decoded
// twice).
func countFile(ctx context.Context, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 1, nil // Read's error row
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	head, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return 1, nil
	}
	var c counter
	// As Read peeks at the first sniffBytes: complete when the file is
	// shorter.
	kind, format := detect(buf[:min(head, sniffBytes)], head < sniffBytes)
	switch {
	case kind == sniffGzip || utf16BOM(buf[:head]) != nil:
		return 0, errUncountable // decompressed or transcoded first
	case kind != sniffFormat:
		return 1, nil // Read's error row
	case format == FormatMbox:
		c = &mboxCounter{n: 1}
	case format == FormatJSONL:
		c = &textLines{}
	default:
		return 1, nil
	}
	// Counting starts where detect looked: after a byte order mark and
	// blank lines, so that a "From " line after them is the first message.
	start := bytes.TrimLeft(bytes.TrimPrefix(buf[:head], []byte("\xef\xbb\xbf")), "\r\n")
	chunk := buf[head-len(start) : head]
	for len(chunk) > 0 {
		c.add(chunk)
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		// The last bytes of a chunk are read again with the next one:
		// too few to hold a separator, so one across chunks counts once.
		carry := copy(buf, chunk[max(len(chunk)-c.overlap(), 0):])
		m, err := io.ReadFull(f, buf[carry:])
		if m == 0 || err != nil && err != io.ErrUnexpectedEOF {
			break
		}
		chunk = buf[:carry+m]
	}
	return c.count(), nil
}

// A counter counts messages in a file's chunks.
type counter interface {
	add(chunk []byte)
	overlap() int // bytes of a chunk to see again with the next
	count() int
}

// fromLines are the starts of an mbox's "From " lines that open a
// message, as intake reads them: after a blank line (LF or CRLF).
var fromLines = [][]byte{[]byte("\n\nFrom "), []byte("\n\r\nFrom ")}

// mboxCounter counts an mbox's messages: one, and one more per "From "
// line after a blank line.
type mboxCounter struct{ n int }

func (c *mboxCounter) add(chunk []byte) {
	for _, sep := range fromLines {
		c.n += bytes.Count(chunk, sep)
	}
}
func (c *mboxCounter) overlap() int { return len(fromLines[1]) - 1 }
func (c *mboxCounter) count() int   { return c.n }

// textLines counts JSONL's records: the lines with text (intake skips
// blank ones).
type textLines struct {
	n    int
	text bool // the current line has text so far
}

func (c *textLines) add(chunk []byte) {
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		line := chunk
		if i >= 0 {
			line = chunk[:i]
		}
		if !c.text && len(bytes.TrimSpace(line)) > 0 {
			c.text = true
		}
		if i < 0 {
			return
		}
		if c.text {
			c.n++
		}
		c.text, chunk = false, chunk[i+1:]
	}
}
func (c *textLines) overlap() int { return 0 }
func (c *textLines) count() int {
	if c.text {
		return c.n + 1 // a last line without its newline
	}
	return c.n
}
