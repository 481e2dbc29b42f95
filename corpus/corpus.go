// Package corpus loads and checks secscreen's labeled evaluation corpus.
//
// A corpus is a directory holding a labels.jsonl file and the report files it
// names. Each line of labels.jsonl is one JSON object:
//
//	{"id":"uaf-ptrace-01","file":"reports/uaf-ptrace-01.eml",
//	 "verdict":"security","category":"isolation.process",
//	 "notes":"why this label","source":"where the report came from"}
//
// id, file, verdict and category are required; notes, source and split
// ("dev" or "test", default dev) are optional, and other fields are kept and
// ignored. file is relative to the corpus directory and names one report: an
// email (.eml), a plain text file (.txt) or an mbox holding one message
// (.mbox). The verdict and category must be a pair of the threat model in use
// (see threatmodel.Model.Check).
//
// Load reads the label file strictly: every line must be one JSON object with
// known fields only, and every error names its line. Check goes further and
// audits the whole directory (labels against the threat model, files that are
// missing, outside the directory, duplicated or left unlabeled) so that a
// corpus can be kept honest by a test and by `secscreen corpus check`.
package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/secscreen/secscreen/internal/enum"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// LabelsFile is the name of the label file inside a corpus directory.
const LabelsFile = "labels.jsonl"

// Label is one line of labels.jsonl: a report file and its expected label.
type Label struct {
	// ID names the report in results and metrics; unique in the corpus.
	ID string `json:"id"`
	// File is the report's path relative to the corpus directory.
	File string `json:"file"`
	// Label is the expected verdict and category id of the threat model.
	threatmodel.Label
	// Notes explains the label for human readers.
	Notes string `json:"notes,omitempty"`
	// Source says where the report came from (a list archive, "synthetic").
	Source string `json:"source,omitempty"`
	// Split is the part of the corpus the label belongs to: SplitDev (rules,
	// weights, the baseline and prompts are tuned on it) or SplitTest (kept
	// for measuring). Empty means dev.
	Split string `json:"split,omitempty"`
	// Extra holds fields of the label line that secscreen does not know.
	// They are kept, ignored, and listed once by Check as a note.
	Extra map[string]json.RawMessage `json:"-"`
	// Line is the 1-based line of labels.jsonl the label was read from.
	Line int `json:"-"`
}

// The corpus splits a label may name.
const (
	// SplitDev is the part of a corpus that rules, weights, the baseline and
	// prompts may be tuned on.
	SplitDev = "dev"
	// SplitTest is the sealed part of a corpus, for measuring only.
	SplitTest = "test"
)

// labelSplits parses a label's split; corpusSplits the split a command
// selects, which may also be "all".
var (
	labelSplits  = enum.Set[string]{What: "split", Values: []string{SplitDev, SplitTest}}
	corpusSplits = enum.Set[string]{What: "split", Values: []string{SplitDev, SplitTest, "all"}}
)

// SplitOf returns the split a label belongs to: its Split, or SplitDev when
// the label names none.
func (l Label) SplitOf() string {
	if l.Split == "" {
		return SplitDev
	}
	return l.Split
}

// Corpus is a loaded corpus: its directory and its labels in file order.
type Corpus struct {
	// Dir is the corpus directory as given to Load.
	Dir string
	// Labels are the labels in the order of labels.jsonl.
	Labels []Label
}

// Load reads dir/labels.jsonl. A leading UTF-8 byte order mark and blank
// lines are skipped; any other line that is not exactly one JSON object, that
// lacks a required field or names an unknown split, is an error naming the
// line. All such errors are reported together. Unknown fields are kept in
// Label.Extra.
func Load(dir string) (*Corpus, error) {
	path := filepath.Join(dir, LabelsFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load corpus: %w%s", err, partsHint(dir))
	}
	defer f.Close()
	labels, lineErrs, err := parseLabels(f)
	if err != nil {
		return nil, fmt.Errorf("load corpus %s: %w", path, err)
	}
	if len(lineErrs) > 0 {
		errs := make([]error, len(lineErrs))
		for i, le := range lineErrs {
			errs[i] = fmt.Errorf("%s:%d: %w", path, le.line, le.err)
		}
		return nil, errors.Join(errs...)
	}
	return &Corpus{Dir: dir, Labels: labels}, nil
}

