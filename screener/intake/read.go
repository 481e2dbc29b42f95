package intake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
)

// Options control Read.
type Options struct {
	// Format forces one input format; FormatAuto (or "") detects it from
	// each input's content. Directories are walked whatever the Format.
	Format Format
	// Limits bound what is read; zero fields take DefaultLimits.
	Limits Limits
	// Stdin is read for the input "-"; nil means os.Stdin.
	Stdin io.Reader
	// Threads folds replies into the report they answer, within each
	// input (one mbox, Maildir, directory or public-inbox): a message whose
	// In-Reply-To or References names a message of the same input, or whose
	// "Re:" subject repeats one's, joins it (JoinThread) and is listed in
	// its Report.Replies instead of being yielded alone. A report waits
	// for its replies while ThreadWindow more messages are read and while
	// the waiting text stays under ThreadBytes; replies later than that,
	// beyond 50 per report, or to a message of another input are yielded
	// on their own. Items keep the order in which their threads started.
	Threads bool
	// ThreadWindow is DefaultThreadWindow when zero.
	ThreadWindow int
	// ThreadBytes is DefaultThreadBytes when zero.
	ThreadBytes int64
	// EarlierThreads, when set with Threads, folds a reply that answers
	// no report of its input but a thread screened in an earlier run (the
	// history) into that thread: the thread, as screened then, is yielded
	// again with the reply after its replies, and its Report.Updates says
	// what was decided then (see EarlierThreads).
	EarlierThreads EarlierThreads
	// Since, when set, makes public-inbox and Maildir inputs incremental:
	// only what arrived since the state was saved is read, and what was
	// read is recorded into it (see SinceState).
	Since *SinceState
}

// Read yields one Item per input unit found in inputs, in order: a Report,
// or an error saying why that unit could not become one. Inputs are paths
// of files or directories, or "-" for Options.Stdin. Directories are walked
// recursively in sorted order; a directory holding cur/ and new/ is read as
// a Maildir. Each file's format is detected from its content (see Format);
// gzip-compressed files are decompressed first.
//
// Read stops promptly, without yielding more, once ctx is done; the caller
// then sees fewer Items than units and should check ctx.Err().
func Read(ctx context.Context, inputs []string, opt Options) iter.Seq[Item] {
	return func(yield func(Item) bool) {
		rd := &reader{
			ctx:    ctx,
			format: opt.Format,
			lim:    opt.Limits.withDefaults(),
			stdin:  opt.Stdin,
			yield:  yield,
			since:  opt.Since,
		}
		if rd.format == "" {
			rd.format = FormatAuto
		}
		if rd.stdin == nil {
			rd.stdin = os.Stdin
		}
		for _, in := range inputs {
			if !opt.Threads {
				if !rd.input(in) {
					return
				}
				continue
			}
			t := newThreader(func(it Item) bool {
				return ctx.Err() == nil && yield(it)
			}, opt.ThreadWindow, opt.ThreadBytes)
			t.ctx, t.earlier = ctx, opt.EarlierThreads
			rd.yield = t.add
			if !rd.input(in) || !t.flush() {
				return
			}
		}
	}
}

// reader holds the state of one Read.
type reader struct {
	ctx    context.Context
	format Format
	lim    Limits
	stdin  io.Reader
	yield  func(Item) bool
	since  *SinceState
	done   bool
	count  int // Items emitted so far
}

// alive reports whether reading should go on.
func (rd *reader) alive() bool {
	if !rd.done && rd.ctx.Err() != nil {
		rd.done = true
	}
	return !rd.done
}

// emit hands an Item to the consumer and reports whether to go on.
func (rd *reader) emit(it Item) bool {
	if !rd.alive() {
		return false
	}
	rd.count++
	if !rd.yield(it) {
		rd.done = true
	}
	return !rd.done
}

// fail emits an error Item for source.
func (rd *reader) fail(source string, err error) bool {
	return rd.emit(Item{Source: source, Err: err})
}

// report finishes r's identity and emits it.
func (rd *reader) report(r *Report, stdin bool) bool {
	switch {
	case r.ID != "":
	case r.MessageID != "":
		r.ID = r.MessageID
	case stdin:
		r.ID = "sha256:" + r.Hash[:16]
	case r.Format == FormatMaildir:
		r.ID = maildirID(r.Source)
	default:
		r.ID = r.Source
	}
	return rd.emit(Item{Source: r.Source, Report: r})
}

// newReport starts a Report for the raw bytes of one unit.
func newReport(source string, raw []byte) *Report {
	sum := sha256.Sum256(raw)
	return &Report{Source: source, Hash: hex.EncodeToString(sum[:])}
}

