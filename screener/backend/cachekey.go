package backend

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"slices"
	"sync/atomic"
	"unicode/utf8"
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
type keyHeads struct {
	last   atomic.Pointer[keyHead]
	schema atomic.Pointer[schemaJSON]
}

// schemaJSON is a request's schema (raw, as in CacheKeyMaterial) and its
// json.Marshal encoding, or the error that encoding gave.
type schemaJSON struct {
	raw, json []byte
	err       error
}

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
	tail, ok := appendKeyTail(nil, m, &h.schema)
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
// The messages are encoded by appendMessageJSON, json.Marshal's bytes
// without its reflection (the report's ~8 KB prompt was most of a key's
// cost), and the schema's encoding is the one remembered in schemas when
// it is the same schema as last time.
func appendKeyTail(b []byte, m CacheKeyMaterial, schemas *atomic.Pointer[schemaJSON]) ([]byte, bool) {
	var ok bool
	size := len(b) + 128
	for _, msg := range m.Messages[1:] {
		size += len(msg.Role) + len(msg.Content) + 32
	}
	b = slices.Grow(b, size)
	for _, msg := range m.Messages[1:] {
		b = append(b, ',')
		b = appendMessageJSON(b, msg)
	}
	b = append(b, ']')
	if len(m.Schema) > 0 {
		// As Marshal does with a RawMessage field: compacted, HTML-escaped;
		// one that is not JSON is left out, as keyAndJSON leaves it out.
		last := schemas.Load()
		if last == nil || !bytes.Equal(last.raw, m.Schema) {
			last = &schemaJSON{raw: bytes.Clone(m.Schema)}
			last.json, last.err = json.Marshal(m.Schema)
			schemas.Store(last)
		}
		if last.err == nil {
			b = append(append(b, `,"schema":`...), last.json...)
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

// appendMessageJSON appends json.Marshal's encoding of msg.
func appendMessageJSON(b []byte, msg Message) []byte {
	b = append(b, `{"role":`...)
	b = appendJSONString(b, string(msg.Role))
	b = append(b, `,"content":`...)
	b = appendJSONString(b, msg.Content)
	return append(b, '}')
}

// appendJSONString appends s as json.Marshal encodes a string: quoted,
// with '"', '\\' and control characters escaped, '<', '>' and '&' too (HTML
// escaping), U+2028 and U+2029 as \u2028 and \u2029, and each byte of
// invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonSafe marks the ASCII bytes appendJSONString copies as they are.
var jsonSafe = func() (safe [utf8.RuneSelf]bool) {
	for c := range safe {
		safe[c] = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return safe
}()
