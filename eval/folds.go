package eval

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Folds splits labels into k folds stratified by verdict: the labels of each
// verdict are shuffled with a PCG generator seeded by seed and dealt to the
// folds in turn, continuing where the previous verdict stopped, so every
// fold gets its share of each verdict and the folds differ in size by at
// most one. It returns the label indexes of each fold, each fold in corpus
// order. The same labels, k and seed always give the same folds.
func Folds(labels []corpus.Label, k int, seed uint64) ([][]int, error) {
	if err := CheckFolds(k, len(labels)); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc908))
	byVerdict := map[threatmodel.Verdict][]int{}
	var order []threatmodel.Verdict
	for i, l := range labels {
		v := l.Verdict
		if _, ok := byVerdict[v]; !ok {
			order = append(order, v)
		}
		byVerdict[v] = append(byVerdict[v], i)
	}
	slices.Sort(order)
	folds := make([][]int, k)
	next := 0
	for _, v := range order {
		idx := byVerdict[v]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx {
			folds[next] = append(folds[next], i)
			next = (next + 1) % k
		}
	}
	for _, f := range folds {
		slices.Sort(f)
	}
	return folds, nil
}

// Trainer builds the screener for one fold from the reports it may learn
// from (every readable report outside the fold).
type Trainer func(ctx context.Context, train []corpus.LabeledReport) (*screener.Screener, error)

// CrossValidate evaluates a trainable predictor by k-fold cross-validation:
// for each fold of Folds(c.Labels, k, opt.Seed) it trains a screener on the
// other folds with train, screens the held-out fold, and finally scores all
// held-out rows together. Each row records its fold. No report is ever
// screened by a screener trained on it.
//
// The folds are trained one after another in the background while the
// held-out folds are screened in order: training is CPU work and screening
// with a model mostly waits on it, so the next fold's screener is ready
// when the current fold is done instead of being trained only then. train
// must be safe to call from another goroutine than CrossValidate's; it is
// never called twice at once.
func CrossValidate(ctx context.Context, c *corpus.Corpus, k int, train Trainer, opt Options) (*Run, error) {
	opt = opt.withDefaults()
	start := opt.Now()
	return crossValidate(ctx, c, k, train, opt, start, func() ([]corpus.LabeledReport, error) {
		return c.ReadReports(ctx, opt.Intake)
	})
}

// crossValidate is CrossValidate for a run started at start, with opt's
// defaults set, on the reports read returns (c's, read with opt.Intake).
func crossValidate(ctx context.Context, c *corpus.Corpus, k int, train Trainer, opt Options, start time.Time, read func() ([]corpus.LabeledReport, error)) (*Run, error) {
	folds, err := Folds(c.Labels, k, opt.Seed)
	if err != nil {
		return nil, err
	}
	reports, err := read()
	if err != nil {
		return nil, err
	}
	rows := make([]Row, len(reports))
	meta := Meta{Corpus: c.Dir, Split: opt.Split, Repeat: opt.Repeat, Folds: k}
	trainSets := make([][]corpus.LabeledReport, len(folds))
	testSets := make([][]corpus.LabeledReport, len(folds))
	for f, held := range folds {
		out := make(map[int]bool, len(held))
		for _, i := range held {
			out[i] = true
		}
		for i, lr := range reports {
			switch {
			case out[i]:
				testSets[f] = append(testSets[f], lr)
			case lr.Err == nil:
				trainSets[f] = append(trainSets[f], lr)
			}
		}
	}

	type trained struct {
		s   *screener.Screener
		err error
	}
	tctx, stop := context.WithCancel(ctx)
	defer stop() // a failed fold stops the training of the next ones
	ready := make([]chan trained, len(folds))
	for f := range ready {
		ready[f] = make(chan trained, 1)
	}
	go func() {
		for f := range folds {
			if err := tctx.Err(); err != nil {
				ready[f] <- trained{err: err}
				continue
			}
			s, err := train(tctx, trainSets[f])
			ready[f] <- trained{s, err}
		}
	}()

	for f, held := range folds {
		var t trained
		select {
		case t = <-ready[f]:
		case <-ctx.Done():
			return nil, fmt.Errorf("fold %d of %d: %w", f+1, k, ctx.Err())
		}
		if t.err != nil {
			return nil, fmt.Errorf("fold %d of %d: train: %w", f+1, k, t.err)
		}
		if t.s == nil {
			return nil, errors.New("fold trainer returned no screener")
		}
		meta.Backend = t.s.BackendName()
		got, err := screenAll(ctx, t.s, testSets[f], opt.Repeat)
		if err != nil {
			return nil, fmt.Errorf("fold %d of %d: %w", f+1, k, err)
		}
		for j, i := range held {
			rows[i] = got[j]
			rows[i].Fold = f + 1
		}
	}
	return score(rows, meta, opt, start), nil
}

// readAhead starts reading c's reports with in on another goroutine and
// returns the function that waits for them (ReadReports' answer; it may be
// called more than once).
func readAhead(ctx context.Context, c *corpus.Corpus, in intake.Options) func() ([]corpus.LabeledReport, error) {
	var reports []corpus.LabeledReport
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		reports, err = c.ReadReports(ctx, in)
	}()
	return func() ([]corpus.LabeledReport, error) {
		<-done
		return reports, err
	}
}
