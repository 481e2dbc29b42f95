package backend

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/secscreen/secscreen/internal/atomicfile"
)

// CacheMode says how WithCache uses its directory.
type CacheMode int

const (
	// CacheReadWrite replays stored replies and stores new ones.
	CacheReadWrite CacheMode = iota
	// CacheOffline only replays: a request without a stored reply fails
	// with an error wrapping ErrCacheMiss, and the model is never called.
	// This makes a run reproducible without a network or a key.
	CacheOffline
	// CacheDisabled bypasses the cache entirely.
	CacheDisabled
)

// String names the mode as config files and flags spell it.
func (m CacheMode) String() string {
	switch m {
	case CacheReadWrite:
		return "readwrite"
	case CacheOffline:
		return "offline"
	case CacheDisabled:
		return "off"
	}
	return fmt.Sprintf("CacheMode(%d)", int(m))
}

// ParseCacheMode reads "readwrite" (or "" or "on"), "offline" or "off".
func ParseCacheMode(s string) (CacheMode, error) {
	switch s {
	case "", "on", "readwrite":
		return CacheReadWrite, nil
	case "offline", "replay":
		return CacheOffline, nil
	case "off", "disabled":
		return CacheDisabled, nil
	}
	return 0, fmt.Errorf("unknown cache mode %q (want readwrite, offline or off)", s)
}

// Cache configures WithCache.
type Cache struct {
	// Dir holds the cache files; "" means DefaultCacheDir().
	Dir string
	// Mode selects read-write, offline replay, or no caching.
	Mode CacheMode
	// Logger, if set, hears about cache files that could not be written or
	// were corrupt. The cache never fails a call for such reasons.
	Logger *slog.Logger
}

// DefaultCacheDir is os.UserCacheDir()/secscreen, e.g.
// ~/.cache/secscreen on Linux.
func DefaultCacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the user cache directory: %w", err)
	}
	return filepath.Join(base, "secscreen"), nil
}

// cacheFormat versions the key derivation and the file layout; changing
// either must change it so that old entries are simply never found.
const cacheFormat = "secscreen-cache/v1"

// CacheKeyMaterial is everything that decides a model's reply, and so
// everything a cache key is derived from. It never holds credentials.
type CacheKeyMaterial struct {
	Format        string          `json:"format"`
	Backend       string          `json:"backend"`
	Model         string          `json:"model"`
	PromptVersion string          `json:"prompt_version"`
	Messages      []Message       `json:"messages"`
	Schema        json.RawMessage `json:"schema,omitempty"`
	Temperature   float64         `json:"temperature"`
	Seed          int             `json:"seed"`
	// MaxTokens is always 0: requests leave the answer's length to the
	// server. It stays in the material so that every key of format v1,
	// and so every cached answer, is unchanged.
	MaxTokens int `json:"max_tokens"`
}

// KeyMaterial collects the key material of req sent to backend/model. The
// schema is compacted so that whitespace changes do not change the key.
func KeyMaterial(backend, model string, req Request) CacheKeyMaterial {
	schema := req.Schema
	if len(schema) > 0 {
		schema = compactSchema(schema)
	}
	return CacheKeyMaterial{
		Format:        cacheFormat,
		Backend:       backend,
		Model:         model,
		PromptVersion: req.PromptVersion,
		Messages:      req.Messages,
		Schema:        schema,
		Temperature:   req.Temperature,
		Seed:          req.Seed,
	}
}

// compactSchema returns a request's schema compacted, or, when it is not
// JSON, its bytes quoted, so that the key still covers them. Every request
// of a run sends the same schema: the last one is kept with its result
// (a warm eval read ~4% of its CPU compacting it again for each report).
func compactSchema(schema []byte) []byte {
	if last := lastSchema.Load(); last != nil && bytes.Equal(last.in, schema) {
		return last.out
	}
	var out []byte
	var buf bytes.Buffer
	if json.Compact(&buf, schema) == nil {
		out = buf.Bytes()
	} else {
		out, _ = json.Marshal(string(schema))
	}
	lastSchema.Store(&compacted{in: bytes.Clone(schema), out: out})
	return out
}

// compacted is a schema and what compactSchema made of it; out is never
// written to once stored.
type compacted struct{ in, out []byte }

var lastSchema atomic.Pointer[compacted]

