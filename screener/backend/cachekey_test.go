package backend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/secscreen/secscreen/internal/benchsupport"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tricky are strings json.Marshal escapes: HTML, control and quote
// characters, U+2028, invalid UTF-8.
var tricky = []string{"", "plain", "<script>&amp;</script>", "quote \" back \\ slash", "tab\tnl\n\x00\x1f",
	"line\u2028sep\u2029", "bad \xff\xfe utf-8", "é 日本 🙂", strings.Repeat("The threat model. ", 900)}

// The key and the bytes that the head cache splices together are those of
// json.Marshal over the whole material, for every kind of input, whether
// the head is computed afresh or reused, and from many goroutines at once.
func TestSplicedKeyIsTheMarshalledKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func() string { return tricky[rng.IntN(len(tricky))] }
	var h keyHeads
	schemas := []json.RawMessage{nil, json.RawMessage(`{"type":"object","description":"<b>"}`), json.RawMessage(`not json`)}
	var cases []CacheKeyMaterial
	for i := range 300 {
		req := Request{PromptVersion: pick(), Schema: schemas[rng.IntN(len(schemas))], Temperature: []float64{0, 0.7, 1e-7}[rng.IntN(3)],
			Seed: rng.IntN(5) - 2}
		sys := tricky[8]
		if i%10 == 0 {
			sys = pick() // a new head now and then
		}
		req.Messages = []Message{{Role: System, Content: sys}}
		for range rng.IntN(4) {
			req.Messages = append(req.Messages, Message{Role: []Role{User, Assistant}[rng.IntN(2)], Content: pick() + fmt.Sprint(i)})
		}
		m := KeyMaterial(pick(), pick(), req)
		m.MaxTokens = rng.IntN(3) * 500 // as an older material could hold
		if i%17 == 0 {
			m.Schema = json.RawMessage(`{broken`) // material built by hand
		}
		cases = append(cases, m)
	}
	check := func(m CacheKeyMaterial) {
		wantKey, wantJSON := m.keyAndJSON()
		key, enc := h.key(m)
		require.Equal(t, wantKey, key, "%+v", m)
		require.Equal(t, string(wantJSON), string(enc()))
	}
	for _, m := range cases {
		check(m)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < len(cases); i += 4 {
				check(cases[i])
			}
		})
	}
	wg.Wait()
	empty := CacheKeyMaterial{Format: cacheFormat}
	key, enc := h.key(empty)
	assert.Equal(t, empty.Key(), key, "no messages: the whole material is marshalled")
	assert.JSONEq(t, `{"format":"secscreen-cache/v1","backend":"","model":"","prompt_version":"","messages":null,"temperature":0,"seed":0,"max_tokens":0}`, string(enc()))
}

// BenchmarkCacheKey is the key of a ~23 KB request whose system message
// was seen before, as every call of a run after the first.
func BenchmarkCacheKey(b *testing.B) {
	var h keyHeads
	m := KeyMaterial("fake", "m", bigRequest(1))
	h.key(m)
	b.ReportAllocs()
	defer benchsupport.ReportCPU(b, benchsupport.CPUTime())
	for b.Loop() {
		h.key(m)
	}
}

// The schema kept from the previous request is used only for the same
// bytes: schemas that differ, in whitespace or in being JSON at all, each
// get their own compaction, in any order.
func TestKeyMaterialCompactsEachSchema(t *testing.T) {
	schemas := []string{`{"type": "object"}`, "{\n  \"type\":\"object\"\n}", `not json`, `{"type":"string"}`, `{"type": "object"}`, `not json`}
	for _, s := range schemas {
		var want []byte
		var buf bytes.Buffer
		if json.Compact(&buf, []byte(s)) == nil {
			want = buf.Bytes()
		} else {
			want, _ = json.Marshal(s)
		}
		got := KeyMaterial("b", "m", Request{Schema: json.RawMessage(s)}).Schema
		assert.Equal(t, string(want), string(got), "%q", s)
	}
}

// appendJSONString and appendMessageJSON give json.Marshal's very bytes:
// for every single byte, the tricky strings, and random strings of bytes
// and of runes (U+2028 and U+2029, surrogate halves and other invalid
// UTF-8 among them).
func TestAppendJSONStringIsMarshal(t *testing.T) {
	inputs := slices.Clone(tricky)
	for c := range 256 {
		inputs = append(inputs, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	runes := []rune{'a', '<', '>', '&', '"', '\\', '\n', 0, 0x7f, 0x80, 'é', '\u2028', '\u2029', '\u2027', '\u202a', 0xfffd, 0x1f642, '日'}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		var r strings.Builder
		for range rng.IntN(40) {
			if rng.IntN(8) == 0 {
				r.WriteString("\xed\xa0\x80"[:1+rng.IntN(3)]) // a surrogate half, or part of it
			} else {
				r.WriteRune(runes[rng.IntN(len(runes))])
			}
		}
		inputs = append(inputs, string(b), r.String())
	}
	for _, s := range inputs {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendJSONString([]byte("x"), s)[1:]), "%q", s)
		msg := Message{Role: Role(s), Content: s + "!"}
		want, err = json.Marshal(msg)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendMessageJSON(nil, msg)), "%q", s)
	}
	// appendMessageJSON writes Message's two fields by hand: a field
	// added to Message must be added there too, or keys would not see it.
	assert.Equal(t, 2, reflect.TypeFor[Message]().NumField(), "appendMessageJSON encodes every field of Message")
}
