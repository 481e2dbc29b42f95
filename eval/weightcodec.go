package eval

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/secscreen/secscreen/screener/rules"
)

// The refit cache keeps a fold's weights (rules.Weights) in a small binary
// encoding of its own, written and read here field by field: gob did the
// same work by reflection, and its package's initialisation alone cost
// every process ~0.7 ms of CPU before main, refit or no refit.
//
// An entry is weightsMagic, then the fields in the order of the struct:
// a string is its length (uvarint) and bytes, an int a varint, a float64
// its IEEE bits little-endian (exact: -0 and NaN come back as they went),
// a bool or a pointer's presence one byte (0 or 1), and a map its length
// then its entries by increasing key. Empty maps come back nil, as they
// did from gob; a nil pointer comes back nil, and a set one set.

// weightsMagic starts an entry and names its encoding's version; another
// start (a v2 gob entry, a damaged file) does not decode.
const weightsMagic = "secscreen-refit-weights/3\n"

// encodeWeights encodes w for the refit cache (every field, floats exact).
func encodeWeights(w *rules.Weights) []byte {
	b := []byte(weightsMagic)
	b = appendString(b, w.GeneratedBy)
	b = appendString(b, w.Date)
	b = appendBool(b, w.Corpus != nil)
	if c := w.Corpus; c != nil {
		b = appendString(b, c.Dir)
		b = appendString(b, c.Split)
		b = binary.AppendVarint(b, int64(c.Reports))
		b = appendString(b, c.Fingerprint)
	}
	b = appendString(b, w.Method)
	b = appendBool(b, w.CV != nil)
	if cv := w.CV; cv != nil {
		b = binary.AppendVarint(b, int64(cv.Folds))
		b = binary.AppendVarint(b, cv.Seed)
		b = appendFloat(b, cv.Accuracy)
		b = appendFloat(b, cv.CategoryAccuracy)
		b = appendFloat(b, cv.SecurityRecall)
		b = binary.AppendVarint(b, int64(cv.SecurityReports))
	}
	b = appendFloatMap(b, w.Bias)
	b = binary.AppendUvarint(b, uint64(len(w.Rules)))
	for _, id := range slices.Sorted(maps.Keys(w.Rules)) {
		r := w.Rules[id]
		b = appendString(b, id)
		b = appendString(b, r.Fingerprint)
		b = binary.AppendVarint(b, int64(r.Hits))
		b = binary.AppendVarint(b, int64(r.Correct))
		b = appendFloat(b, r.LowerBound)
		b = appendBool(b, r.Decisive)
		b = appendFloatMap(b, r.Weights)
	}
	b = binary.AppendUvarint(b, uint64(len(w.Features)))
	for _, name := range slices.Sorted(maps.Keys(w.Features)) {
		b = appendString(b, name)
		b = appendFloatMap(b, w.Features[name])
	}
	return b
}

// decodeWeights decodes what encodeWeights encoded into w; anything else
// (another version's entry, a damaged or short one, trailing bytes) is an
// error.
func decodeWeights(data []byte, w *rules.Weights) error {
	rest, ok := strings.CutPrefix(string(data), weightsMagic)
	if !ok {
		return errors.New("decode refit weights: not a v3 entry")
	}
	d := &weightsReader{rest: rest}
	var out rules.Weights
	out.GeneratedBy = d.string()
	out.Date = d.string()
	if d.bool() {
		out.Corpus = &rules.CorpusInfo{Dir: d.string(), Split: d.string(), Reports: d.int(), Fingerprint: d.string()}
	}
	out.Method = d.string()
	if d.bool() {
		out.CV = &rules.CVFigures{Folds: d.int(), Seed: d.varint(), Accuracy: d.float(), CategoryAccuracy: d.float(),
			SecurityRecall: d.float(), SecurityReports: d.int()}
	}
	out.Bias = d.floatMap()
	if n := d.count(); n > 0 {
		out.Rules = make(map[string]rules.RuleWeights, n)
		for range n {
			id := d.string()
			out.Rules[id] = rules.RuleWeights{Fingerprint: d.string(), Hits: d.int(), Correct: d.int(),
				LowerBound: d.float(), Decisive: d.bool(), Weights: d.floatMap()}
		}
	}
	if n := d.count(); n > 0 {
		out.Features = make(map[string]map[string]float64, n)
		for range n {
			name := d.string()
			out.Features[name] = d.floatMap()
		}
	}
	if d.err == nil && d.rest != "" {
		d.err = errors.New("trailing bytes")
	}
	if d.err != nil {
		return fmt.Errorf("decode refit weights: %w", d.err)
	}
	*w = out
	return nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// appendFloatMap appends m's length, then its keys and values by
// increasing key.
func appendFloatMap(b []byte, m map[string]float64) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b = appendFloat(appendString(b, k), m[k])
	}
	return b
}

// weightsReader reads an entry's fields in turn; the first that does not
// read sets err, after which every read gives a zero value.
type weightsReader struct {
	rest string
	err  error
}

// errShort is a field that does not read: the entry ends early, or a
// varint or length is out of range.
var errShort = errors.New("entry ends early or holds a value out of range")

func (d *weightsReader) uvarint() uint64 { return readVarint(d, binary.Uvarint) }

func (d *weightsReader) varint() int64 { return readVarint(d, binary.Varint) }

// readVarint reads the next varint with decode (binary.Uvarint or
// binary.Varint).
func readVarint[T uint64 | int64](d *weightsReader, decode func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := decode([]byte(d.rest[:min(len(d.rest), binary.MaxVarintLen64)]))
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.rest = d.rest[n:]
	return v
}

// int reads a varint that must fit an int.
func (d *weightsReader) int() int {
	v := d.varint()
	if int64(int(v)) != v {
		d.err = errShort
		return 0
	}
	return int(v)
}

// count reads a length, which must not exceed what is left to read (each
// item takes a byte at least): a damaged length cannot make a huge map.
func (d *weightsReader) count() int {
	n := d.uvarint()
	if n > uint64(len(d.rest)) {
		d.err = errShort
		return 0
	}
	return int(n)
}

// take reads the next n bytes.
func (d *weightsReader) take(n int) string {
	if d.err != nil {
		return ""
	}
	if n > len(d.rest) {
		d.err = errShort
		return ""
	}
	s := d.rest[:n]
	d.rest = d.rest[n:]
	return s
}

func (d *weightsReader) string() string { return d.take(d.count()) }

func (d *weightsReader) bool() bool {
	switch d.take(1) {
	case "\x01":
		return true
	case "\x00", "":
		return false
	}
	d.err = errors.New("a flag is neither 0 nor 1")
	return false
}

func (d *weightsReader) float() float64 {
	s := d.take(8)
	if len(s) < 8 {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64([]byte(s)))
}

// floatMap reads what appendFloatMap appended: nil when it is empty.
func (d *weightsReader) floatMap() map[string]float64 {
	n := d.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]float64, n)
	for range n {
		k := d.string()
		m[k] = d.float()
	}
	return m
}
