package eval

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/internal/atomicfile"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/baseline"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
)

// FoldTrainerOptions configure FoldTrainer.
type FoldTrainerOptions struct {
	// Base is the configuration every fold's screener starts from: threat
	// model, rules, backend (or a simulated model), prompt and the rest.
	// Its rules are refitted on each fold; its evaluation cache, which
	// holds evaluations by the shipped weights, is not used.
	Base screener.Config
	// Train are the training options of the baseline model in force (the
	// built-in one, or the one named by --baseline-model), so that a fold's
	// model is trained like it. Its ThreatModel is Base's.
	Train baseline.TrainOptions
	// AsClassifier makes each fold's model answer as Base's classifier;
	// otherwise it votes beside it.
	AsClassifier bool
	// RulesOnly refits only the rules: no baseline is trained (the rules
	// backend).
	RulesOnly bool
	// CacheDir keeps the trained models (baseline.TrainCache) when it and
	// Fingerprint are set.
	CacheDir, Fingerprint string
	// RefitCacheDir keeps each fold's refitted rules' weights when it and
	// Fingerprint are set.
	RefitCacheDir string
	// EvalCacheDir keeps each fold's rules evaluations, under a key that
	// names Fingerprint, the fitted weights and the reports they were
	// fitted on, when it and Fingerprint are set.
	EvalCacheDir string
}

// FoldTrainer returns the Trainer of `eval --folds`. It cross-fits every
// voter that learns from the corpus, so that a held-out report meets only
// voters that never saw it, as a new report would: on each fold's training
// reports it refits the rules' weights and decisive records (rules.Fit with
// its defaults, as `rules fit` and go generate do) and trains the offline
// baseline classifier over the refitted rules, answering as the backend or
// voting beside the model.
//
// The rules' findings and facts do not depend on their weights, so each
// report is evaluated once for every fold's training; the held-out fold is
// screened afresh, with the fold's weights.
func FoldTrainer(o FoldTrainerOptions) Trainer {
	eng, tm := o.Base.Rules, o.Base.ThreatModel
	opt := o.Train
	opt.ThreatModel = tm
	base := o.Base
	base.EvalCache = nil
	// Training reads findings and facts only, which the weights do not
	// change: the evaluations by the shipped weights (cached when a cache
	// is on) serve every fold.
	evaluate := memoByReport(func(r *intake.Report) rules.Evaluation { return o.Base.EvalCache.Evaluate(r, eng) })
	models := &baseline.TrainCache{Dir: o.CacheDir, Fingerprint: o.Fingerprint}
	// Each report's parts are hashed once for every fold's key: hashing
	// them again for each fold was a tenth of a warm eval's training.
	digest := memoByReport(partsDigest)
	return func(ctx context.Context, train []corpus.LabeledReport) (*screener.Screener, error) {
		rex := make([]rules.Example, len(train))
		for i, lr := range train {
			rex[i] = rules.Example{ID: lr.Label.ID, Report: lr.Report, Category: lr.Label.Category}
		}
		fitOpt := rules.FitOptions{Seed: rules.DefaultSeed, Evaluate: evaluate}
		key := foldKey(o.Fingerprint, rex, digest)
		feng, err := refitCached(ctx, eng, rex, fitOpt, o.RefitCacheDir, o.Fingerprint, key)
		if err != nil {
			return nil, err
		}
		cfg := base
		cfg.Rules = feng
		if o.EvalCacheDir != "" && o.Fingerprint != "" {
			cfg.EvalCache = screener.NewEvalCache(o.EvalCacheDir, key)
		}
		if o.RulesOnly {
			return screener.New(cfg)
		}
		ex := make([]baseline.Example, len(train))
		for i, lr := range train {
			ex[i] = baseline.Example{Report: lr.Report, Label: lr.Label.Label}
		}
		opt := opt
		opt.Evaluate = evaluate
		load, id, err := models.TrainLazily(ex, feng, opt)
		if err != nil {
			return nil, err
		}
		if o.AsClassifier {
			m, err := load()
			if err != nil {
				return nil, err
			}
			cfg.Classifier = baseline.NewClassifier(m, feng)
		} else {
			// Its votes are kept with the fold's rules evaluations, by
			// the fold model's cache key: with them all there, the
			// model is not even read.
			cfg.Voter = cfg.EvalCache.Voter(baseline.LazyVoter(load, tm, feng), id)
		}
		return screener.New(cfg)
	}
}

