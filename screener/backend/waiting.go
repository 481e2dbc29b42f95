package backend

import "context"

// waitingKey is the context key of WithWaiting's functions.
type waitingKey struct{}

// announcements are the functions WithWaiting puts in a context.
type announcements struct{ waiting, sending func() }

// WithWaiting returns ctx carrying waiting, for a caller that runs CPU
// work of its own beside its model calls and wants that work to give way
// to a call until the call has left: a call made with the returned
// context calls waiting once it needs no more of the CPU before its
// reply, because its request has been written to the server (the HTTP
// backends, through their transport) or because it waits for the rate
// limiter (WithRateLimit). waiting may be called more than once (a retry
// writes its request again, a repair is a second call) and from another
// goroutine than the call's; a call that returns without either (a cache
// hit, an error before sending) does not call it. The reply cache
// (WithCache) calls waiting before it looks a reply up (local work, no
// more urgent than the caller's), and sending, when not nil, on a miss,
// before the call goes on to the server: from then on the call goes first
// again, until it calls waiting once more.
func WithWaiting(ctx context.Context, waiting, sending func()) context.Context {
	return context.WithValue(ctx, waitingKey{}, announcements{waiting: waiting, sending: sending})
}

// Waiting calls the waiting function that ctx carries from WithWaiting,
// if any: a backend calls it once its request has left, or before it
// waits for something other than the CPU.
func Waiting(ctx context.Context) {
	if a, ok := ctx.Value(waitingKey{}).(announcements); ok && a.waiting != nil {
		a.waiting()
	}
}

// Sending calls the sending function that ctx carries from WithWaiting,
// if any: a layer calls it when a call that said Waiting goes on to the
// server after all (a cache miss).
func Sending(ctx context.Context) {
	if a, ok := ctx.Value(waitingKey{}).(announcements); ok && a.sending != nil {
		a.sending()
	}
}

// Announcer is implemented by a backend that calls Waiting for every
// request it writes (the HTTP backends), so that a caller may hold its own
// work back from the moment it starts a call until then: a backend that
// does not announce it would hold that work back for the whole call.
type Announcer interface {
	// AnnouncesSending reports whether the backend calls Waiting once
	// each request has left.
	AnnouncesSending() bool
}

// AnnouncesSending reports whether b calls Waiting once each request has
// left (see Announcer); the retry, rate-limit and cache layers of Wrap
// pass it through.
func AnnouncesSending(b Backend) bool {
	a, ok := b.(Announcer)
	return ok && a.AnnouncesSending()
}

func (r *retrying) AnnouncesSending() bool { return AnnouncesSending(r.Backend) }
func (l *limited) AnnouncesSending() bool  { return AnnouncesSending(l.Backend) }
func (cb *caching) AnnouncesSending() bool { return AnnouncesSending(cb.Backend) }

// LooksUpFirst reports whether b looks each reply up before it calls the
// server (a reply cache, WithCache, outermost): it calls Waiting before
// the lookup and Sending on a miss (see WithWaiting).
func LooksUpFirst(b Backend) bool {
	_, ok := b.(*caching)
	return ok
}

// HasWaiting reports whether ctx carries a function from WithWaiting.
func HasWaiting(ctx context.Context) bool {
	_, ok := ctx.Value(waitingKey{}).(announcements)
	return ok
}
