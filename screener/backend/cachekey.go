package backend

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"sync/atomic"
)

// keyHead is the start of a CacheKeyMaterial's JSON encoding, up to and
// including its first message (the system message, the same for every
// report of a run), with the SHA-256 state after it.
type keyHead struct {
	format, backend, model, promptVersion string
	first                                 Message
	json                                  []byte
	sum                                   hash.Hash // never written to: cloned
}

// keyHeads keeps the last keyHead a cache computed, so that a run's calls
// encode and hash the ~15 KB system message once, not on every call.
type keyHeads struct{ last atomic.Pointer[keyHead] }

// key is CacheKeyMaterial.keyAndJSON, the same key and bytes, with the
// head taken from h when it matches m. The JSON is put together only when
// asked for (a miss stores it; a hit needs only the key).
func (h *keyHeads) key(m CacheKeyMaterial) (key string, encoding func() []byte) {
	whole := func() (string, func() []byte) {
		key, data := m.keyAndJSON()
		return key, func() []byte { return data }
	}
	if len(m.Messages) == 0 {
		return whole()
	}
	head := h.last.Load()
	if head == nil || head.format != m.Format || head.backend != m.Backend || head.model != m.Model ||
		head.promptVersion != m.PromptVersion || head.first != m.Messages[0] {
		head = newKeyHead(m)
		if head == nil {
			return whole()
		}
		h.last.Store(head)
	}
	tail, ok := appendKeyTail(nil, m)
	if !ok {
		return whole()
	}
	sum, err := head.sum.(hash.Cloner).Clone()
	if err != nil {
		return whole()
	}
	sum.Write(tail)
	return hex.EncodeToString(sum.Sum(nil)), func() []byte {
		data := make([]byte, 0, len(head.json)+len(tail))
		return append(append(data, head.json...), tail...)
	}
}

// newKeyHead encodes m's head as json.Marshal encodes CacheKeyMaterial:
// the fields in their order, strings escaped by json.Marshal itself.
func newKeyHead(m CacheKeyMaterial) *keyHead {
	b := []byte(`{"format":`)
	var ok bool
	for _, f := range []struct {
		name string
		v    any
	}{{"", m.Format}, {`,"backend":`, m.Backend}, {`,"model":`, m.Model}, {`,"prompt_version":`, m.PromptVersion},
		{`,"messages":[`, m.Messages[0]}} {
		b = append(b, f.name...)
		if b, ok = appendJSON(b, f.v); !ok {
			return nil
		}
	}
	sum := sha256.New()
	if _, ok := sum.(hash.Cloner); !ok {
		return nil
	}
	sum.Write(b)
	return &keyHead{format: m.Format, backend: m.Backend, model: m.Model, promptVersion: m.PromptVersion,
		first: m.Messages[0], json: b, sum: sum}
}

// appendKeyTail appends the rest of m's encoding after its first message.
func appendKeyTail(b []byte, m CacheKeyMaterial) ([]byte, bool) {
	var ok bool
	for _, msg := range m.Messages[1:] {
		b = append(b, ',')
		if b, ok = appendJSON(b, msg); !ok {
			return b, false
		}
	}
	b = append(b, ']')
	if len(m.Schema) > 0 {
		// As Marshal does with a RawMessage field: compacted, HTML-escaped;
		// one that is not JSON is left out, as keyAndJSON leaves it out.
		if s, err := json.Marshal(m.Schema); err == nil {
			b = append(append(b, `,"schema":`...), s...)
		}
	}
	for _, f := range []struct {
		name string
		v    any
	}{{`,"temperature":`, m.Temperature}, {`,"seed":`, m.Seed}, {`,"max_tokens":`, m.MaxTokens}} {
		b = append(b, f.name...)
		if b, ok = appendJSON(b, f.v); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

func appendJSON(b []byte, v any) ([]byte, bool) {
	data, err := json.Marshal(v)
	if err != nil {
		return b, false
	}
	return append(b, data...), true
}
