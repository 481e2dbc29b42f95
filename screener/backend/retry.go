package backend

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryPolicy says how WithRetry repeats failed calls. The zero value is
// usable: every zero field takes the default named in its comment.
type RetryPolicy struct {
	// MaxAttempts bounds the calls made, the first included (default 4).
	MaxAttempts int
	// BaseDelay is the backoff before the first retry; it doubles after
	// each failure (default 500ms).
	BaseDelay time.Duration
	// MaxDelay caps the computed backoff (default 20s).
	MaxDelay time.Duration
	// MaxRetryAfter caps the wait a server may ask for with Retry-After.
	// A longer request ends the retries at once with the server's error,
	// rather than stalling a batch for an hour (default 2m).
	MaxRetryAfter time.Duration
	// Sleep waits d or until ctx ends, returning ctx.Err() in the latter
	// case. Tests inject a recorder here (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0,1) that spreads out the backoff of
	// concurrent callers (default math/rand/v2.Float64).
	Jitter func() float64
	// OnRetry, if set, is told about every retry before its sleep, e.g. to
	// log it. attempt is the number of the attempt that failed.
	OnRetry func(attempt int, delay time.Duration, err error)
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 20 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 2 * time.Minute
	}
	if p.Sleep == nil {
		p.Sleep = SleepContext
	}
	if p.Jitter == nil {
		p.Jitter = rand.Float64
	}
	return p
}

// SleepContext waits d, or less if ctx ends first, in which case it
// returns ctx.Err().
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff returns the wait before retry number n (1 for the first retry):
// BaseDelay·2^(n-1) capped at MaxDelay, then "equal jitter" keeps a random
// point in its upper half so that workers which failed together do not
// retry together.
func (p RetryPolicy) Backoff(n int) time.Duration {
	p = p.withDefaults()
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	return half + time.Duration(p.Jitter()*float64(d-half))
}

// WithRetry wraps b so that retryable failures (see IsRetryable) are tried
// again with exponential backoff, up to p.MaxAttempts calls in all. A
// server's Retry-After is honoured when it asks for more than the backoff.
// Sleeps end early when ctx does. The returned Usage counts all attempts
// and their total latency, sleeps included.
func WithRetry(b Backend, p RetryPolicy) Backend {
	return &retrying{Backend: b, p: p.withDefaults()}
}

type retrying struct {
	Backend
	p RetryPolicy
}

func (r *retrying) Complete(ctx context.Context, req Request) (Reply, error) {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		rep, err := r.Backend.Complete(ctx, req)
		if err == nil {
			// Failed attempts count one each; the last counts what the
			// backend reports (e.g. resends after a format fallback).
			rep.Usage.Attempts = attempt - 1 + max(rep.Usage.Attempts, 1)
			rep.Usage.Latency = time.Since(start)
			return rep, nil
		}
		if ctx.Err() != nil {
			return Reply{}, err
		}
		if !IsRetryable(err) {
			return Reply{}, err
		}
		if attempt >= r.p.MaxAttempts {
			return Reply{}, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		delay := r.p.Backoff(attempt)
		var he *HTTPError
		if errors.As(err, &he) && he.RetryAfter > 0 {
			if he.RetryAfter > r.p.MaxRetryAfter {
				return Reply{}, fmt.Errorf("server asked to wait %s, more than the %s limit: %w",
					he.RetryAfter, r.p.MaxRetryAfter, err)
			}
			delay = max(delay, he.RetryAfter)
		}
		if r.p.OnRetry != nil {
			r.p.OnRetry(attempt, delay, err)
		}
		if serr := r.p.Sleep(ctx, delay); serr != nil {
			return Reply{}, fmt.Errorf("waiting to retry after %w: %w", err, serr)
		}
	}
}
