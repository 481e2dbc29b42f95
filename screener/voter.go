package screener

import (
	"context"
	"errors"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// A Voter is a cheap offline classifier that votes beside the rules and the
// model: secscreen's is the baseline. It gives the policy a third opinion,
// so that the rules and the baseline together can catch a wrong model.
type Voter interface {
	// Name names the voter, e.g. "baseline".
	Name() string
	// Vote classifies r; ev is the rules' evaluation of r, which the voter
	// may use as features instead of running the rules again.
	Vote(ctx context.Context, r *intake.Report, ev *rules.Evaluation) (Opinion, error)
}

// BackendVoter makes a Voter of a backend that classifies Request.Report
// itself instead of reading the rendered messages, such as the offline
// baseline (baseline.NewBackend). Its reply is validated against tm like a
// model's; a reply that does not validate is an error.
func BackendVoter(b backend.Backend, tm *threatmodel.Model) Voter {
	return &backendVoter{b: b, tm: tm}
}

type backendVoter struct {
	b  backend.Backend
	tm *threatmodel.Model
}

func (v *backendVoter) Name() string { return v.b.Name() }

func (v *backendVoter) Vote(ctx context.Context, r *intake.Report, ev *rules.Evaluation) (Opinion, error) {
	if r == nil {
		return Opinion{}, errors.New("vote: no report")
	}
	reply, err := v.b.Complete(ctx, backend.Request{ReportID: r.ID, Report: r, Rules: ev})
	if err != nil {
		return Opinion{}, err
	}
	a, err := prompts.ParseAnswer(reply.Content, v.tm)
	if err != nil {
		return Opinion{}, err
	}
	return Opinion{Verdict: a.Verdict, Category: a.Category, Confidence: a.Confidence}, nil
}
