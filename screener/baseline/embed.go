package baseline

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

//go:generate go run ../../cmd/secscreen train --corpus ../../corpus --split dev -o model.json

// embeddedModel is the model trained on the bundled corpus.
//
//go:embed model.json
var embeddedModel []byte

var loadEmbedded = sync.OnceValues(func() (*Model, error) {
	m, err := LoadModel(bytes.NewReader(embeddedModel))
	if err != nil {
		return nil, fmt.Errorf("embedded baseline model.json (rebuild it with `go generate ./screener/baseline`): %w", err)
	}
	return m, nil
})

// Embedded returns the model trained on the bundled corpus (corpus/), built
// into the binary so that the baseline backend works on a fresh machine.
// Every call returns the same *Model; it is safe for concurrent use and
// must not be modified.
func Embedded() (*Model, error) { return loadEmbedded() }

// EmbeddedOptions returns Embedded().Options, the training options of the
// built-in model, without decoding the model: eval --folds trains its
// folds like the built-in model and needs nothing else of it, and
// decoding its ~170,000 weights was a twelfth of a warm eval. The JSON is
// read up to the options and no further.
func EmbeddedOptions() (TrainOptions, error) {
	dec := json.NewDecoder(bytes.NewReader(embeddedModel))
	fail := func(err error) (TrainOptions, error) {
		return TrainOptions{}, fmt.Errorf("embedded baseline model.json (rebuild it with `go generate ./screener/baseline`): %w", err)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fail(errors.New("not a JSON object"))
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		if t == "options" {
			var o TrainOptions
			if err := dec.Decode(&o); err != nil {
				return fail(err)
			}
			return o, nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return fail(err)
		}
	}
	return fail(errors.New("no options"))
}
