package baseline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
)

// TrainCache keeps trained models in a directory, so that training the same
// model twice (a warm-cache `eval --folds` re-run: training takes about 3 s
// of CPU per fold of the bundled corpus) loads it instead. A model is found
// by fingerprint (what the rules' evaluations depend on: the binary, the
// rule, series and threat model files), the training options and every
// training report with its label, so any change trains afresh. Models are
// kept in their binary form (Model.MarshalBinary), read ten times faster
// than their JSON. The zero value, or one with an empty Dir or Fingerprint,
// trains without keeping anything. It is safe for concurrent use.
type TrainCache struct {
	// Dir holds the models.
	Dir string
	// Fingerprint names the rules in force.
	Fingerprint string

	// digests memoises each report's hash: every report trains all folds
	// but its own, and encoding it for each was a warm run's CPU.
	mu      sync.Mutex
	digests map[*intake.Report][sha256.Size]byte
}

// digest is the SHA-256 of r as intake decoded it, hidden parts included.
func (c *TrainCache) digest(r *intake.Report) ([sha256.Size]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.digests[r]; ok {
		return d, nil
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	if err := errors.Join(enc.Encode(r), enc.Encode(r.Hidden)); err != nil {
		return [sha256.Size]byte{}, err
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	if c.digests == nil {
		c.digests = map[*intake.Report][sha256.Size]byte{}
	}
	c.digests[r] = d
	return d, nil
}

// Train trains a model as the package's Train does, or loads the one
// trained on the same examples before. id is the model's cache key, which
// names everything the model was made from ("" when nothing is kept), for
// caches of what the model computes (screener.EvalCache.Voter). A model
// that cannot be stored is still returned.
func (c *TrainCache) Train(ex []Example, eng *rules.Engine, opt TrainOptions) (m *Model, id string, err error) {
	load, id, err := c.TrainLazily(ex, eng, opt)
	if err != nil {
		return nil, "", err
	}
	m, err = load()
	return m, id, err
}

// TrainLazily is Train, except that a model the cache holds is read only
// when load is first called: a warm `eval --folds` whose votes are all in
// the screener's cache (screener.EvalCache.Voter) needs no fold model, and
// decoding the five was a third of its CPU. A model the cache lacks is
// trained (and stored) now. load is safe for concurrent use and returns
// the same model every time; a cached model that no longer decodes is
// trained again then.
func (c *TrainCache) TrainLazily(ex []Example, eng *rules.Engine, opt TrainOptions) (load func() (*Model, error), id string, err error) {
	trained := func() (func() (*Model, error), string, error) {
		m, err := Train(ex, eng, opt)
		if err != nil {
			return nil, "", err
		}
		return func() (*Model, error) { return m, nil }, "", nil
	}
	if c == nil || c.Dir == "" || c.Fingerprint == "" {
		return trained()
	}
	h := sha256.New()
	fmt.Fprintf(h, "secscreen-fold-model/v2\x00%s\x00", c.Fingerprint)
	if err := json.NewEncoder(h).Encode(opt); err != nil {
		return trained()
	}
	for _, e := range ex {
		d, err := c.digest(e.Report)
		if err != nil {
			return trained()
		}
		fmt.Fprintf(h, "%x\x00%s\x00%s\x00", d, e.Verdict, e.Category)
	}
	id = hex.EncodeToString(h.Sum(nil))
	path := filepath.Join(c.Dir, id+".bin")
	if _, err := os.Stat(path); err == nil {
		return sync.OnceValues(func() (*Model, error) {
			if data, err := os.ReadFile(path); err == nil {
				var loaded Model
				if loaded.UnmarshalBinary(data) == nil {
					return &loaded, nil
				}
			}
			return c.trainAndStore(ex, eng, opt, path)
		}), id, nil
	}
	m, err := c.trainAndStore(ex, eng, opt, path)
	if err != nil {
		return nil, "", err
	}
	return func() (*Model, error) { return m, nil }, id, nil
}

// trainAndStore trains a model and keeps it at path; a model that cannot
// be kept is still returned.
func (c *TrainCache) trainAndStore(ex []Example, eng *rules.Engine, opt TrainOptions, path string) (*Model, error) {
	m, err := Train(ex, eng, opt)
	if err != nil {
		return nil, err
	}
	data, err := m.MarshalBinary()
	if err == nil && os.MkdirAll(c.Dir, 0o700) == nil {
		if f, err := os.CreateTemp(c.Dir, ".tmp-*"); err == nil {
			_, werr := f.Write(data)
			if errors.Join(werr, f.Close()) != nil || os.Rename(f.Name(), path) != nil {
				os.Remove(f.Name()) // a model not kept is trained again next time
			}
		}
	}
	return m, nil
}
