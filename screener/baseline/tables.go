package baseline

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/secscreen/secscreen/internal/progtab"
)

// The built-in model is read in place: go generate writes what decoding
// and preparing model.json gives (see prepare) as Go (model_gen.go: the
// small fields, the vocabulary and the report hashes, which the linker
// lays out as initialised data) and as arrays in model.bin (the counts,
// naive Bayes' or logistic regression's tables and the vocabulary's hash
// table), which the model's slices then are, not copies. Loading it
// allocates a few hundred bytes, and a run faults in only the pages of the
// tables its reports reach; decoding and preparing the binary encoding
// took ~3.5 ms of CPU and ~300 KB of fresh heap of every run that used the
// model. TestEmbeddedTables checks that the files are what model.json
// gives, and that the model read from them is the decoded one, field for
// field.

// tablesMagic starts model.bin and names its version.
const tablesMagic = "secscreen-baseline-tables/1\n"

// tableSpan is where an array lies in model.bin: n elements from byte off.
type tableSpan struct{ off, n int }

// tablesLayout says where a prepared model's arrays lie in model.bin.
type tablesLayout struct {
	// slots is the vocabulary index's table (vocabIndex.slots), uint64s.
	slots tableSpan
	// pairs holds every class's Counts, one after the other, as pairs of
	// int32s; classPairs is the number of pairs of each class.
	pairs      tableSpan
	classPairs []int
	// prior, logpOf and logp are naive Bayes' float64 tables, counts its
	// uint8s (see prepareNB).
	prior, logpOf, logp tableSpan
	counts              tableSpan
	// idf is IDF; verdictWeights and categoryWeights the rows of
	// VerdictWeights and CategoryWeights one after the other, each row of
	// verdictWidth and categoryWidth float64s (logistic regression).
	idf, verdictWeights, categoryWeights tableSpan
	verdictWidth, categoryWidth          int
}

// fromTables returns the model whose small fields and lookup tables (vOf,
// stride) are head's and whose arrays lie in data as lay says. head is not
// changed; the model's arrays are data's memory where it is aligned for
// them (an embedded file is), so they must not be changed.
func fromTables(head *Model, lay *tablesLayout, data string) (*Model, error) {
	if !strings.HasPrefix(data, tablesMagic) {
		return nil, fmt.Errorf("not a %q file", tablesMagic[:len(tablesMagic)-1])
	}
	m := *head
	var err error
	fail := func(e error) {
		if err == nil {
			err = e
		}
	}
	floats := func(s tableSpan) []float64 {
		v, e := viewFloat64s(data, s)
		fail(e)
		return v
	}
	slots, e := viewUint64s(data, lay.slots)
	fail(e)
	m.index = vocabIndex{vocab: m.Vocabulary, slots: slots}
	if len(slots) > 0 {
		m.index.mask = uint64(len(slots) - 1)
	}
	if len(lay.classPairs) != len(m.Classes) {
		fail(fmt.Errorf("counts of %d classes for %d", len(lay.classPairs), len(m.Classes)))
	} else if pairs, e := viewPairs(data, lay.pairs); e != nil {
		fail(e)
	} else {
		m.Classes = append([]Class(nil), m.Classes...)
		at := 0
		for c, n := range lay.classPairs {
			if n < 0 || n > len(pairs)-at {
				fail(errors.New("class counts past the pairs"))
				break
			}
			if n > 0 {
				m.Classes[c].Counts = pairs[at : at+n : at+n]
			}
			at += n
		}
	}
	m.prior, m.logpOf, m.logp = floats(lay.prior), floats(lay.logpOf), floats(lay.logp)
	counts, e := view(data, lay.counts, 1)
	fail(e)
	if len(counts) > 0 {
		m.counts = unsafe.Slice(unsafe.StringData(counts), len(counts))
	}
	m.IDF = floats(lay.idf)
	m.VerdictWeights = rows(floats(lay.verdictWeights), lay.verdictWidth)
	m.CategoryWeights = rows(floats(lay.categoryWeights), lay.categoryWidth)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// rows cuts flat into rows of width elements (nil: none).
func rows(flat []float64, width int) [][]float64 {
	if len(flat) == 0 || width <= 0 {
		return nil
	}
	out := make([][]float64, len(flat)/width)
	for i := range out {
		out[i] = flat[i*width : (i+1)*width : (i+1)*width]
	}
	return out
}

// view returns the bytes of the n elements of size bytes at s.off.
func view(data string, s tableSpan, size int) (string, error) {
	if s.off < 0 || s.n < 0 || s.off > len(data) || s.n > (len(data)-s.off)/size {
		return "", fmt.Errorf("table of %d at %d past the end", s.n, s.off)
	}
	return data[s.off : s.off+s.n*size], nil
}

// viewWords returns the n 8-byte words at s as Ts (progtab.Words: in
// place where it can, else decoded from their little-endian bits by
// decode); nil for none.
func viewWords[T uint64 | float64 | [2]int32](data string, s tableSpan, decode func(uint64) T) ([]T, error) {
	b, err := view(data, s, 8)
	if err != nil || s.n == 0 {
		return nil, err
	}
	return progtab.Words(b, func(w string) T { return decode(le64(w)) }), nil
}

// viewUint64s returns the little-endian uint64s at s (see viewWords).
func viewUint64s(data string, s tableSpan) ([]uint64, error) {
	return viewWords(data, s, func(x uint64) uint64 { return x })
}

// viewFloat64s returns the little-endian float64s at s (see viewWords).
func viewFloat64s(data string, s tableSpan) ([]float64, error) {
	return viewWords(data, s, math.Float64frombits)
}

// viewPairs returns the pairs of little-endian int32s at s (see
// viewWords).
func viewPairs(data string, s tableSpan) ([][2]int32, error) {
	return viewWords(data, s, func(x uint64) [2]int32 { return [2]int32{int32(uint32(x)), int32(uint32(x >> 32))} })
}