// refitCached is eng.Refit on examples, or the engine with the weights the
// same refit produced in an earlier run, kept in dir under key (which must
// name the rules in force, the examples and their order): refitting the
// rules was nine tenths of a warm `eval --folds` re-run's CPU. With an
// empty dir or fingerprint nothing is kept; a refit that cannot be kept is
// still returned.
//
// The weights are kept in a binary encoding of their own (refitCacheFormat,
// encodeWeights): decoding a fold's weights from JSON took ~2.6 ms, from
// gob ~0.95, and the first fold's screening waits for its refit.
func refitCached(ctx context.Context, eng *rules.Engine, examples []rules.Example, opt rules.FitOptions, dir, fingerprint, key string) (*rules.Engine, error) {
	if dir == "" || fingerprint == "" {
		feng, _, err := eng.Refit(ctx, examples, opt)
		return feng, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", refitCacheFormat, key)
	if err := json.NewEncoder(h).Encode(opt); err != nil {
		return nil, fmt.Errorf("refit cache key: %w", err)
	}
	path := filepath.Join(dir, hex.EncodeToString(h.Sum(nil))+".weights")
	var w rules.Weights
	if atomicfile.Use(path, func(data []byte) error { return decodeWeights(data, &w) }) == nil {
		if feng, err := eng.WithWeights(&w); err == nil {
			return feng, nil
		}
	}
	feng, fit, err := eng.Refit(ctx, examples, opt)
	if err != nil {
		return nil, err
	}
	if os.MkdirAll(dir, 0o700) == nil {
		_ = atomicfile.WriteFile(path, encodeWeights(fit.Weights), 0o600) // a refit not kept is done again next time
	}
	return feng, nil
}

// refitCacheFormat versions the refit entries' key and encoding: v1 kept
// the weights as JSON in .json files, v2 as gob in .gob files, v3 in
// encodeWeights' encoding in .weights files. A new version is a new key,
// so an entry of another version is never read (and one that is, by its
// path, does not decode: decodeWeights checks its version).
const refitCacheFormat = "secscreen-refit/v3"

// foldKeyFormat versions foldKey. v1 (no version in the key) named the
// examples by rules.CorpusFingerprint and their ids' order, hashing every
// report's parts again for every fold.
const foldKeyFormat = "fold/v2"

// foldKey names a fold's training for the refit and evaluation caches: the
// rules in force (fingerprint) and the examples in their order (the fit
// depends on both), each by its id, its category and its parts' digest
// (partsDigest, the parts rules.CorpusFingerprint reads).
func foldKey(fingerprint string, examples []rules.Example, digest func(*intake.Report) [sha256.Size]byte) string {
	h := sha256.New()
	var b []byte
	for _, x := range examples {
		d := digest(x.Report)
		b = appendFramed(appendFramed(b[:0], x.ID), x.Category)
		h.Write(append(b, d[:]...))
	}
	return fmt.Sprintf("%s\x00%s %x", fingerprint, foldKeyFormat, h.Sum(nil))
}

// partsDigest is the SHA-256 of r's parts (Report.Parts), each name and
// text after its length.
func partsDigest(r *intake.Report) [sha256.Size]byte {
	h := sha256.New()
	var b []byte
	for _, p := range r.Parts() {
		b = appendFramed(b[:0], p.Name)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(p.Text)))
		h.Write(b)
		io.WriteString(h, p.Text)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// appendFramed appends s after its length.
func appendFramed(b []byte, s string) []byte {
	return append(binary.LittleEndian.AppendUint64(b, uint64(len(s))), s...)
}

// memoByReport returns f's result for a report, computed once per report
// (by identity) and shared by every fold: the folds share their reports.
// It is safe for concurrent use (two goroutines may compute the same
// report's result at once; f gives both the same).
func memoByReport[T any](f func(*intake.Report) T) func(*intake.Report) T {
	var mu sync.Mutex
	memo := map[*intake.Report]T{}
	return func(r *intake.Report) T {
		mu.Lock()
		v, ok := memo[r]
		mu.Unlock()
		if ok {
			return v
		}
		v = f(r)
		mu.Lock()
		memo[r] = v
		mu.Unlock()
		return v
	}
}

// TrainedOnError says a baseline model was trained on reports it was about
// to be scored on, which would measure its memory, not its skill.
type TrainedOnError struct {
	// Overlap is how many of the Screened reports the model was trained on.
	Overlap, Screened int
	// Dir is the corpus.
	Dir string
}

// Error says how many reports overlap.
func (e *TrainedOnError) Error() string {
	return fmt.Sprintf("was trained on %d of the %d reports screened from %s (same content), so scoring it there measures memory, not skill",
		e.Overlap, e.Screened, e.Dir)
}

// CheckNotTrainedOn refuses to score the baseline model m on the reports of
// crp it was trained on, whether it answers as the backend or votes beside
// a model: it returns a *TrainedOnError when any report of crp (matched by
// content, baseline.ReportHash: the normalised body) is in m's training
// set. The built-in model was trained on the dev split of the bundled
// corpus, so its test split passes.
func CheckNotTrainedOn(ctx context.Context, crp *corpus.Corpus, in intake.Options, m *baseline.Model) error {
	reports, err := crp.ReadReports(ctx, in)
	if err != nil {
		return err
	}
	return checkNotTrainedOn(crp, reports, m)
}

// checkNotTrainedOn is CheckNotTrainedOn on the reports of crp already
// read.
func checkNotTrainedOn(crp *corpus.Corpus, reports []corpus.LabeledReport, m *baseline.Model) error {
	var hashes []string
	for _, lr := range reports {
		if lr.Err == nil {
			hashes = append(hashes, baseline.ReportHash(lr.Report))
		}
	}
	if n := m.Overlap(hashes); n > 0 {
		return &TrainedOnError{Overlap: n, Screened: len(hashes), Dir: crp.Dir}
	}
	return nil
}

// CheckFolds says whether k folds can be made of n labeled reports; Folds
// and CrossValidate fail the same way. It lets a caller refuse a bad
// --folds before any work.
func CheckFolds(k, n int) error {
	if k < 2 {
		return fmt.Errorf("folds: need at least 2 folds, got %d", k)
	}
	if k > n {
		return fmt.Errorf("folds: %d folds for %d labels; every fold needs a report", k, n)
	}
	return nil
}
