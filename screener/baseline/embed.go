package baseline

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/secscreen/secscreen/internal/builtin"
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

// The file and the command that rebuilds it, which a model.bin that does
// not load is named by (builtin.Must).
const embeddedFile, embeddedRebuild = "baseline: model.bin", "go generate ./screener/baseline"

var loadEmbedded = sync.OnceValue(func() *Model {
	var m Model
	err := m.decodeBinary(embeddedModel)
	return builtin.Must(embeddedFile, embeddedRebuild, &m, err)
})

// Embedded returns the model trained on the bundled corpus (corpus/), built
// into the binary so that the baseline backend works on a fresh machine.
// Every call returns the same *Model; it is safe for concurrent use and
// must not be modified. Like every loader of built-in data it panics if
// model.bin does not load, rather than return an error: see
// internal/builtin for why.
func Embedded() *Model { return loadEmbedded() }

// EmbeddedOptions returns Embedded().Options, the training options of the
// built-in model, without decoding the model: eval --folds trains its
// folds like the built-in model and needs nothing else of it. Only the
// encoding's small fields are read. It panics as Embedded does.
func EmbeddedOptions() TrainOptions {
	opt, err := optionsOf(embeddedModel)
	return builtin.Must(embeddedFile, embeddedRebuild, opt, err)
}

// optionsOf returns the training options of a model encoded by
// MarshalBinary, reading only the encoding's small fields.
func optionsOf(encoded string) (TrainOptions, error) {
	rest, ok := strings.CutPrefix(encoded, binaryMagic)
	if !ok {
		return TrainOptions{}, fmt.Errorf("not a %q encoding", binaryMagic[:len(binaryMagic)-1])
	}
	d := &binaryReader{rest: rest}
	js := d.bytes(d.uvarint())
	if d.err != nil {
		return TrainOptions{}, d.err
	}
	var head struct {
		Options TrainOptions `json:"options"`
	}
	if err := json.Unmarshal([]byte(js), &head); err != nil {
		return TrainOptions{}, fmt.Errorf("options: %w", err)
	}
	return head.Options, nil
}
