package backend

// Layers chooses the shared behaviour Wrap puts around a backend.
type Layers struct {
	// Retry is the retry policy; its zero value means the defaults.
	Retry RetryPolicy
	// RPS and Burst configure WithRateLimit; RPS <= 0 means no limit.
	RPS   float64
	Burst int
	// Cache, if non-nil, adds WithCache.
	Cache *Cache
}

// Wrap puts the shared layers around b in the one order that is right:
//
//	cache → retry → rate limit → b
//
// A cache hit costs no rate budget and no retry; every retry waits for
// the rate limiter like a first attempt does.
func Wrap(b Backend, l Layers) Backend {
	b = WithRateLimit(b, l.RPS, l.Burst)
	b = WithRetry(b, l.Retry)
	if l.Cache != nil {
		b = WithCache(b, *l.Cache)
	}
	return b
}
