package baseline

import (
	"context"
	"fmt"
	"sync"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Voter returns the offline classifier as the third voter beside a model
// and the rules, or nil when m was trained for another threat model than
// tm (its categories would not be tm's).
func Voter(m *Model, tm *threatmodel.Model, eng *rules.Engine) screener.Classifier {
	if m.ThreatModel != tm.Name {
		return nil
	}
	return NewClassifier(m, eng)
}

// LazyVoter is Voter for a model read on first use (TrainCache.TrainLazily),
// for a voter whose opinions are mostly found in a cache
// (screener.EvalCache.Voter): the model is loaded when a vote or its
// description is first needed. Since Voter's check of the threat model
// waits until then, a model trained for another threat model than tm
// makes every vote fail (a failed vote counts for nothing), as does a
// model that cannot be loaded.
func LazyVoter(load func() (*Model, error), tm *threatmodel.Model, eng *rules.Engine) screener.Classifier {
	return &lazyVoter{get: sync.OnceValues(func() (*Classifier, error) {
		m, err := load()
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		if m.ThreatModel != tm.Name {
			return nil, fmt.Errorf("baseline: model %s was trained for threat model %q, not %q", m.Name(), m.ThreatModel, tm.Name)
		}
		return NewClassifier(m, eng), nil
	})}
}

type lazyVoter struct {
	get func() (*Classifier, error)
}

func (v *lazyVoter) Describe() screener.Description {
	c, err := v.get()
	if err != nil {
		return screener.Description{Name: Name}
	}
	return c.Describe()
}

func (v *lazyVoter) Classify(ctx context.Context, r *intake.Report, ev *rules.Evaluation) (screener.Classification, error) {
	c, err := v.get()
	if err != nil {
		return screener.Classification{Usage: backend.Usage{Backend: Name, Attempts: 1}}, err
	}
	return c.Classify(ctx, r, ev)
}
