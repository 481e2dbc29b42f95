package screener

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"weak"

	"github.com/secscreen/secscreen/internal/atomicfile"
	"github.com/secscreen/secscreen/screener/injection"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
)

// EvalCache keeps the rules' evaluations of reports, the injection
// detector's findings and (with Voter) a voter's opinions across runs,
// beside the model's reply cache, so that a run answered from that cache
// (an eval re-run, a resumed batch) does not run the rules again on every
// report: with the model's answer replayed, the rules were most of the CPU
// left.
//
// An entry is found by the SHA-256 of a fingerprint of the rules in force
// (see NewEvalCache) and the whole report as intake decoded it: a changed
// report, rule file, series list, threat model or binary is a new key, and
// an entry is never served for anything else. Entries are JSON files
// written atomically; an unreadable one counts as a miss. The zero value
// (no directory) is a cache that keeps nothing.
type EvalCache struct {
	dir         string
	fingerprint string
	keys        recentKeys
}

// recentKeys remembers the keys of the last reports looked up, so that a
// report's analysis and then its vote (Voter) encode and hash it once: that
// was a tenth of a warm eval's screening. With the key it keeps the votes
// the report's entry held, so that the vote asked next is not read again.
// It holds weak pointers: a report remembered is not kept alive by it, and
// a report made later at the same address is another pointer, never taken
// for the earlier one.
type recentKeys struct {
	mu    sync.Mutex
	keys  map[weak.Pointer[intake.Report]]*recent
	order [recentKeysKept]weak.Pointer[intake.Report]
	next  int
}

// recent is what recentKeys keeps of a report: its key, and the votes its
// entry held (by vote key; never written to once kept).
type recent struct {
	key   string
	votes map[string]Classification
}

// recentKeysKept bounds the reports remembered: more than a run reads
// ahead of the one it screens (see Run), with room to spare.
const recentKeysKept = 4096

// get returns the key remembered for r.
func (k *recentKeys) get(r *intake.Report) (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.keys[weak.Make(r)]; ok {
		return e.key, true
	}
	return "", false
}

// put remembers r's key, forgetting the oldest report's past the bound.
func (k *recentKeys) put(r *intake.Report, key string) {
	w := weak.Make(r)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.keys == nil {
		k.keys = make(map[weak.Pointer[intake.Report]]*recent, recentKeysKept)
	}
	if _, ok := k.keys[w]; ok {
		return
	}
	delete(k.keys, k.order[k.next])
	k.order[k.next] = w
	k.next = (k.next + 1) % recentKeysKept
	k.keys[w] = &recent{key: key}
}

// keepVotes remembers the votes r's entry held, if r's key is remembered.
func (k *recentKeys) keepVotes(r *intake.Report, votes map[string]Classification) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.keys[weak.Make(r)]; ok {
		e.votes = votes
	}
}

// vote returns the vote under voteKey that r's entry held.
func (k *recentKeys) vote(r *intake.Report, voteKey string) (Classification, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.keys[weak.Make(r)]; ok {
		v, ok := e.votes[voteKey]
		return v, ok
	}
	return Classification{}, false
}

// NewEvalCache returns a cache in dir for evaluations made by rules whose
// identity fingerprint names: it must change whenever the evaluation of a
// report could (the binary's build id, the rule, series and threat model
// files in force). An empty fingerprint makes a cache that keeps nothing.
func NewEvalCache(dir, fingerprint string) *EvalCache {
	if fingerprint == "" {
		return &EvalCache{}
	}
	return &EvalCache{dir: dir, fingerprint: fingerprint}
}

// Evaluator evaluates a report: rules.Engine.EvaluateContext.
type Evaluator func(context.Context, *intake.Report) (rules.Evaluation, error)

// Detector finds text aimed at a model: injection.Detect.
type Detector func(*intake.Report) []injection.Span

