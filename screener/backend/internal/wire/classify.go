package wire

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/secscreen/secscreen/screener/backend"
)

// Call names one backend's calls for Classify: who was asked, and how
// the failures that differ between client libraries read.
type Call struct {
	// Backend and Model start every error message, e.g. "openai: gpt-4o".
	Backend, Model string
	// Timeout is the per-attempt bound, quoted in timeout errors.
	Timeout time.Duration
	// Secrets are redacted from every error body (the API key).
	Secrets []string
	// Undecodable describes a response that arrived but that the client
	// library could not decode; err is the library's error. It decides
	// whether the failure is transient (backend.Transient).
	Undecodable func(err error) error
	// Unreachable describes a call that got no response at all (the
	// connection failed); err is the library's error, which it should
	// wrap so that backend.IsRetryable sees the cause.
	Unreachable func(err error) error
}

// Classify turns the error of a failed call into one that says what
// happened in one line, never holds a secret, and that
// backend.IsRetryable and backend.IsAuthError judge correctly: the
// caller's cancellation, the attempt's timeout (backend.ErrTimeout), an
// HTTP error status (*backend.HTTPError, with Retry-After), an
// undecodable reply, or no reply. ctx is the caller's context, actx the
// attempt's, and ex the attempt's Exchange.
func (c Call) Classify(ctx, actx context.Context, ex *Exchange, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %s: %w", c.Backend, c.Model, ctx.Err())
	case errors.Is(actx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s: %s: %w within %s", c.Backend, c.Model, backend.ErrTimeout, c.Timeout)
	case ex.Status >= 400:
		return fmt.Errorf("%s: %s: %w", c.Backend, c.Model, backend.NewHTTPError(ex.Status, ex.Header, ex.Body, c.Secrets...))
	case ex.Status != 0:
		return c.Undecodable(err)
	}
	return c.Unreachable(err)
}
