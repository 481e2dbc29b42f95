package dedup

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Past is what a Tracker needs of a history of earlier runs (the history
// store implements it).
type Past interface {
	// Lookup returns recorded reports that have any of keys (see
	// Fingerprint.Keys), at most limit of them, the most recent ones first
	// for each key.
	Lookup(ctx context.Context, keys []uint64, limit int) ([]Earlier, error)
	// Record keeps a screened report with its fingerprint and result and
	// returns its history id. The same report again (the same id and raw
	// input hash) updates its entry instead of adding one.
	Record(ctx context.Context, r *intake.Report, fp Fingerprint, res screener.Result) (int64, error)
}

// Earlier is a report recorded in a Past.
type Earlier struct {
	// HistoryID is its id in the history.
	HistoryID int64
	// ID, Hash (the raw input hash) and Subject identify the report.
	ID, Hash, Subject string
	// Fingerprint is its fingerprint as recorded.
	Fingerprint Fingerprint
	// Result is its result as recorded.
	Result screener.Result
	// LabelVerdict and LabelCategory are the team's label, when recorded.
	LabelVerdict, LabelCategory string
	// Seen is when it was last screened; FirstSeen when first.
	Seen, FirstSeen time.Time
}

// Tracker finds duplicates for a screening run (it is a
// screener.Duplicates): among the reports of the run, and among those of a
// Past when it has one. A Tracker serves one run.
type Tracker struct {
	opt   Options
	past  Past
	onErr func(error)
	now   func() time.Time

	mu sync.Mutex
	// entries are the run's reports by position; once recorded in the past
	// they keep only their decision.
	entries map[int]*entry
	// byKey indexes the run's reports that the past does not hold yet
	// (all of them without a past).
	byKey map[uint64][]*entry
	// mine maps the identity of each report of this run recorded in the
	// past to its position: the past returns it as any other.
	mine map[uint64]int
	// priors holds, per position, the earlier recorded reports it could
	// reuse the decision of, until its result is recorded.
	priors map[int]map[int64]Earlier
	err    error
	stats  Stats
}

// Stats counts a Tracker's work.
type Stats struct {
	// Checked counts reports looked up; Duplicates those with a match.
	Checked, Duplicates int
	// Recorded counts results written to the past.
	Recorded int
	// LookupTime is the time spent in lookups, fingerprints included.
	LookupTime time.Duration
}

type entry struct {
	seq         int
	ident       uint64
	id, subject string
	fp          Fingerprint
	indexed     bool
	done        chan struct{}
	result      screener.Result // trimmed to the decision, once recorded
	decided     bool
	historyID   int64
	seen        time.Time
	recorded    bool
}

// NewTracker returns a Tracker over past (nil: the run alone). onErr, if
// set, is called once with the first error the past returns; the run goes
// on, finding duplicates within itself.
func NewTracker(past Past, opt Options, onErr func(error)) *Tracker {
	return &Tracker{opt: opt.withDefaults(), past: past, onErr: onErr, now: time.Now,
		entries: map[int]*entry{}, byKey: map[uint64][]*entry{}, mine: map[uint64]int{}, priors: map[int]map[int64]Earlier{}}
}

// Err returns the first error the past returned, if any.
func (t *Tracker) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Stats returns the counts so far.
func (t *Tracker) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

func (t *Tracker) fail(err error) {
	t.mu.Lock()
	first := t.err == nil
	if first {
		t.err = err
	}
	t.mu.Unlock()
	if first && t.onErr != nil {
		t.onErr(err)
	}
}

// identity says which entries are the same report: same id, same input.
func identity(id, hash string) uint64 {
	h := fnvString(fnvOffset, id)
	h *= fnvPrime // a 0 byte between the fields
	return mix64(fnvString(h, hash))
}

// candidate is an earlier report to compare a new one with.
type candidate struct {
	fp  Fingerprint
	dup screener.DuplicateOf
	// earlier is set for a report of the past, to reuse its decision.
	earlier *Earlier
	// firstSeen is when a report of the past was first screened (zero
	// for one of this run that the past does not hold yet).
	firstSeen time.Time
}

// Check implements screener.Duplicates: it fingerprints r, compares it
// with the earlier reports that share a key with it, and adds it to the
// run's index.
func (t *Tracker) Check(ctx context.Context, seq int, r *intake.Report) []screener.DuplicateOf {
	start := time.Now()
	fp := Of(r)
	keys := fp.Keys()
	ident := identity(r.ID, r.Hash)

	var cands []candidate
	var selfFirst time.Time
	fromRun := map[int]bool{}
	t.mu.Lock()
	for _, k := range keys {
		for _, e := range t.byKey[k] {
			if !fromRun[e.seq] {
				fromRun[e.seq] = true
				cands = append(cands, candidate{fp: e.fp, dup: screener.DuplicateOf{ID: e.id, Subject: e.subject, Batch: e.seq}})
			}
		}
	}
	t.mu.Unlock()
	if t.past != nil && t.Err() == nil {
		earlier, err := t.past.Lookup(ctx, keys, t.opt.MaxCandidates)
		if err != nil && ctx.Err() == nil {
			t.fail(err)
		}
		for i := range earlier {
			x := &earlier[i]
			xi := identity(x.ID, x.Hash)
			t.mu.Lock()
			seqOf, ours := t.mine[xi]
			t.mu.Unlock()
			switch {
			case ours && fromRun[seqOf]:
				continue // already a candidate from the run's index
			case ours:
				fromRun[seqOf] = true
				cands = append(cands, candidate{fp: x.Fingerprint, firstSeen: x.FirstSeen, dup: screener.DuplicateOf{ID: x.ID, Subject: x.Subject, Batch: seqOf}})
			case xi == ident:
				// This very report, screened by an earlier run: it is
				// updated, not duplicated, and only what came before it
				// the first time is earlier than it.
				selfFirst = x.FirstSeen
			default:
				cands = append(cands, candidate{fp: x.Fingerprint, earlier: x, firstSeen: x.FirstSeen, dup: screener.DuplicateOf{
					ID: x.ID, HistoryID: x.HistoryID, Subject: x.Subject, Seen: x.Seen,
					Label:   threatmodel.Label{Verdict: cmp.Or(threatmodel.Verdict(x.LabelVerdict), x.Result.Verdict), Category: cmp.Or(x.LabelCategory, x.Result.Category)},
					Labeled: x.LabelVerdict != ""}})
			}
		}
	}

	if !selfFirst.IsZero() {
		kept := cands[:0]
		for _, c := range cands {
			if !c.firstSeen.IsZero() && c.firstSeen.Before(selfFirst) {
				kept = append(kept, c)
			}
		}
		cands = kept
	}

	type scored struct {
		m Match
		candidate
	}
	var found []scored
	for _, c := range cands {
		if m, ok := t.opt.Compare(fp, c.fp); ok {
			found = append(found, scored{m, c})
		}
	}
	slices.SortStableFunc(found, func(a, b scored) int {
		return cmp.Or(better(a.m, b.m), cmp.Compare(a.dup.Batch, b.dup.Batch), cmp.Compare(a.dup.HistoryID, b.dup.HistoryID))
	})
	if len(found) > t.opt.MaxMatches {
		found = found[:t.opt.MaxMatches]
	}
	var out []screener.DuplicateOf
	priors := map[int64]Earlier{}
	for _, f := range found {
		d := f.dup
		d.Signal, d.Evidence, d.Similarity = f.m.Signal, f.m.Evidence, round3(f.m.Similarity)
		if f.earlier != nil {
			priors[d.HistoryID] = *f.earlier
		}
		out = append(out, d)
	}

	e := &entry{seq: seq, ident: ident, id: r.ID, subject: r.Subject, fp: fp, done: make(chan struct{})}
	t.mu.Lock()
	t.entries[seq] = e
	for _, k := range keys {
		t.byKey[k] = append(t.byKey[k], e)
	}
	e.indexed = true
	if len(priors) > 0 {
		t.priors[seq] = priors
	}
	t.stats.Checked++
	if len(out) > 0 {
		t.stats.Duplicates++
	}
	t.stats.LookupTime += time.Since(start)
	t.mu.Unlock()
	return out
}

// Prior implements screener.Duplicates. A match can reuse the earlier
// decision when Options.Reusable says so for its verdict and the earlier
// report was decided: screened without error, with the model's answer when
// one was asked (not model-failed or cancelled), or labeled by the team.
func (t *Tracker) Prior(ctx context.Context, d screener.DuplicateOf) (screener.Prior, bool) {
	m := Match{Signal: d.Signal, Evidence: d.Evidence, Similarity: d.Similarity}
	if !t.opt.Reusable(m, "security") {
		return screener.Prior{}, false // not reusable whatever the earlier verdict
	}
	if d.Batch > 0 {
		t.mu.Lock()
		e := t.entries[d.Batch]
		t.mu.Unlock()
		if e == nil {
			return screener.Prior{}, false
		}
		select {
		case <-e.done:
		case <-ctx.Done():
			return screener.Prior{}, false
		}
		if !e.decided || !t.opt.Reusable(m, string(e.result.Verdict)) {
			return screener.Prior{}, false
		}
		return screener.Prior{Result: e.result}, true
	}
	t.mu.Lock()
	var x Earlier
	found := false
	for _, ps := range t.priors {
		if x, found = ps[d.HistoryID]; found {
			break
		}
	}
	t.mu.Unlock()
	if !found {
		return screener.Prior{}, false
	}
	p := screener.Prior{Result: trim(x.Result)}
	if x.LabelVerdict != "" {
		p.Result.Label, p.Labeled = threatmodel.Label{Verdict: threatmodel.Verdict(x.LabelVerdict), Category: x.LabelCategory}, true
	} else if !decided(&x.Result) {
		return screener.Prior{}, false
	}
	if !t.opt.Reusable(m, string(p.Result.Verdict)) {
		return screener.Prior{}, false
	}
	return p, true
}

// Record implements screener.Duplicates: it fills in the decisions of the
// run's earlier reports that res duplicates, writes the result to the past
// (committed before the next report's), and releases the reports waiting
// to reuse this one's decision.
func (t *Tracker) Record(ctx context.Context, seq int, r *intake.Report, res *screener.Result) {
	t.mu.Lock()
	e := t.entries[seq]
	delete(t.priors, seq)
	var same *entry // an earlier report of the run that is this very one
	for i := range res.DuplicateOf {
		d := &res.DuplicateOf[i]
		if d.Batch == 0 {
			continue
		}
		if b := t.entries[d.Batch]; b != nil && b.recorded {
			d.Label, d.HistoryID, d.Seen = b.result.Label, b.historyID, b.seen
			if e != nil && b.ident == e.ident && same == nil {
				same = b
			}
		}
	}
	t.mu.Unlock()
	if e == nil {
		return
	}
	now := t.now().UTC()
	var hid int64
	var err error
	write := t.past != nil && !res.Failed() && t.Err() == nil
	switch {
	case same != nil:
		// The same report twice in one run: the first one's entry stands.
		hid, write = same.historyID, false
	case write:
		// Committed even when the run is being stopped: what was
		// screened is kept.
		hid, err = t.past.Record(context.WithoutCancel(ctx), r, e.fp, *res)
		if err != nil {
			t.fail(err)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e.result, e.decided, e.historyID, e.seen, e.recorded = trim(*res), decided(res), hid, now, true
	if write && err == nil {
		t.stats.Recorded++
	}
	if t.past != nil && hid != 0 {
		// The past holds it now: find it there, and free its fingerprint.
		t.unindex(e)
		t.mine[e.ident] = seq
	}
	close(e.done)
}

// unindex removes e from the run's index.
func (t *Tracker) unindex(e *entry) {
	if !e.indexed {
		return
	}
	for _, k := range e.fp.Keys() {
		list := t.byKey[k]
		if i := slices.Index(list, e); i >= 0 {
			list[i] = list[len(list)-1]
			list = list[:len(list)-1]
		}
		if len(list) == 0 {
			delete(t.byKey, k)
		} else {
			t.byKey[k] = list
		}
	}
	e.indexed = false
	e.fp = Fingerprint{}
}

// decided reports whether a result is a decision another report can reuse.
func decided(r *screener.Result) bool {
	switch {
	case r.Failed(), r.Verdict == "":
		return false
	case r.Decision == screener.DecisionModelFailed, r.Decision == screener.DecisionCancelled:
		return false
	}
	return true
}

// trim keeps what a reused decision needs of a result.
func trim(r screener.Result) screener.Result {
	return screener.Result{ID: r.ID, Label: r.Label, Confidence: r.Confidence,
		Route: r.Route, RoutePublic: r.RoutePublic, Missing: r.Missing, Decision: r.Decision,
		NeedsReview: r.NeedsReview, ReviewReason: r.ReviewReason, ReviewFlags: r.ReviewFlags, Error: r.Error}
}

func round3(x float64) float64 {
	return float64(int(x*1000+0.5)) / 1000
}
