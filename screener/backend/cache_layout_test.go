package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An entry is one JSON object with the request last, so that a lookup can
// stop before it; entries written with the request first (earlier
// versions) are still replayed.
func TestCacheEntryLayoutOldAndNew(t *testing.T) {
	dir := t.TempDir()
	b := &scripted{}
	c := WithCache(b, Cache{Dir: dir})
	first, err := c.Complete(context.Background(), req("a"))
	require.NoError(t, err)
	files := cacheFiles(t, dir)
	require.Len(t, files, 1)
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.True(t, json.Valid(data), "one JSON object")
	var e cacheEntry
	require.NoError(t, json.Unmarshal(data, &e))
	assert.Greater(t, bytes.Index(data, []byte(`"request":`)), bytes.Index(data, []byte(`"usage":`)), "the request comes last")
	assert.True(t, strings.HasSuffix(string(data), string(e.Request)+"}"))

	// The same entry as an earlier version wrote it: request first, indented.
	old, err := json.MarshalIndent(struct {
		Key     string          `json:"key"`
		Request json.RawMessage `json:"request"`
		Content string          `json:"content"`
		Usage   Usage           `json:"usage"`
	}{e.Key, e.Request, e.Content, e.Usage}, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(files[0], old, 0o600))
	rep, err := c.Complete(context.Background(), req("a"))
	require.NoError(t, err)
	assert.True(t, rep.Usage.Cached, "an entry of the earlier layout is replayed")
	assert.Equal(t, first.Content, rep.Content)
	assert.Equal(t, 1, b.calls)
}

func TestDecodeReplyRefusesPartialEntries(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{"key":"k","content":"c"}`, `{"key":"k","usage":{},"request":{}}`,
		`{"key":"k","content":"c","usage":{}`, `{"key":"k","content":1,"usage":{}}`, `{"key":"k" "content":"c"}`,
	} {
		_, err := decodeReply(strings.NewReader(in))
		assert.ErrorIs(t, err, errCorruptEntry, "%q", in)
	}
	e, err := decodeReply(strings.NewReader(`{"key":"k","stored":"x","content":"c","usage":{"prompt_tokens":3},"request":{"cut`))
	require.NoError(t, err, "the reply is whole; the request is not read")
	assert.Equal(t, cacheReply{Key: "k", Content: "c", Usage: Usage{PromptTokens: 3}}, e)
}

// readReply reads what decodeReply reads, from every kind of entry: the
// current layout with a short and a long reply (past its first read), the
// earlier one, an object with a request field and no reply before it, and
// the partial or broken entries decodeReply refuses.
func TestReadReplyIsDecodeReply(t *testing.T) {
	entry := func(content string, requestFirst bool) string {
		u := Usage{Backend: "b", Model: "m", PromptTokens: 5, Attempts: 1}
		ub, err := json.Marshal(u)
		require.NoError(t, err)
		cb, err := json.Marshal(content)
		require.NoError(t, err)
		req := `{"format":"secscreen-cache/v1","messages":[{"role":"user","content":"x \"request\": y ,\"request\":"}]}`
		if requestFirst {
			return `{"key":"k","request":` + req + `,"content":` + string(cb) + `,"usage":` + string(ub) + `}`
		}
		return `{"key":"k","content":` + string(cb) + `,"usage":` + string(ub) + `,"stored":"2026-01-01T00:00:00Z","request":` + req + `}`
	}
	inputs := []string{
		entry(`{"verdict":"security"}`, false),
		entry(`a reply that quotes ,"request": itself`, false),
		entry(strings.Repeat("long reply ", 800), false),
		entry(`{"verdict":"security"}`, true),
		`{"key":"k","request":{}}`, `{"content":"c","usage":{},"request":{}}`,
		``, `[]`, `{"key":"k","content":"c"}`, `{"key":"k","usage":{},"request":{}}`,
		`{"key":"k","content":"c","usage":{}`, `{"key":"k","content":1,"usage":{},"request":{}}`, `{"key":"k" "content":"c"}`,
	}
	for _, in := range inputs {
		want, wantErr := decodeReply(strings.NewReader(in))
		got, err := readReply(strings.NewReader(in))
		assert.Equal(t, wantErr != nil, err != nil, "%.80q", in)
		assert.Equal(t, want, got, "%.80q", in)
	}
}
