// Package output writes screening results in the formats users read:
// an aligned text table, JSON, JSON Lines, CSV, Markdown and HTML.
//
// A Writer receives results one at a time, as the screener emits them, and
// a closing Summary. Streaming formats (text, jsonl, csv) write each row at
// once, so a cancelled run keeps every row already done; the others buffer.
// Everything that came from a report is escaped for its format. HTML is the
// triage page (see htmlWriter); ResumeJSONL continues a JSONL output.
package output

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/secscreen/secscreen/internal/enum"
	"github.com/secscreen/secscreen/screener"
)

// Format names an output format.
type Format string

// The supported formats.
const (
	Text     Format = "text"
	JSON     Format = "json"
	JSONL    Format = "jsonl"
	CSV      Format = "csv"
	Markdown Format = "md"
	HTML     Format = "html"
)

// Formats lists every format, for help texts.
var Formats = []Format{Text, JSON, JSONL, CSV, Markdown, HTML}

// formats parses format names, in any letter case.
var formats = enum.Set[Format]{What: "output format", Values: Formats, FoldCase: true}

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) { return formats.Parse(s) }

// FormatForFile returns the format a file name's extension asks for (.html,
// .htm, .json, .jsonl, .ndjson, .csv, .md, .txt), or def for any other.
func FormatForFile(path string, def Format) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return HTML
	case ".json":
		return JSON
	case ".jsonl", ".ndjson":
		return JSONL
	case ".csv":
		return CSV
	case ".md", ".markdown":
		return Markdown
	case ".txt":
		return Text
	}
	return def
}

// Writer writes results in one format.
type Writer interface {
	// Write writes (or buffers) one result.
	Write(r screener.Result) error
	// Close finishes the output; sum is the run's summary.
	Close(sum screener.Summary) error
}

// Options tune writers.
type Options struct {
	// Width is the terminal width for the text table (0: no limit).
	Width int
	// Verbose adds the fired rules under each row of the text table.
	Verbose bool
}

// New returns a Writer of format f onto w.
func New(f Format, w io.Writer, opt Options) (Writer, error) {
	switch f {
	case Text:
		return newTextWriter(w, opt), nil
	case JSON:
		return &jsonWriter{w: w}, nil
	case JSONL:
		return newJSONLWriter(w), nil
	case CSV:
		return newCSVWriter(w), nil
	case Markdown:
		return &markdownWriter{w: w}, nil
	case HTML:
		return &htmlWriter{w: w}, nil
	}
	return nil, fmt.Errorf("unknown output format %q", f)
}

// collector keeps every result for the formats that write one document
// at Close (JSON, Markdown, HTML).
type collector struct{ results []screener.Result }

func (c *collector) Write(r screener.Result) error {
	r.DropReport() // the text is not written, and would hold the whole input
	c.results = append(c.results, r)
	return nil
}

// ruleIDs lists the ids of the rules that fired, without repeats.
func ruleIDs(r screener.Result) []string {
	var ids []string
	for _, f := range r.Rules {
		if !slices.Contains(ids, f.RuleID) {
			ids = append(ids, f.RuleID)
		}
	}
	return ids
}

// label is "verdict/category", or "ERROR" for an error row.
func label(r screener.Result) string {
	if r.Failed() {
		return "ERROR"
	}
	return r.Label.String()
}

// errText is the error message, or "".
func errText(r screener.Result) string {
	if r.Error == nil {
		return ""
	}
	return *r.Error
}
