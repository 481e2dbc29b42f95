package intake

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// jsonLine is one line of a JSONL input.
type jsonLine struct {
	// ID is the report's id: a string or a number.
	ID json.RawMessage `json:"id"`
	// Text is the report as plain text.
	Text string `json:"text"`
	// Raw is the report as an RFC 5322 message; it wins over Text.
	Raw string `json:"raw"`
	// Subject and From override what Raw or Text give.
	Subject string `json:"subject"`
	From    string `json:"from"`
}

// jsonl reads a JSONL stream, one Item per non-blank line. Lines are
// numbered from 1 in Source ("path:3"), counting blank lines too, so that
// an error points at the right line.
func (rd *reader) jsonl(source string, r io.Reader, stdin bool) bool {
	br := bufio.NewReaderSize(r, 64<<10)
	units := 0
	for n := 1; ; n++ {
		if !rd.alive() {
			return false
		}
		src := fmt.Sprintf("%s:%d", source, n)
		line, err := readLine(br, rd.lim.MaxMessageBytes)
		if errors.Is(err, io.EOF) {
			if units == 0 {
				return rd.fail(source, errors.New("JSONL input holds no lines"))
			}
			return true
		}
		if err != nil {
			var le *LimitError
			if errors.As(err, &le) && le.Limit == "MaxMessageBytes" {
				units++
				if !rd.fail(src, fmt.Errorf("line: %w", err)) {
					return false
				}
				continue
			}
			return rd.fail(src, err)
		}
		line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		units++
		rep, err := parseJSONLine(line, src, rd.lim)
		if err != nil {
			if !rd.fail(src, err) {
				return false
			}
			continue
		}
		if !rd.report(rep, stdin) {
			return false
		}
	}
}

// parseJSONLine turns one JSONL line into a Report.
func parseJSONLine(line []byte, src string, lim Limits) (*Report, error) {
	var jl jsonLine
	if err := json.Unmarshal(line, &jl); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return nil, fmt.Errorf("JSON line is %s %s, not an object with \"id\" and \"text\" or \"raw\"", article(te.Value), te.Value)
		}
		return nil, fmt.Errorf("invalid JSON line: %w", err)
	}
	var rep *Report
	switch {
	case jl.Raw != "":
		rep = newReport(src, []byte(jl.Raw))
		if err := parseEmail([]byte(jl.Raw), rep, lim); err != nil {
			return nil, fmt.Errorf("field raw: %w", err)
		}
	case strings.TrimSpace(jl.Text) != "":
		rep = newReport(src, []byte(jl.Text))
		rep.Subject = oneLine(jl.Subject)
		if err := parseText([]byte(jl.Text), rep); err != nil {
			return nil, fmt.Errorf("field text: %w", err)
		}
	case jl.Text != "" || hasField(line, "text"):
		return nil, errors.New(`field text is empty (or only white space): nothing to screen`)
	default:
		return nil, errors.New(`JSON line has neither a "text" nor a "raw" field`)
	}
	rep.Format = FormatJSONL
	if s := oneLine(jl.Subject); s != "" {
		rep.Subject = s
	}
	if f := oneLine(jl.From); f != "" {
		rep.From = f
	}
	id, err := jsonID(jl.ID)
	if err != nil {
		return nil, err
	}
	rep.ID = id
	return rep, nil
}

// jsonID reads an "id" that is a string or a number; absent or null gives
// "" so that the usual fallbacks apply.
func jsonID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("field id: %w", err)
		}
		return strings.TrimSpace(s), nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("field id is neither a string nor a number: %s", raw)
	}
	return n.String(), nil
}

// readLine reads one line of at most max bytes (without its line end).
// A longer line is consumed to its end and reported as a *LimitError. At
// the end of input it returns io.EOF and no line.
func readLine(br *bufio.Reader, max int64) ([]byte, error) {
	var buf []byte
	var size int64
	for {
		chunk, err := br.ReadSlice('\n')
		size += int64(len(chunk))
		if int64(len(buf)) <= max {
			buf = append(buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !(errors.Is(err, io.EOF) && size > 0) {
			return nil, err
		}
		ending := int64(len(chunk) - len(bytes.TrimRight(chunk, "\r\n")))
		if n := size - ending; n > max {
			return nil, &LimitError{Limit: "MaxMessageBytes", Max: max, Size: n}
		}
		return bytes.TrimRight(buf, "\r\n"), nil
	}
}

// hasField reports whether the JSON object line has a field of that name.
func hasField(line []byte, name string) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(line, &fields) != nil {
		return false
	}
	_, ok := fields[name]
	return ok
}

// article is "an" before a vowel-initial JSON kind ("an array"), else "a".
func article(kind string) string {
	if strings.HasPrefix(kind, "a") || strings.HasPrefix(kind, "o") {
		return "an"
	}
	return "a"
}
