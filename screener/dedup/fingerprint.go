// Package dedup finds reports that duplicate earlier ones: the same text
// (exact duplicates), nearly the same text (near-duplicates, by MinHash
// over the de-quoted, normalised text with an LSH index), and reports of
// the same bug in other words (same-bug signals: a crash signature, a
// syzbot-style title, a CVE id, a cited commit, a cited function in its
// file).
//
// A Fingerprint holds all of it for one report; its Keys index it, so that
// a lookup only compares the reports that share a key: an LSH band, a
// signal, or the content hash. Tracker applies this to a screening run
// (screener.Duplicates): within the run and, through a Past such as the
// history store, against every report screened before.
package dedup

import (
	"cmp"
	"math"
	"slices"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Fingerprint is what duplicate detection knows of one report.
type Fingerprint struct {
	// Hash is the report's ContentHash.
	Hash string `json:"hash"`
	// Sig is the MinHash signature of its normalised, de-quoted text.
	Sig Signature `json:"-"`
	// Signals are its same-bug signals.
	Signals []Signal `json:"signals"`
}

// MaxSignedBytes bounds the text a fingerprint's MinHash signature and
// same-bug signals read: 256 KiB, as the rules read of each part. A report
// longer than that (a 10 MB log pasted into a mail) is compared by its
// first 256 KiB, which is where a report's own words are, so duplicate
// detection stays linear in what it reads and bounded per report; the
// exact-duplicate hash still covers the whole text.
const MaxSignedBytes = 256 << 10

// Of computes a report's fingerprint.
func Of(r *intake.Report) Fingerprint {
	subject := Subject(r.Subject)
	text := text(subject, r)
	s := getScratch()
	defer s.put()
	s.canon = appendCanonical(s.canon, text)
	return Fingerprint{
		Hash:    hashCanonical(s.canon),
		Sig:     s.signCanonical(head(s.canon, MaxSignedBytes)),
		Signals: s.signals(subject, head(text, MaxSignedBytes)),
	}
}

// head returns s cut to at most n bytes at the last line break or space
// before the cut, so that no token or line is read half.
func head[T string | []byte](s T, n int) T {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for i := len(s) - 1; i > 0; i-- {
		if s[i] == '\n' || s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}

// Keys returns the fingerprint's index keys: the content hash's, one per
// LSH band, one per signal.
func (f Fingerprint) Keys() []uint64 {
	keys := make([]uint64, 0, 1+Bands+len(f.Signals))
	if f.Hash != "" {
		keys = append(keys, Signal{Kind: SignalExact, Value: f.Hash}.key())
	}
	keys = append(keys, f.Sig.BandKeys()...)
	for _, s := range f.Signals {
		keys = append(keys, s.key())
	}
	return keys
}

// Options tune what counts as a duplicate and when a decision is reused.
type Options struct {
	// NearAt is the similarity at or above which two texts are
	// near-duplicates (default 0.5).
	NearAt float64
	// WeakAt is the similarity at or above which a weak signal (a commit,
	// a function in its file) makes a duplicate (default 0.2); weak signals
	// of both kinds do without it.
	WeakAt float64
	// ReuseAt is the similarity at or above which a near-duplicate reuses
	// the earlier decision (default 0.9). Exact duplicates always do; a
	// crash, title or CVE match does when the earlier verdict is security,
	// so that a second report of an embargoed bug stays private and joins
	// the first.
	ReuseAt float64
	// MaxMatches bounds the earlier reports listed per result (default 5).
	MaxMatches int
	// MaxCandidates bounds the earlier reports compared per lookup
	// (default 200), in the run as in the past, so that a lookup stays
	// fast however common a key is.
	MaxCandidates int
	// Window is how many of a run's most recent reports a Tracker keeps
	// in its index for near-duplicate and same-bug matches (default
	// DefaultWindow), so that its memory does not grow with the run. An
	// exact duplicate is found however far back its first copy is, and
	// with a past (the history) everything it holds is found too.
	Window int
}

// DefaultWindow is Options.Window's default: weeks of a busy security
// inbox, where near duplicates are close in time (a resend, a follow-up, a
// second reporter of the same crash), at about 4 KB of memory each.
const DefaultWindow = 2000

// DefaultOptions returns the defaults named in Options.
func DefaultOptions() Options {
	return Options{NearAt: 0.5, WeakAt: 0.2, ReuseAt: 0.9, MaxMatches: 5, MaxCandidates: 200, Window: DefaultWindow}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	o.NearAt = cmp.Or(o.NearAt, d.NearAt)
	o.WeakAt = cmp.Or(o.WeakAt, d.WeakAt)
	o.ReuseAt = cmp.Or(o.ReuseAt, d.ReuseAt)
	o.MaxMatches = cmp.Or(o.MaxMatches, d.MaxMatches)
	o.MaxCandidates = cmp.Or(o.MaxCandidates, d.MaxCandidates)
	o.Window = cmp.Or(o.Window, d.Window)
	return o
}

// Match says how a report matches an earlier one.
type Match struct {
	// Signal is the strongest evidence (a Signal* kind), Evidence its value.
	Signal, Evidence string
	// Similarity is the texts' estimated Jaccard similarity.
	Similarity float64
}

// Compare says whether q duplicates the earlier report c, and how.
func (o Options) Compare(q, c Fingerprint) (Match, bool) { return o.compare(q, c, nil, nil) }

// compare is Compare. qk and ck, when both are set, are the keys of q's
// and c's signals (Signal.key, in order): two signals are compared only
// when their keys are equal, which a lookup's many candidates that share
// no signal never are.
func (o Options) compare(q, c Fingerprint, qk, ck []uint64) (Match, bool) {
	o = o.withDefaults()
	if q.Hash != "" && q.Hash == c.Hash {
		return Match{Signal: SignalExact, Similarity: 1}, true
	}
	var buf [8]Signal
	shared := appendShared(buf[:0], q.Signals, c.Signals, qk, ck)
	// The least similarity that can make a match: any when a strong
	// signal or two kinds match (the match reports it), else WeakAt or
	// NearAt with one kind, NearAt with none.
	need := o.NearAt
	switch {
	case len(shared) > 0 && strong(shared[0].Kind), kinds(shared) >= 2:
		need = math.Inf(-1)
	case len(shared) > 0:
		need = min(o.NearAt, o.WeakAt)
	}
	sim, ok := similarityAtLeast(q.Sig, c.Sig, need)
	if !ok {
		return Match{}, false
	}
	return o.match(shared, sim)
}

// match says whether two reports that share the signals shared (strongest
// first) and whose texts are sim similar are duplicates, and how.
func (o Options) match(shared []Signal, sim float64) (Match, bool) {
	if len(shared) > 0 && strong(shared[0].Kind) {
		return Match{Signal: shared[0].Kind, Evidence: shared[0].Value, Similarity: sim}, true
	}
	if sim >= o.NearAt {
		return Match{Signal: SignalNear, Similarity: sim}, true
	}
	if kinds(shared) >= 2 || len(shared) > 0 && sim >= o.WeakAt {
		return Match{Signal: shared[0].Kind, Evidence: shared[0].Value, Similarity: sim}, true
	}
	return Match{}, false
}

// kinds counts the kinds of signal in signals.
func kinds(signals []Signal) int {
	n := 0
	for i, s := range signals {
		if i == 0 || s.Kind != signals[i-1].Kind {
			n++
		}
	}
	return n
}

// appendShared appends the signals both a and b have to dst, strongest
// first. ak and bk are their keys, or nil.
func appendShared(dst, a, b []Signal, ak, bk []uint64) []Signal {
	keyed := ak != nil && bk != nil
	for i, s := range a {
		if !keyed {
			if slices.Contains(b, s) {
				dst = append(dst, s)
			}
			continue
		}
		for j, k := range bk {
			if k == ak[i] && b[j] == s {
				dst = append(dst, s)
				break
			}
		}
	}
	if len(dst) > 1 {
		slices.SortStableFunc(dst, func(x, y Signal) int { return cmp.Compare(strength(x.Kind), strength(y.Kind)) })
	}
	return dst
}

// Reusable says whether a match lets a report reuse an earlier decision
// whose verdict is earlier: exact duplicates and near-duplicates at
// ReuseAt always, a crash, title or CVE match when the earlier verdict is
// security.
func (o Options) Reusable(m Match, earlier threatmodel.Verdict) bool {
	o = o.withDefaults()
	switch {
	case m.Signal == SignalExact, m.Similarity >= o.ReuseAt:
		return true
	case m.Signal == SignalCrash, m.Signal == SignalTitle, m.Signal == SignalCVE:
		return earlier == threatmodel.Security
	}
	return false
}
