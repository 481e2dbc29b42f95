package rules

import (
	"context"
	"fmt"
)

// Refit returns an engine with e's rules, series and options whose fitted
// weights (and decisive rules) are learned by Fit from examples alone, and
// the fit's result. The weights e carries are dropped, so nothing they
// learned from other reports reaches the new engine: `eval --folds` refits
// the rules on each fold's training reports and screens the held-out fold
// with the result, so that the rules' opinion of a held-out report is as
// out-of-sample as it will be on a new one. The weights record the number
// and the fingerprint (CorpusFingerprint) of the examples they were fitted
// on.
func (e *Engine) Refit(ctx context.Context, examples []Example, opt FitOptions) (*Engine, *FitResult, error) {
	res, err := Fit(ctx, e, examples, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("refit the rules' weights: %w", err)
	}
	res.Weights.Corpus = &CorpusInfo{Reports: len(examples), Fingerprint: CorpusFingerprint(examples)}
	ne, err := e.WithWeights(res.Weights)
	if err != nil {
		return nil, nil, fmt.Errorf("refit the rules' weights: %w", err)
	}
	return ne, res, nil
}

// WithWeights returns an engine with e's rules, series and options and w
// in place of the weights e carries: a refit kept from an earlier run
// (eval --folds caches each fold's Refit by what it was fitted on) builds
// the same engine Refit did.
func (e *Engine) WithWeights(w *Weights) (*Engine, error) {
	set := e.pack.WithoutWeights()
	set.Weights = w
	return NewEngine(e.tm, set, e.opt)
}