// Analysis returns the cached evaluation and injection spans of r, or
// computes them with eval and detect and stores them. A failed evaluation
// (a cancelled run) is not stored. The injection detector is cached with
// the rules: with a model's answer replayed, it was most of what was left.
func (c *EvalCache) Analysis(ctx context.Context, r *intake.Report, eval Evaluator, detect Detector) (rules.Evaluation, []injection.Span, error) {
	compute := func() (rules.Evaluation, []injection.Span, error) {
		ev, err := eval(ctx, r)
		if err != nil {
			return ev, nil, err
		}
		return ev, detect(r), nil
	}
	if c == nil || c.dir == "" {
		return compute()
	}
	key, err := c.key(r)
	if err != nil {
		return compute()
	}
	path := c.path(key)
	var e evalEntry
	if readEntry(path, &e) && e.Key == key {
		if len(e.Votes) > 0 {
			c.keys.keepVotes(r, e.Votes)
		}
		return e.Evaluation, e.Injection, nil
	}
	ev, spans, err := compute()
	if err != nil {
		return ev, nil, err
	}
	if data, err := json.Marshal(evalEntry{Key: key, Evaluation: ev, Injection: spans}); err == nil {
		_ = writeAtomic(path, data) // a cache that cannot write only misses
	}
	return ev, spans, nil
}

// Evaluate is the cached evaluation of r outside a run (training the
// baseline); it stores the injection spans too, for the run that follows.
func (c *EvalCache) Evaluate(r *intake.Report, eng *rules.Engine) rules.Evaluation {
	ev, _, _ := c.Analysis(context.Background(), r, func(_ context.Context, r *intake.Report) (rules.Evaluation, error) {
		return eng.Evaluate(r), nil
	}, injection.Detect)
	return ev
}

// Voter returns v with its classifications kept in the cache, so that a re-run
// (a warm eval) does not classify every report again: a fold's baseline
// vote was the largest cost left once the model's answers, the rules and
// the fold models came from the cache. An opinion is found by id, which
// must name everything v's opinions depend on besides the report and the
// rules in force (for a trained baseline: its training set, labels and
// options), and by the whole report as Analysis finds it; it is kept in
// the report's analysis entry (see cachedVoter.Classify). Failed votes
// are not kept. With no directory, an empty id or a nil v, v is returned.
func (c *EvalCache) Voter(v Classifier, id string) Classifier {
	if c == nil || c.dir == "" || id == "" || v == nil {
		return v
	}
	return &cachedVoter{Classifier: v, c: c, id: id}
}

type cachedVoter struct {
	Classifier
	c  *EvalCache
	id string
}

type voteEntry struct {
	Key  string         `json:"key"`
	Vote Classification `json:"vote"`
}

// Classify gives the vote kept for r: the one its analysis entry held
// (read by Analysis), or, in a cache written before votes were kept there,
// the vote's own entry. A vote made afresh is kept in r's analysis entry
// when there is one, else in its own.
func (v *cachedVoter) Classify(ctx context.Context, r *intake.Report, ev *rules.Evaluation) (Classification, error) {
	rk, err := v.c.key(r)
	if err != nil {
		return v.Classifier.Classify(ctx, r, ev)
	}
	sum := sha256.Sum256([]byte(voteCacheFormat + "\x00" + v.id + "\x00" + rk))
	key := hex.EncodeToString(sum[:])
	if op, ok := v.c.keys.vote(r, key); ok {
		return op, nil
	}
	path := v.c.path(key)
	var e voteEntry
	if readEntry(path, &e) && e.Key == key {
		return e.Vote, nil
	}
	op, err := v.Classifier.Classify(ctx, r, ev)
	if err != nil {
		return op, err
	}
	if !v.c.addVote(rk, key, op) {
		if data, err := json.Marshal(voteEntry{Key: key, Vote: op}); err == nil {
			_ = writeAtomic(path, data) // a cache that cannot write only misses
		}
	}
	return op, nil
}

