package output

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
)

// Done is what an existing JSONL output already holds: the reports it has
// a row for, by id and content hash, counted (an input holding the same
// report twice has two rows).
type Done struct {
	keys map[[16]byte]int
	// Rows counts the rows kept.
	Rows int
	// Redo counts the rows dropped so that their reports are screened
	// again: those a cancelled run cut short (decision "cancelled").
	Redo int
	// Torn is the number of bytes of a half-written last line that were
	// cut off.
	Torn int
	// Skipped counts the items Filter left out.
	Skipped int
}

func doneKey(id, hash string) [16]byte {
	sum := sha256.Sum256([]byte(id + "\x00" + hash))
	return [16]byte(sum[:16])
}

// Has reports whether a row for the report (id, hash) is still unclaimed;
// each row answers for one item.
func (d *Done) has(id, hash string) bool {
	k := doneKey(id, hash)
	if d.keys[k] == 0 {
		return false
	}
	d.keys[k]--
	return true
}

// Filter yields the items that have no row yet. An item that could not be
// read is matched by its source, as its error row names it.
func (d *Done) Filter(items iter.Seq[intake.Item]) iter.Seq[intake.Item] {
	return func(yield func(intake.Item) bool) {
		for it := range items {
			id, hash := it.Source, ""
			if it.Report != nil {
				id, hash = it.Report.ID, it.Report.Hash
			}
			if d.has(id, hash) {
				d.Skipped++
				continue
			}
			if !yield(it) {
				return
			}
		}
	}
}

// resumeRow is what resuming reads of a row.
type resumeRow struct {
	ID       *string           `json:"id"`
	Hash     string            `json:"hash"`
	Decision screener.Decision `json:"decision"`
}

// ResumeJSONL opens the JSONL output at path to continue a run into it,
// creating it when missing, and returns it positioned for appending with
// what it already holds. A last line cut short (a run killed while
// writing it) is cut off; rows with decision "cancelled" (reports a
// stopped run did not finish) are removed, so that they are screened
// again and every report ends with one row. Any other line that is not a
// result is an error: the file is left as it is.
func ResumeJSONL(path string) (*os.File, *Done, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("resume: %w", err)
	}
	d, keep, err := scanRows(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("resume %s: %w", path, err)
	}
	switch {
	case d.Redo > 0:
		// Rewrite without the rows to redo, then put the file in place.
		f.Close()
		if err := rewriteRows(path, keep); err != nil {
			return nil, nil, fmt.Errorf("resume %s: %w", path, err)
		}
		keep.needNewline = false // written by rewriteRows
		if f, err = os.OpenFile(path, os.O_RDWR, 0o644); err != nil {
			return nil, nil, fmt.Errorf("resume: %w", err)
		}
	case d.Torn > 0:
		if err := f.Truncate(keep.end); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("resume %s: cutting off the half-written last line: %w", path, err)
		}
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("resume: %w", err)
	}
	if keep.needNewline {
		if _, err := f.Write([]byte("\n")); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("resume: %w", err)
		}
	}
	return f, d, nil
}

// kept says which bytes of the file stay.
type kept struct {
	// end is where the last whole row ends.
	end int64
	// drop are the byte ranges of rows to redo.
	drop [][2]int64
	// needNewline: the last row is whole but lacks its line feed.
	needNewline bool
}

func scanRows(f *os.File) (*Done, kept, error) {
	d := &Done{keys: map[[16]byte]int{}}
	var k kept
	br := bufio.NewReaderSize(f, 256<<10)
	var off int64
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, k, err
		}
		start := off
		off += int64(len(line))
		last := errors.Is(err, io.EOF) // no line feed: the file's last bytes
		text := bytes.TrimSpace(line)
		if len(text) == 0 {
			k.end = off
			continue
		}
		var row resumeRow
		if jerr := json.Unmarshal(text, &row); jerr != nil || row.ID == nil {
			if _, perr := br.Peek(1); last || errors.Is(perr, io.EOF) {
				// The file's last line, cut short by a run killed while
				// writing it.
				d.Torn = len(line)
				break
			}
			return nil, k, fmt.Errorf("line %d is not a secscreen result (is this a JSONL output of secscreen screen?)", n)
		}
		if row.Decision == screener.DecisionCancelled {
			d.Redo++
			k.drop = append(k.drop, [2]int64{start, off})
		} else {
			d.Rows++
			d.keys[doneKey(*row.ID, row.Hash)]++
		}
		k.end = off
		if last {
			k.needNewline = true
		}
	}
	return d, k, nil
}

// rewriteRows writes path without the dropped rows and the torn tail,
// through a temporary file renamed into place.
func rewriteRows(path string, k kept) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".resume-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 256<<10)
	var pos int64
	for _, r := range append(k.drop, [2]int64{k.end, k.end}) {
		if _, err := io.Copy(w, io.NewSectionReader(src, pos, r[0]-pos)); err != nil {
			tmp.Close()
			return err
		}
		pos = r[1]
	}
	if k.needNewline {
		w.WriteString("\n")
	}
	werr := w.Flush()
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil {
		_ = os.Chmod(tmp.Name(), fi.Mode().Perm())
	}
	return os.Rename(tmp.Name(), path)
}
