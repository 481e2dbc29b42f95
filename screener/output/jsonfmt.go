package output

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/secscreen/secscreen/screener"
)

// jsonWriter writes one JSON document: {"summary": ..., "results": [...]}.
type jsonWriter struct {
	w io.Writer
	collector
}

func (j *jsonWriter) Close(sum screener.Summary) error {
	results := j.results
	if results == nil {
		results = []screener.Result{}
	}
	enc := json.NewEncoder(j.w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Summary screener.Summary  `json:"summary"`
		Results []screener.Result `json:"results"`
	}{sum, results}); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// jsonlWriter writes one result object per line, as each arrives.
type jsonlWriter struct {
	w   io.Writer
	buf []byte // the line being written, kept for the next
}

func newJSONLWriter(w io.Writer) *jsonlWriter { return &jsonlWriter{w: w} }

// Write writes r's JSON and a newline in one write. Result.MarshalJSON's
// output is compact, with <, > and & escaped, which is what json.Encoder
// would write after compacting it once more (TestJSONLIsWhatEncoderWrites).
func (j *jsonlWriter) Write(r screener.Result) error {
	b, err := r.MarshalJSON()
	if err == nil {
		j.buf = append(append(j.buf[:0], b...), '\n')
		_, err = j.w.Write(j.buf)
	}
	if err != nil {
		return fmt.Errorf("write jsonl: %w", err)
	}
	return nil
}

func (j *jsonlWriter) Close(screener.Summary) error { return nil }