// input reads one command-line input.
func (rd *reader) input(in string) bool {
	if !rd.alive() {
		return false
	}
	if in == "-" {
		if rd.format == FormatMaildir || rd.format == FormatPublicInbox {
			return rd.fail(in, fmt.Errorf("stdin cannot be a %s", rd.format))
		}
		rd.whole(in)
		return rd.stream("-", rd.stdin, rd.format, true)
	}
	fi, err := os.Stat(in)
	if err != nil {
		return rd.fail(in, fmt.Errorf("read input: %w", err))
	}
	if fi.IsDir() {
		before := rd.count
		var ok bool
		var epochs []string
		if !isMaildir(in) {
			epochs = publicInboxEpochs(in)
		}
		switch {
		case isMaildir(in):
			ok = rd.maildir(in)
			if ok && rd.count == before && rd.since != nil {
				return true // nothing new since the last run: no row
			}
		case rd.format == FormatMaildir:
			return rd.fail(in, errors.New("not a Maildir: want cur/ and new/ directories"))
		case epochs != nil:
			ok = rd.publicInbox(in, epochs)
			if ok && rd.count == before {
				if rd.since != nil {
					return true // nothing new since the last run: no row
				}
				return rd.fail(in, errors.New(`no message in this git repository (no commit has a file "m"): not a public-inbox?`))
			}
		case rd.format == FormatPublicInbox:
			return rd.fail(in, errors.New("not a public-inbox repository: want a git repository of messages in \"m\", or git/N.git epochs"))
		default:
			rd.whole(in)
			ok = rd.walk(in)
		}
		if ok && rd.count == before {
			// An input the user named must show up, even when empty.
			return rd.fail(in, errors.New("no input files found in directory"))
		}
		return ok
	}
	rd.whole(in)
	return rd.file(in)
}

// whole notes, with Options.Since, an input that is read whole.
func (rd *reader) whole(in string) {
	if rd.since != nil {
		rd.since.Whole = append(rd.since.Whole, in)
	}
}

// walk reads a directory tree in sorted order.
func (rd *reader) walk(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !rd.fail(dir, fmt.Errorf("read directory: %w", err)) {
			return false
		}
	}
	for _, e := range entries {
		if !rd.alive() {
			return false
		}
		if strings.HasPrefix(e.Name(), ".") {
			continue // .git, .DS_Store and the like: metadata, not reports
		}
		p := filepath.Join(dir, e.Name())
		ok := true
		switch t := e.Type(); {
		case t.IsDir():
			if isMaildir(p) {
				ok = rd.maildir(p)
			} else if epochs := publicInboxEpochs(p); epochs != nil {
				ok = rd.publicInbox(p, epochs)
			} else {
				ok = rd.walk(p)
			}
		case t.IsRegular():
			ok = rd.file(p)
		case t&fs.ModeSymlink != 0:
			fi, err := os.Stat(p)
			switch {
			case err != nil:
				ok = rd.fail(p, fmt.Errorf("follow symlink: %w", err))
			case fi.IsDir():
				ok = rd.fail(p, errors.New("symlink to a directory: not followed inside a directory walk"))
			case !fi.Mode().IsRegular():
				ok = rd.fail(p, fmt.Errorf("symlink to a %s, not a regular file", fi.Mode().Type()))
			default:
				ok = rd.file(p)
			}
		default:
			ok = rd.fail(p, fmt.Errorf("not a regular file (%s)", t))
		}
		if !ok {
			return false
		}
	}
	return true
}

// file reads one file of any format.
func (rd *reader) file(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return rd.fail(path, fmt.Errorf("read input: %w", err))
	}
	defer f.Close()
	if rd.format == FormatMaildir {
		return rd.fail(path, errors.New("not a Maildir: a Maildir is a directory with cur/ and new/"))
	}
	if rd.format == FormatPublicInbox {
		return rd.fail(path, errors.New("not a public-inbox repository: that is a directory"))
	}
	return rd.stream(path, f, rd.format, false)
}

// maxGzipLayers bounds nested gzip decompression.
const maxGzipLayers = 2

// stream reads one input stream: it unwraps gzip, detects the format unless
// one is forced, and hands the content to the format's reader.
// streamReaders are the 64 KB buffers stream reads its inputs through: a
// directory of small reports (the corpus of an eval) allocated and cleared
// one per file, a tenth of a warm eval's CPU. What the format readers keep
// of an input they copy out of it (their own buffers, or the message read
// whole), so a buffer is reused once stream returns.
var streamReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

