package baseline

import (
	_ "embed"
	"sync"

	"github.com/secscreen/secscreen/internal/builtin"
)

// The built-in model is trained into model.json, the form to publish and
// read, and go generate writes it prepared for Predict into model_gen.go
// and model.bin, which the binary reads in place (see tables.go): decoding
// the JSON took ~40 ms of every run that used the model, decoding and
// preparing its binary encoding (MarshalBinary) ~3.5 ms. TestEmbeddedTables
// fails when the two files are not what model.json gives, and
// TestEmbeddedMatchesARetrain when model.json is not what the current
// corpus and rules train.
//
//go:generate go run ../../cmd/secscreen train --corpus ../../corpus --split dev -o model.json
//go:generate go test -run ^TestEmbeddedTables$ -args -update

// embeddedTables holds the built-in model's arrays (embeddedLayout says
// where).
//
//go:embed model.bin
var embeddedTables string

// The file and the command that rebuilds it, which a model.bin that does
// not load is named by (builtin.Must).
const embeddedFile, embeddedRebuild = "baseline: model.bin", "go generate ./screener/baseline"

var loadEmbedded = sync.OnceValue(func() *Model {
	m, err := fromTables(&embeddedHead, &embeddedLayout, embeddedTables)
	return builtin.Must(embeddedFile, embeddedRebuild, m, err)
})

// Embedded returns the model trained on the bundled corpus (corpus/), built
// into the binary so that the baseline backend works on a fresh machine.
// Every call returns the same *Model; it is safe for concurrent use and
// must not be modified (its arrays are read-only memory). Like every
// loader of built-in data it panics if model.bin does not load, rather
// than return an error: see internal/builtin for why.
func Embedded() *Model { return loadEmbedded() }

// EmbeddedOptions returns Embedded().Options, the training options of the
// built-in model, without reading its tables: eval --folds trains its
// folds like the built-in model and needs nothing else of it.
func EmbeddedOptions() TrainOptions { return embeddedHead.Options }
