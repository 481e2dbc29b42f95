package backend

import (
	"context"
	"fmt"

	"golang.org/x/time/rate"
)

// WithRateLimit wraps b so that calls start at most rps times per second on
// average, with bursts of up to burst calls. All goroutines sharing the
// returned Backend share the budget. rps <= 0 disables the limit and returns
// b itself; burst < 1 counts as 1.
//
// Place it inside WithRetry (WithRetry(WithRateLimit(b, ...), p)) so that
// retries spend the budget too.
func WithRateLimit(b Backend, rps float64, burst int) Backend {
	if rps <= 0 {
		return b
	}
	return &limited{Backend: b, lim: rate.NewLimiter(rate.Limit(rps), max(burst, 1))}
}

type limited struct {
	Backend
	lim *rate.Limiter
}

func (l *limited) Complete(ctx context.Context, req Request) (Reply, error) {
	if l.lim.Tokens() < 1 {
		Waiting(ctx) // it waits for the budget, not for the CPU
	}
	if err := l.lim.Wait(ctx); err != nil {
		return Reply{}, fmt.Errorf("waiting for the rate limit: %w", err)
	}
	return l.Backend.Complete(ctx, req)
}
