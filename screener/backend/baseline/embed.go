package baseline

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"
)

//go:generate go run ../../../cmd/secscreen train --corpus ../../../corpus --split dev -o model.json

// embeddedModel is the model trained on the bundled corpus.
//
//go:embed model.json
var embeddedModel []byte

var loadEmbedded = sync.OnceValues(func() (*Model, error) {
	m, err := LoadModel(bytes.NewReader(embeddedModel))
	if err != nil {
		return nil, fmt.Errorf("embedded baseline model (rebuild it with `go generate ./screener/backend/baseline`): %w", err)
	}
	return m, nil
})

// Embedded returns the model trained on the bundled corpus (corpus/), built
// into the binary so that the baseline backend works on a fresh machine.
// Every call returns the same *Model; it is safe for concurrent use and
// must not be modified.
func Embedded() (*Model, error) { return loadEmbedded() }
