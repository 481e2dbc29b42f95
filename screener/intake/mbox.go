package intake

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// mbox reads every message of an mbox stream (mboxo or mboxrd) and emits
// one report or error per message.
func (rd *reader) mbox(source string, r io.Reader, stdin bool) bool {
	sp := newMboxSplitter(r, rd.lim.MaxMessageBytes)
	for i := 1; ; i++ {
		if !rd.alive() {
			return false
		}
		src := fmt.Sprintf("%s:%d", source, i)
		data, err := sp.next()
		if errors.Is(err, io.EOF) {
			if i == 1 {
				return rd.fail(source, errors.New("mbox holds no messages"))
			}
			return true
		}
		if err != nil {
			var le *LimitError
			if errors.As(err, &le) && le.Limit == "MaxMessageBytes" {
				if !rd.fail(src, err) {
					return false
				}
				continue
			}
			return rd.fail(src, err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			if !rd.fail(src, errors.New("empty message")) {
				return false
			}
			continue
		}
		if !rd.message(src, data, FormatMbox, stdin) {
			return false
		}
	}
}

// message parses one message of a multi-message input (an mbox, a
// public-inbox repository) and emits its report, or an error row when it
// does not parse. It returns false when reading must stop. Nothing of data
// is kept: the report's fields are copies (the mbox reuses data's bytes for
// the next message).
func (rd *reader) message(src string, data []byte, format Format, stdin bool) bool {
	rep := newReport(src, data)
	if err := parseEmail(data, rep, rd.lim); err != nil {
		return rd.fail(src, err)
	}
	rep.Format = format
	return rd.report(rep, stdin)
}

// mboxSeparator matches the start of an mbox "From " line that opens a
// message: "From ", a sender token (an address, or a commit id in
// git format-patch output), then a date as mbox writers put it: asctime
// ("Mon Jun  2 10:00:00 2025") or RFC 5322-like ("Mon, 2 Jun 2025 10:00:00").
// Checking the date, as mutt and the mbox(5) readers do, keeps a body line
// such as "From the log, syzkaller sent..." (unescaped by mboxo writers)
// from splitting a message.
var mboxSeparator = lazyre.New(`^From \S*[ \t]+` +
	`(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?[ \t]+)?` +
	`(?:(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ \t]+\d{1,2}` +
	`|\d{1,2}[ \t]+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ \t]+\d{2,4})` +
	`[ \t]+\d{1,2}:\d{2}`)

// isMboxSeparator reports whether line (its first bytes suffice) opens a
// message.
func isMboxSeparator(line []byte) bool {
	return bytes.HasPrefix(line, []byte("From ")) && mboxSeparator.Match(line)
}

// mboxSplitter cuts an mbox stream into messages. A message starts at a
// separator line (see mboxSeparator) that begins the stream or follows an
// empty line; the separator itself and the empty line before the next one
// are not part of the message. Lines of the form ">From ", ">>From ", ...
// lose one '>' (mboxrd unescaping, which also undoes mboxo's ">From ").
// It holds at most max bytes of one message; a longer message is read to
// its end and reported as a *LimitError.
type mboxSplitter struct {
	br      *bufio.Reader
	max     int64
	started bool // the first separator has been read
	done    bool
	err     error // a read error to report after the message in hand
	// buf is the last message's bytes, kept to hold the next one: parsing
	// copies what it keeps, so one buffer serves the whole stream.
	buf []byte
}

// maxKeptMessage bounds the message buffer a splitter keeps between
// messages: one huge message does not hold its size for the whole stream.
const maxKeptMessage = 1 << 20

func newMboxSplitter(r io.Reader, max int64) *mboxSplitter {
	return &mboxSplitter{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// line returns the next line including its '\n' (or the stream's last
// bytes). A line longer than the buffer comes back in pieces; whole is
// false for all but the last piece.
func (s *mboxSplitter) line() (b []byte, whole bool, err error) {
	b, err = s.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return b, false, nil
	case errors.Is(err, io.EOF) && len(b) > 0:
		return b, true, nil
	}
	return b, err == nil, err
}

// next returns the next message's bytes, io.EOF after the last one. The
// bytes are valid until the next call.
func (s *mboxSplitter) next() ([]byte, error) {
	if s.done {
		if s.err != nil {
			err := s.err
			s.err = nil
			return nil, err
		}
		return nil, io.EOF
	}
	if !s.started {
		// The stream opens with a separator (format detection checked it);
		// skip that line whatever it holds.
		if err := s.skipLine(); err != nil {
			s.done = true
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("read: %w", err)
		}
		s.started = true
	}
	msg := s.buf[:0]
	if cap(msg) > maxKeptMessage {
		msg = nil
	}
	var size int64
	store := func(b []byte) {
		size += int64(len(b))
		if size <= s.max {
			msg = append(msg, b...)
		}
	}
	atStart, prevBlank := true, false
	for {
		b, whole, err := s.line()
		if err != nil {
			s.done = true
			if !errors.Is(err, io.EOF) {
				s.err = fmt.Errorf("read: %w", err)
			}
			break
		}
		if atStart {
			if prevBlank && isMboxSeparator(b) {
				// The separator is consumed here (a long one to its end).
				if !whole {
					if err := s.skipLine(); err != nil && !errors.Is(err, io.EOF) {
						s.err = fmt.Errorf("read: %w", err)
						s.done = true
					}
				}
				break
			}
			if unescaped, ok := unescapeFromLine(b); ok {
				b = unescaped
			}
			prevBlank = isBlankLine(b) && whole
		}
		store(b)
		atStart = whole
	}
	if prevBlank && size <= s.max {
		// The empty line before a separator belongs to the mbox format.
		msg = trimOneNewline(msg)
	}
	s.buf = msg
	if size > s.max {
		return nil, &LimitError{Limit: "MaxMessageBytes", Max: s.max, Size: size}
	}
	return msg, nil
}

// skipLine discards the rest of the current line.
func (s *mboxSplitter) skipLine() error {
	for {
		_, whole, err := s.line()
		if err != nil || whole {
			return err
		}
	}
}

// unescapeFromLine takes one '>' off a line of the form ">+From ".
func unescapeFromLine(b []byte) ([]byte, bool) {
	if len(b) == 0 || b[0] != '>' {
		return nil, false
	}
	rest := bytes.TrimLeft(b, ">")
	if !bytes.HasPrefix(rest, []byte("From ")) {
		return nil, false
	}
	return b[1:], true
}

func isBlankLine(b []byte) bool {
	return len(bytes.TrimRight(b, "\r\n")) == 0
}

// trimOneNewline drops one trailing line ending ("\n" or "\r\n").
func trimOneNewline(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