func (rd *reader) stream(source string, r io.Reader, format Format, stdin bool) bool {
	r = &ctxReader{ctx: rd.ctx, r: r}
	br := streamReaders.Get().(*bufio.Reader)
	br.Reset(&inputLimiter{r: r, max: rd.lim.MaxInputBytes})
	defer func(pooled *bufio.Reader) {
		pooled.Reset(nil)
		streamReaders.Put(pooled)
	}(br)
	for layer := 0; ; layer++ {
		head, err := br.Peek(sniffBytes)
		complete := errors.Is(err, io.EOF)
		if err != nil && !complete {
			return rd.fail(source, fmt.Errorf("read: %w", err))
		}
		if enc := utf16BOM(head); enc != nil && layer <= maxGzipLayers {
			// UTF-16 text (Windows editors): transcode, then detect again.
			br = bufio.NewReaderSize(enc.NewDecoder().Reader(br), 64<<10)
			layer = maxGzipLayers // at most once, and no gzip inside
			continue
		}
		kind, detected := detect(head, complete)
		switch kind {
		case sniffEmpty:
			return rd.fail(source, errors.New("empty input"))
		case sniffBinary:
			return rd.fail(source, errors.New("binary content (NUL or control bytes): not text, a message, or gzip"))
		case sniffGzip:
			if layer >= maxGzipLayers {
				return rd.fail(source, fmt.Errorf("gzip nested more than %d deep", maxGzipLayers))
			}
			zr, err := gzip.NewReader(br)
			if err != nil {
				return rd.fail(source, fmt.Errorf("gzip: %w", err))
			}
			defer zr.Close()
			br = bufio.NewReaderSize(&inputLimiter{r: gzipErrors{zr}, max: rd.lim.MaxInputBytes}, 64<<10)
			continue
		}
		if format == FormatAuto || format == "" {
			format = detected
		}
		break
	}
	switch format {
	case FormatMbox:
		return rd.mbox(source, br, stdin)
	case FormatJSONL:
		return rd.jsonl(source, br, stdin)
	case FormatEmail, FormatText, FormatMaildir:
		// FormatMaildir reaches here only for one message of a Maildir.
		return rd.single(source, br, format, stdin)
	}
	return rd.fail(source, fmt.Errorf("format %q cannot be read from a file", format))
}

// utf16BOM returns the UTF-16 encoding that head's byte order mark names,
// or nil.
func utf16BOM(head []byte) encoding.Encoding {
	switch {
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	}
	return nil
}

// single reads a stream that is one report: an email or a text file.
func (rd *reader) single(source string, r io.Reader, format Format, stdin bool) bool {
	data, err := readMessage(r, rd.lim.MaxMessageBytes)
	if err != nil {
		return rd.fail(source, err)
	}
	rep := newReport(source, data)
	if format == FormatText {
		err = parseText(data, rep)
	} else {
		err = parseEmail(data, rep, rd.lim)
	}
	if err != nil {
		return rd.fail(source, err)
	}
	rep.Format = format
	return rd.report(rep, stdin)
}

// parseText fills r from a plain-text report.
func parseText(data []byte, r *Report) error {
	if r.Format == "" {
		r.Format = FormatText
	}
	sample := data
	if len(sample) > sniffBytes {
		sample = sample[:sniffBytes]
	}
	if !looksLikeText(sample) {
		return errors.New("binary content (NUL or control bytes): not text or a message")
	}
	text, fallback := decodeText(data)
	if strings.TrimSpace(text) == "" {
		return errors.New("empty input")
	}
	if fallback {
		r.note("text is not valid UTF-8; decoded as windows-1252")
	}
	r.Body = normalizeNewlines(text)
	if r.Subject == "" {
		r.Subject = textSubject(r.Body)
	}
	return nil
}

// readMessage reads all of r if it fits in max bytes. When it does not, it
// reads on (discarding) to learn the size and returns a *LimitError.
func readMessage(r io.Reader, max int64) ([]byte, error) {
	// A message read through stream's buffer is often all there already:
	// read it into one slice of its size, not one grown from 512 bytes.
	size := int64(bytes.MinRead)
	if br, ok := r.(*bufio.Reader); ok {
		size += int64(br.Buffered())
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(size, max+1)))
	_, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	data := buf.Bytes()
	if int64(len(data)) <= max {
		return data, nil
	}
	rest, err := io.Copy(io.Discard, r)
	return nil, &LimitError{Limit: "MaxMessageBytes", Max: max, Size: int64(len(data)) + rest, AtLeast: err != nil}
}

// inputLimiter fails reads past max bytes with a *LimitError.
type inputLimiter struct {
	r      io.Reader
	n, max int64
}

// Read implements io.Reader.
func (l *inputLimiter) Read(p []byte) (int, error) {
	if l.n >= l.max {
		var probe [1]byte
		n, err := l.r.Read(probe[:])
		if n == 0 && err != nil {
			return 0, err
		}
		return 0, &LimitError{Limit: "MaxInputBytes", Max: l.max, Size: l.n + 1, AtLeast: true}
	}
	if int64(len(p)) > l.max-l.n {
		p = p[:l.max-l.n]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// ctxReader fails reads once ctx is done, so long reads stop promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read implements io.Reader.
func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// gzipErrors names a failure inside a gzip stream as one, so that a file
// cut short or corrupted midway says so rather than "unexpected EOF".
type gzipErrors struct{ r io.Reader }

// Read implements io.Reader.
func (g gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("gzip stream is truncated or corrupt: %w", err)
	}
	return n, err
}