// Key is the hex SHA-256 of the material's canonical JSON encoding.
func (m CacheKeyMaterial) Key() string {
	key, _ := m.keyAndJSON()
	return key
}

// keyAndJSON is Key and the encoding it hashes, which the cache stores as
// the entry's request: the ~23 KB prompt is encoded once per call.
func (m CacheKeyMaterial) keyAndJSON() (string, []byte) {
	// Marshal cannot fail: KeyMaterial made Schema valid JSON, and
	// material built by hand with a broken schema hashes as if it had none.
	data, err := json.Marshal(m)
	if err != nil {
		m.Schema = nil
		data, _ = json.Marshal(m)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), data
}

// cacheEntry is one file of the cache. Request is the CacheKeyMaterial's
// JSON, kept so that a person can see what an entry answers. It is written
// last, so that a lookup reads the reply and stops before the ~23 KB
// request (see decodeReply).
type cacheEntry struct {
	Key     string          `json:"key"`
	Content string          `json:"content"`
	Usage   Usage           `json:"usage"`
	Stored  time.Time       `json:"stored"`
	Request json.RawMessage `json:"request"`
}

// cacheReply is what a lookup reads of an entry: not the request.
type cacheReply struct {
	Key     string `json:"key"`
	Content string `json:"content"`
	Usage   Usage  `json:"usage"`
}

// errCorruptEntry is a cache file that holds no whole reply.
var errCorruptEntry = errors.New("not a cache entry")

// decodeReply reads the reply of an entry from r, field by field, and
// stops at the request once the key, the content and the usage are read:
// decoding the whole file scanned the request twice (validation, then
// skipping), most of a cache hit's time. Entries written with the request
// first, as earlier versions did, are read too (the request is skipped).
// Whatever follows the fields read is not checked: the file was written
// whole and renamed into place, and the key is checked by the caller.
func decodeReply(r io.Reader) (cacheReply, error) {
	var e cacheReply
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return e, errCorruptEntry
	}
	var key, content, usage bool
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return e, fmt.Errorf("%w: %w", errCorruptEntry, err)
		}
		var v any
		switch t {
		case "key":
			v, key = &e.Key, true
		case "content":
			v, content = &e.Content, true
		case "usage":
			v, usage = &e.Usage, true
		case "request":
			if key && content && usage {
				return e, nil
			}
			v = &json.RawMessage{}
		default:
			v = &json.RawMessage{}
		}
		if err := dec.Decode(v); err != nil {
			return e, fmt.Errorf("%w: %w", errCorruptEntry, err)
		}
	}
	if _, err := dec.Token(); err != nil || !(key && content && usage) {
		return e, errCorruptEntry
	}
	return e, nil
}

// replyHead is how much of an entry readReply reads first: the key, the
// reply and its usage, up to the request, fit in it unless the reply is
// long.
const replyHead = 4 << 10

// requestField starts the request in an entry. Inside a JSON string every
// quote is escaped, so these bytes are the field itself.
var requestField = []byte(`,"request":`)

