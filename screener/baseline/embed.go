package baseline

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// The built-in model is trained into model.json, the form to publish and
// read, and model.bin is its binary encoding (MarshalBinary), which is what
// the binary embeds: decoding the JSON took ~40 ms of every run that used
// the model. TestEmbeddedBinary fails when model.bin is not model.json's
// encoding, and TestEmbeddedMatchesARetrain when model.json is not what
// the current corpus and rules train.
//
//go:generate go run ../../cmd/secscreen train --corpus ../../corpus --split dev -o model.json
//go:generate go test -run ^TestEmbeddedBinary$ -args -update

// embeddedModel is the model trained on the bundled corpus, encoded by
// MarshalBinary.
//
//go:embed model.bin
var embeddedModel string

var loadEmbedded = sync.OnceValues(func() (*Model, error) {
	var m Model
	if err := m.decodeBinary(embeddedModel); err != nil {
		return nil, fmt.Errorf("embedded baseline model.bin (rebuild it with `go generate ./screener/baseline`): %w", err)
	}
	return &m, nil
})

// Embedded returns the model trained on the bundled corpus (corpus/), built
// into the binary so that the baseline backend works on a fresh machine.
// Every call returns the same *Model; it is safe for concurrent use and
// must not be modified.
func Embedded() (*Model, error) { return loadEmbedded() }

// EmbeddedOptions returns Embedded().Options, the training options of the
// built-in model, without decoding the model: eval --folds trains its
// folds like the built-in model and needs nothing else of it. Only the
// encoding's small fields are read.
func EmbeddedOptions() (TrainOptions, error) {
	fail := func(err error) (TrainOptions, error) {
		return TrainOptions{}, fmt.Errorf("embedded baseline model.bin (rebuild it with `go generate ./screener/baseline`): %w", err)
	}
	rest, ok := strings.CutPrefix(embeddedModel, binaryMagic)
	if !ok {
		return fail(fmt.Errorf("not a %q encoding", binaryMagic[:len(binaryMagic)-1]))
	}
	d := &binaryReader{rest: rest}
	js := d.bytes(d.uvarint())
	if d.err != nil {
		return fail(d.err)
	}
	var head struct {
		Options TrainOptions `json:"options"`
	}
	if err := json.Unmarshal([]byte(js), &head); err != nil {
		return fail(err)
	}
	return head.Options, nil
}
