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
type jsonlWriter struct{ enc *json.Encoder }

func newJSONLWriter(w io.Writer) *jsonlWriter { return &jsonlWriter{enc: json.NewEncoder(w)} }

func (j *jsonlWriter) Write(r screener.Result) error {
	if err := j.enc.Encode(r); err != nil {
		return fmt.Errorf("write jsonl: %w", err)
	}
	return nil
}

func (j *jsonlWriter) Close(screener.Summary) error { return nil }
