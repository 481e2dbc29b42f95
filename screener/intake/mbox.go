package intake

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/emersion/go-mbox"
)

// mbox reads an mbox stream, one Item per message. Messages are numbered
// from 1 in Source ("path:3").
func (rd *reader) mbox(source string, r io.Reader, stdin bool) bool {
	mr := mbox.NewReader(r)
	for i := 1; ; i++ {
		if !rd.alive() {
			return false
		}
		src := fmt.Sprintf("%s:%d", source, i)
		m, err := mr.NextMessage()
		if errors.Is(err, io.EOF) {
			if i == 1 {
				return rd.fail(source, errors.New("mbox holds no messages"))
			}
			return true
		}
		if err != nil {
			return rd.fail(src, fmt.Errorf("mbox: %w", err))
		}
		data, err := readMessage(m, rd.lim.MaxMessageBytes)
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
		data = unescapeMboxrd(data)
		if len(bytes.TrimSpace(data)) == 0 {
			if !rd.fail(src, errors.New("empty message")) {
				return false
			}
			continue
		}
		rep := newReport(src, data)
		if err := parseEmail(data, rep, rd.lim); err != nil {
			if !rd.fail(src, err) {
				return false
			}
			continue
		}
		rep.Format = FormatMbox
		if !rd.report(rep, stdin) {
			return false
		}
	}
}

// unescapeMboxrd finishes mboxrd unescaping. go-mbox turns ">From " back
// into "From " (which is all mboxo escaping does) but leaves deeper quoting
// alone; mboxrd also quoted ">From " as ">>From ", and so on, so one more
// '>' comes off every line that still starts with ">>...>From ". Reading
// mboxo this way only changes lines that already began with ">>From ",
// which is the usual, accepted ambiguity of mboxo.
func unescapeMboxrd(data []byte) []byte {
	if !bytes.Contains(data, []byte(">>")) {
		return data
	}
	out := make([]byte, 0, len(data))
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		rest := bytes.TrimLeft(line, ">")
		if len(line)-len(rest) >= 2 && bytes.HasPrefix(rest, []byte("From ")) {
			line = line[1:]
		}
		out = append(out, line...)
	}
	return out
}
