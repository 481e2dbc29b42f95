package backend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrTimeout marks a call that got no answer within its per-attempt
// timeout while the caller's context was still alive. WithRetry retries it.
var ErrTimeout = errors.New("no reply in time")

// ErrBadReply marks a reply that arrived but could not be read as the
// protocol's JSON: an HTML error page, a proxy's banner, a wrong base URL.
// It is not retried: the same server will most likely say the same thing.
var ErrBadReply = errors.New("server reply is not valid protocol JSON")

// ErrCacheMiss is wrapped by the error WithCache returns in offline mode
// when a request has no cached reply.
var ErrCacheMiss = errors.New("no cached reply")

// maxErrorBody bounds how much of a server's error body an HTTPError keeps.
const maxErrorBody = 512

// HTTPError is a non-2xx answer from a model server.
//
// Body is the start of the server's error text, whitespace-collapsed and
// with every secret the backend knows about replaced by "[REDACTED]", so
// the error can be logged as is.
type HTTPError struct {
	// Status is the HTTP status code.
	Status int
	// RetryAfter is the wait the server asked for with a Retry-After
	// header (0 when absent or unparsable).
	RetryAfter time.Duration
	// Body is the trimmed, redacted error text.
	Body string
}

// Error reads as one line: "HTTP 429 Too Many Requests: slow down".
func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Retryable reports whether repeating the request may succeed: 408, 429 and
// every 5xx are transient; other 4xx mean the request itself is wrong.
func (e *HTTPError) Retryable() bool {
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// NewHTTPError builds an HTTPError from a response's status, headers and
// body. Each non-empty secret is removed from the body before it is kept.
func NewHTTPError(status int, header http.Header, body []byte, secrets ...string) *HTTPError {
	return &HTTPError{
		Status:     status,
		RetryAfter: ParseRetryAfter(header.Get("Retry-After"), time.Now()),
		Body:       TrimBody(string(body), secrets...),
	}
}

// TrimBody prepares untrusted server text for an error message: secrets
// redacted, whitespace runs collapsed to one space, and at most a few hundred
// bytes kept (cut on a rune boundary, marked with "…").
func TrimBody(s string, secrets ...string) string {
	s = Redact(s, secrets...)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxErrorBody {
		cut := maxErrorBody
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// Redact replaces each non-empty secret in s with "[REDACTED]".
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

// ParseRetryAfter reads a Retry-After header value, which is either a number
// of seconds ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"),
// relative to now. It returns 0 for an empty, malformed or past value.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs > 24*3600 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// transientError marks its cause as worth retrying.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// Transient marks err as a passing failure that WithRetry should retry,
// such as a reply cut off mid-body. A nil err stays nil.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err: err}
}

// IsRetryable reports whether err describes a failure that a later attempt
// may not meet: HTTP 408/429/5xx, a per-attempt timeout, a dropped or
// refused connection, a body cut short, or anything marked Transient.
// Cancellation of the caller's context is never retryable.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Retryable()
	}
	var te *transientError
	if errors.As(err, &te) {
		return true
	}
	if errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// IsAuthError reports whether err is the server refusing the credentials
// (HTTP 401 or 403). Every later call of the run would be refused the same
// way, so callers stop asking instead of repeating it for every report.
func IsAuthError(err error) bool {
	var he *HTTPError
	return errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden)
}
