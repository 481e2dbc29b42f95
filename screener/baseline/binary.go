package baseline

import (
	"bytes"
	"encoding/gob"
	"fmt"
)

// modelWire is Model without its methods, for gob.
type modelWire Model

// binaryMagic starts MarshalBinary's encoding and names its version.
const binaryMagic = "secscreen-baseline-gob/1\n"

// MarshalBinary encodes the model compactly for a cache of trained models
// (eval --folds keeps one per fold): the exported fields, as Save writes
// them, in gob. Reading it back is about ten times faster than the JSON
// of Save, whose ~170,000 weights in decimal were most of a warm eval.
// Save's JSON stays the format to publish and read by eye.
func (m *Model) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(binaryMagic)
	if err := gob.NewEncoder(&buf).Encode((*modelWire)(m)); err != nil {
		return nil, fmt.Errorf("encode baseline model: %w", err)
	}
	return buf.Bytes(), nil
}

// UnmarshalBinary decodes what MarshalBinary wrote, and checks and
// prepares the model as LoadModel does.
func (m *Model) UnmarshalBinary(data []byte) error {
	rest, ok := bytes.CutPrefix(data, []byte(binaryMagic))
	if !ok {
		return fmt.Errorf("load baseline model: not a %q encoding", binaryMagic[:len(binaryMagic)-1])
	}
	var w modelWire
	if err := gob.NewDecoder(bytes.NewReader(rest)).Decode(&w); err != nil {
		return fmt.Errorf("load baseline model: %w", err)
	}
	*m = Model(w)
	if err := m.check(); err != nil {
		return fmt.Errorf("load baseline model: %w", err)
	}
	m.prepare()
	return nil
}