// addVote keeps op under voteKey in the analysis entry of the report whose
// key is reportKey, and says whether it could: a warm run then reads one
// file per report for its evaluation and its vote, not two. Another run
// writing the entry at the same time may drop the vote: the next run
// votes again.
func (c *EvalCache) addVote(reportKey, voteKey string, op Classification) bool {
	path := c.path(reportKey)
	var e evalEntry
	if !readEntry(path, &e) || e.Key != reportKey {
		return false
	}
	votes := make(map[string]Classification, len(e.Votes)+1)
	maps.Copy(votes, e.Votes)
	votes[voteKey] = op
	e.Votes = votes
	data, err := json.Marshal(e)
	return err == nil && writeAtomic(path, data) == nil
}

// path is where the entry of key is kept.
func (c *EvalCache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key+".json")
}

// readEntry decodes the entry at path into v and says whether it could: a
// missing, unreadable or corrupt entry is a miss.
func readEntry(path string, v any) bool {
	return atomicfile.Use(path, func(data []byte) error { return json.Unmarshal(data, v) }) == nil
}

// voteCacheFormat versions the vote entries' key and layout.
const voteCacheFormat = "secscreen-vote-cache/v2"

type evalEntry struct {
	Key        string           `json:"key"`
	Evaluation rules.Evaluation `json:"evaluation"`
	Injection  []injection.Span `json:"injection"`
	// Votes are the voters' opinions of the report (Voter), by vote key,
	// kept with its evaluation: one file per report for a warm run to
	// read. Entries written before votes were kept here have none.
	Votes map[string]Classification `json:"votes,omitempty"`
}

// evalCacheFormat versions the key derivation and the entry layout. v3
// hashes the report's long texts as they are, not as JSON.
const evalCacheFormat = "secscreen-rules-cache/v3"

// key hashes the fingerprint and the whole report, the hidden parts (the
// header fields and HTML comments the injection detector reads) included.
// It is remembered for the report (see recentKeys): a report is not
// changed once read, in a run.
//
// The report is hashed as JSON with its long texts (the body, the text
// attachments, the hidden parts' text) left out, and then those texts as
// they are, each after its length: JSON-escaping them was most of the
// cost of a key, and the JSON still covers every other field, those added
// later included. The JSON ends the encoding of the fields around the
// texts, and says how many there are; the lengths frame them: two reports
// that differ anywhere hash different bytes.
func (c *EvalCache) key(r *intake.Report) (string, error) {
	if key, ok := c.keys.get(r); ok {
		return key, nil
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", evalCacheFormat, c.fingerprint)
	bp := textBuffers.Get().(*[]byte)
	defer textBuffers.Put(bp)
	texts := (*bp)[:0]
	text := func(s string) string {
		texts = binary.LittleEndian.AppendUint64(texts, uint64(len(s)))
		texts = append(texts, s...)
		return ""
	}
	short := *r
	short.Body = text(r.Body)
	short.Attachments = slices.Clone(r.Attachments)
	for i := range short.Attachments {
		short.Attachments[i].Text = text(r.Attachments[i].Text)
	}
	hidden := slices.Clone(r.Hidden)
	for i := range hidden {
		hidden[i].Text = text(r.Hidden[i].Text)
	}
	short.Hidden = nil
	enc := json.NewEncoder(h)
	if err := enc.Encode(&short); err != nil {
		return "", err
	}
	if err := enc.Encode(hidden); err != nil {
		return "", err
	}
	h.Write(texts)
	if cap(texts) <= 1<<20 { // a huge report's buffer is not kept
		*bp = texts[:0]
	}
	key := hex.EncodeToString(h.Sum(nil))
	c.keys.put(r, key)
	return key, nil
}

// textBuffers hold the texts key hashes, reused from report to report.
var textBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// writeAtomic writes data to a temporary file beside path and renames it
// into place.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