// OnlySplit returns a corpus holding only the labels of one split (SplitDev
// or SplitTest; "" or "all" returns c itself). An unknown name is an error.
func (c *Corpus) OnlySplit(name string) (*Corpus, error) {
	if name == "" {
		return c, nil
	}
	name, err := corpusSplits.Parse(name)
	if err != nil {
		return nil, err
	}
	if name == "all" {
		return c, nil
	}
	out := &Corpus{Dir: c.Dir}
	for _, l := range c.Labels {
		if l.SplitOf() == name {
			out.Labels = append(out.Labels, l)
		}
	}
	return out, nil
}

// Path returns the path of a label's report file (the corpus directory joined
// with the label's File).
func (c *Corpus) Path(l Label) string {
	return filepath.Join(c.Dir, filepath.FromSlash(l.File))
}

// lineError is a label line that could not be parsed.
type lineError struct {
	line int
	err  error
}

// maxLineBytes bounds one line of labels.jsonl.
const maxLineBytes = 1 << 20

// parseLabels reads label lines from r, returning the labels that parsed and
// an error for each line that did not. The final error is for read failures.
//
// The lines are read first and then decoded on every CPU, each into its
// own place, so that the labels and errors come in line order whatever
// the scheduling: decoding the bundled corpus's 497 labels on one core was
// a twentieth of a warm eval's wall time, with the other core idle.
func parseLabels(r io.Reader) ([]Label, []lineError, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLineBytes)
	type numbered struct {
		n    int
		text []byte
	}
	var lines []numbered
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		lines = append(lines, numbered{n, bytes.Clone(line)})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	parsed := make([]Label, len(lines))
	errs := make([]error, len(lines))
	parse := func(from, to int) {
		for i := from; i < to; i++ {
			parsed[i], errs[i] = parseLabel(lines[i].text)
			parsed[i].Line = lines[i].n
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(lines)/minLabelsPerWorker)
	if workers <= 1 {
		parse(0, len(lines))
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { parse(w*len(lines)/workers, (w+1)*len(lines)/workers) })
		}
		wg.Wait()
	}
	var labels []Label
	var bad []lineError
	for i, l := range parsed {
		if errs[i] != nil {
			bad = append(bad, lineError{line: lines[i].n, err: errs[i]})
			continue
		}
		labels = append(labels, l)
	}
	return labels, bad, nil
}

// minLabelsPerWorker is how many label lines are worth a goroutine of
// their own (a few microseconds each).
const minLabelsPerWorker = 64

// knownFields are the JSON names of Label's fields.
var knownFields = map[string]bool{"id": true, "file": true, "verdict": true, "category": true, "notes": true, "source": true, "split": true}

// parseLabel decodes one line: a single object with the required fields
// present and a known split; unknown fields go to Extra.
func parseLabel(line []byte) (Label, error) {
	var l Label
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&fields); err != nil {
		return Label{}, fmt.Errorf("not a label object: %w", err)
	}
	if rest := bytes.TrimSpace(line[dec.InputOffset():]); len(rest) > 0 {
		return Label{}, errors.New("not a label object: extra data after the object")
	}
	if err := json.Unmarshal(line[:dec.InputOffset()], &l); err != nil {
		return Label{}, fmt.Errorf("not a label object: %w", err)
	}
	for name, raw := range fields {
		if !knownFields[name] {
			if l.Extra == nil {
				l.Extra = map[string]json.RawMessage{}
			}
			l.Extra[name] = raw
		}
	}
	if l.Split != "" {
		split, err := labelSplits.Parse(l.Split)
		if err != nil {
			return Label{}, err
		}
		l.Split = split
	}
	var missing []string
	for _, f := range []struct{ name, val string }{
		{"id", l.ID}, {"file", l.File}, {"verdict", string(l.Verdict)}, {"category", l.Category},
	} {
		if strings.TrimSpace(f.val) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Label{}, fmt.Errorf("label lacks %s", strings.Join(missing, ", "))
	}
	return l, nil
}

// partsHint names label files that look like parts of labels.jsonl, for the
// error when labels.jsonl itself is missing.
func partsHint(dir string) string {
	parts, _ := filepath.Glob(filepath.Join(dir, "labels*.jsonl"))
	if len(parts) == 0 {
		return ""
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = filepath.Base(p)
	}
	return fmt.Sprintf(" (found %s: a corpus has one %s; concatenate them into it)", strings.Join(names, ", "), LabelsFile)
}