// readReply reads the reply of an entry from r: what precedes the request
// as one object when the first replyHead bytes hold it (json.Unmarshal of
// a few hundred bytes, not a token at a time), else as decodeReply reads.
func readReply(r io.Reader) (cacheReply, error) {
	var buf [replyHead]byte
	n, err := io.ReadFull(r, buf[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return cacheReply{}, fmt.Errorf("%w: %w", errCorruptEntry, err)
	}
	head := buf[:n]
	if i := bytes.Index(head, requestField); i > 0 {
		var e struct {
			Key     *string `json:"key"`
			Content *string `json:"content"`
			Usage   *Usage  `json:"usage"`
		}
		obj := append(head[:i:i], '}')
		if json.Unmarshal(obj, &e) == nil && e.Key != nil && e.Content != nil && e.Usage != nil {
			return cacheReply{Key: *e.Key, Content: *e.Content, Usage: *e.Usage}, nil
		}
	}
	return decodeReply(io.MultiReader(bytes.NewReader(head), r))
}

// WithCache wraps b with a content-addressed reply cache in c.Dir: each
// reply is stored in a file named by the SHA-256 of its CacheKeyMaterial
// (backend name, model, prompt version, messages, schema, temperature,
// seed, max tokens), so any change to the prompt or the report is a new
// key. Files are written atomically (temporary file, then rename) and hold
// the key material and the reply with its usage, never credentials. A
// replayed reply has Usage.Cached set and Usage.Attempts 0. A corrupt file
// counts as a miss. In CacheDisabled mode b is returned unchanged.
//
// A request without Messages passes straight through, in every mode: it is
// meant for a backend that reads Request.Report itself (the offline
// baseline), which is fast and deterministic, and whose input the key
// would not cover.
//
// If c.Dir is empty and DefaultCacheDir fails, calls fail with that error.
func WithCache(b Backend, c Cache) Backend {
	if c.Mode == CacheDisabled {
		return b
	}
	cb := &caching{Backend: b, c: c}
	if cb.c.Dir == "" {
		cb.c.Dir, cb.dirErr = DefaultCacheDir()
	}
	return cb
}

type caching struct {
	Backend
	c      Cache
	dirErr error
	heads  keyHeads
}

func (cb *caching) path(key string) string {
	return filepath.Join(cb.c.Dir, key[:2], key+".json")
}

func (cb *caching) logf(msg string, args ...any) {
	if cb.c.Logger != nil {
		cb.c.Logger.Warn(msg, args...)
	}
}

func (cb *caching) Complete(ctx context.Context, req Request) (Reply, error) {
	if cb.dirErr != nil {
		return Reply{}, fmt.Errorf("cache: %w", cb.dirErr)
	}
	if len(req.Messages) == 0 {
		return cb.Backend.Complete(ctx, req)
	}
	// The lookup is local work, no more urgent than the caller's own (see
	// WithWaiting); a miss goes on to the server, first again.
	Waiting(ctx)
	start := time.Now()
	material := KeyMaterial(cb.Name(), cb.Model(), req)
	key, encoding := cb.heads.key(material)
	if e, ok := cb.load(key); ok {
		u := e.Usage
		u.Cached = true
		u.Attempts = 0
		u.Latency = time.Since(start)
		return Reply{Content: e.Content, Usage: u}, nil
	}
	if cb.c.Mode == CacheOffline {
		return Reply{}, fmt.Errorf("cache: report %q, %s %s, prompt %s: %w (offline mode)",
			req.ReportID, cb.Name(), cb.Model(), req.PromptVersion, ErrCacheMiss)
	}
	Sending(ctx)
	rep, err := cb.Backend.Complete(ctx, req)
	if err != nil {
		return rep, err
	}
	if err := cb.store(key, encoding(), rep); err != nil {
		cb.logf("cache: reply not stored", "report", req.ReportID, "err", err)
	}
	return rep, nil
}

// load reads the entry of key, through a pooled buffer with few system
// calls (atomicfile.Use): a warm eval reads one entry per report.
func (cb *caching) load(key string) (cacheReply, bool) {
	var e cacheReply
	err := atomicfile.Use(cb.path(key), func(data []byte) error {
		var err error
		e, err = readReply(bytes.NewReader(data))
		return err
	})
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return cacheReply{}, false
	case err != nil && !errors.Is(err, errCorruptEntry):
		cb.logf("cache: unreadable entry, treated as a miss", "key", key, "err", err)
		return cacheReply{}, false
	case err != nil || e.Key != key:
		cb.logf("cache: corrupt entry, treated as a miss", "key", key)
		return cacheReply{}, false
	}
	return e, true
}

// store writes the entry compactly, the request's JSON last and as it was
// encoded for the key: indenting the ~23 KB request, or checking it again
// as a json.RawMessage, cost as much as encoding it.
func (cb *caching) store(key string, km []byte, rep Reply) error {
	u := rep.Usage
	u.Cached = false
	head, err := json.Marshal(struct {
		Key     string    `json:"key"`
		Content string    `json:"content"`
		Usage   Usage     `json:"usage"`
		Stored  time.Time `json:"stored"`
	}{key, rep.Content, u, time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("encoding entry: %w", err)
	}
	data := make([]byte, 0, len(head)+len(km)+16)
	data = append(data, head[:len(head)-1]...) // without its '}'
	data = append(data, `,"request":`...)
	data = append(data, km...)
	data = append(data, '}')
	return writeFileAtomic(cb.path(key), data)
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place, so readers see either no file or the whole file.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating cache directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temporary file: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("renaming into place: %w", err)
	}
	return nil
}
