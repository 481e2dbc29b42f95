package eval

import (
	"context"
	"fmt"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend/baseline"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
)

// FoldTrainerOptions configure FoldTrainer.
type FoldTrainerOptions struct {
	// Base is the configuration every fold's screener starts from: threat
	// model, rules, backend (or a simulated model), prompt and the rest.
	Base screener.Config
	// Train are the training options of the baseline model in force (the
	// built-in one, or the one named by --baseline-model), so that a fold's
	// model is trained like it. Its ThreatModel is Base's.
	Train baseline.TrainOptions
	// AsBackend makes each fold's model answer as the backend; otherwise it
	// votes beside Base's backend.
	AsBackend bool
	// CacheDir keeps the trained models (baseline.TrainCached) when it and
	// Fingerprint are set.
	CacheDir, Fingerprint string
}

// FoldTrainer returns the Trainer of `eval --folds`: the offline baseline
// classifier trained afresh on each fold's training reports, with the same
// threat model and rules as the rest of the pipeline, answering as the
// backend or voting beside the model.
func FoldTrainer(o FoldTrainerOptions) Trainer {
	eng, tm := o.Base.Rules, o.Base.ThreatModel
	opt := o.Train
	opt.ThreatModel = tm
	return func(ctx context.Context, train []corpus.LabeledReport) (*screener.Screener, error) {
		ex := make([]baseline.Example, len(train))
		for i, lr := range train {
			ex[i] = baseline.Example{Report: lr.Report, Verdict: lr.Label.Verdict, Category: lr.Label.Category}
		}
		opt := opt
		opt.Evaluate = func(r *intake.Report) rules.Evaluation { return o.Base.EvalCache.Evaluate(r, eng) }
		m, err := baseline.TrainCached(ex, eng, opt, o.CacheDir, o.Fingerprint)
		if err != nil {
			return nil, err
		}
		cfg := o.Base
		if o.AsBackend {
			cfg.Backend = baseline.NewBackend(m, eng)
		} else {
			cfg.Voter = baseline.Voter(m, tm, eng)
		}
		return screener.New(cfg)
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
