package dedup

import (
	"cmp"
	"context"
	"encoding/json"
	"math"
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
	// Label is the team's label, when one was recorded (its Verdict is
	// empty when none was).
	Label threatmodel.Label
	// Seen is when it was last screened; FirstSeen when first.
	Seen, FirstSeen time.Time
}

// Tracker finds duplicates for a screening run (it is a
// screener.Duplicates): among the reports of the run, and among those of a
// Past when it has one. A Tracker serves one run; Close releases it.
//
// Its memory does not grow with the run: the fingerprints (MinHash
// signature, LSH bands, signals) of only the last Options.Window reports
// are kept for near-duplicate and same-bug matches, and the reports the
// past holds are looked up there instead. For exact duplicates every
// report's content hash is kept (a few dozen bytes each), and without a
// past the id, subject and decision of a report that left the window are
// written to a temporary file, read back only when a later report repeats
// its content.
type Tracker struct {
	opt   Options
	past  Past
	onErr func(error)
	now   func() time.Time

	mu sync.Mutex
	// entries are the run's reports in the window or not recorded yet, by
	// position; once recorded in the past they keep only their decision.
	entries map[int]*entry
	// window holds the entries in the window, oldest first, from head on.
	window []*entry
	head   int
	// byKey indexes the window's reports that the past does not hold yet
	// (all of them without a past).
	byKey map[uint64][]*entry
	// exact maps each content of the run (its exact key) to the first
	// report with it, for the exact duplicates of reports that left the
	// window and that the past does not hold.
	exact exactTable
	// gone keeps what is known of those reports, out of memory.
	gone spill
	// mine maps the identity of each report of the window recorded in the
	// past to its position: the past returns it as any other.
	mine map[uint64]int
	// priors holds, per position, the earlier reports (recorded in the
	// past, or gone from the window) it could reuse the decision of,
	// until its result is recorded.
	priors map[int]priorSet
	err    error
	stats  Stats
	// scratch is Check's.
	scratch checkScratch
}

// priorSet is what Check found for one report that Prior may be asked for.
type priorSet struct {
	past map[int64]Earlier
	run  map[int]goneEntry
	// live are the matched reports of the run that were in memory: kept
	// here, so that their decisions are known when this report needs
	// them, whether or not they left the window since.
	live map[int]*entry
}

// goneEntry is what is kept of a report of the run that left the window:
// enough to name it in a DuplicateOf and to reuse its decision.
type goneEntry struct {
	// Key is its exact key and Seq its position in the run.
	Key     uint64          `json:"key"`
	Seq     int             `json:"seq"`
	ID      string          `json:"id"`
	Subject string          `json:"subject,omitempty"`
	Result  screener.Result `json:"result"`
	Decided bool            `json:"decided,omitempty"`
	Seen    time.Time       `json:"seen"`
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
	exactKey    uint64 // the key of fp.Hash; 0 for no text
	id, subject string
	fp          Fingerprint
	keys        []uint64 // fp.Keys(), while indexed
	indexed     bool
	inWindow    bool
	// done is closed once the decision is known (known): by Decided, or
	// by Record at the latest.
	done      chan struct{}
	known     bool
	result    screener.Result // trimmed to the decision, once known
	decided   bool
	historyID int64
	seen      time.Time
	recorded  bool
}

// NewTracker returns a Tracker over past (nil: the run alone). onErr, if
// set, is called once with the first error the past returns; the run goes
// on, finding duplicates within itself.
func NewTracker(past Past, opt Options, onErr func(error)) *Tracker {
	return &Tracker{opt: opt.withDefaults(), past: past, onErr: onErr, now: time.Now,
		entries: map[int]*entry{}, byKey: map[uint64][]*entry{},
		mine: map[uint64]int{}, priors: map[int]priorSet{}}
}

// Close releases what the Tracker keeps out of memory (a temporary file).
// A Tracker is not used after Close.
func (t *Tracker) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gone.close()
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
	h := fnvAppend(fnvOffset, id)
	h *= fnvPrime // a 0 byte between the fields
	return mix64(fnvAppend(h, hash))
}

// candidate is an earlier report to compare a new one with.
type candidate struct {
	kind candidateKind
	// fp is a copy: the entry's may be freed while Check compares.
	fp Fingerprint
	// live is the report of the run in memory (runLive, and runPast when
	// the run still holds it).
	live *entry
	// gone is what is kept of a report of the run that left the window.
	gone *goneEntry
	// earlier is the report of the past (past, runPast).
	earlier *Earlier
	// sigKeys are the keys of fp's signals when known (a report of the
	// run in memory), else nil.
	sigKeys []uint64
	// exactKey is the key of fp.Hash when known (0: not known, or no
	// text): two different keys are two different hashes.
	exactKey uint64
	// seq is the run's position of a report of the run.
	seq int
	// firstSeen is when a report of the past was first screened (zero
	// for one of this run that the past does not hold yet).
	firstSeen time.Time
}

// candidateKind says where a candidate comes from.
type candidateKind uint8

const (
	// runLive: a report of the run in memory, from the run's index or by
	// its exact content.
	runLive candidateKind = iota
	// runGone: a report of the run that left the window, by its exact
	// content.
	runGone
	// runPast: a report of the run that the past holds and returned.
	runPast
	// past: a report of an earlier run.
	past
)

// dup is what a result lists of the candidate.
func (c *candidate) dup() screener.DuplicateOf {
	switch c.kind {
	case runLive:
		return screener.DuplicateOf{ID: c.live.id, Subject: c.live.subject, Batch: c.seq}
	case runGone:
		return screener.DuplicateOf{ID: c.gone.ID, Subject: c.gone.Subject, Batch: c.seq, Seen: c.gone.Seen, Label: c.gone.Result.Label}
	case runPast:
		return screener.DuplicateOf{ID: c.earlier.ID, Subject: c.earlier.Subject, Batch: c.seq}
	}
	x := c.earlier
	return screener.DuplicateOf{ID: x.ID, HistoryID: x.HistoryID, Subject: x.Subject, Seen: x.Seen,
		Label:   threatmodel.Label{Verdict: cmp.Or(x.Label.Verdict, x.Result.Verdict), Category: cmp.Or(x.Label.Category, x.Result.Category)},
		Labeled: x.Label.Verdict != ""}
}

// historyID is the candidate's id in the past, 0 for one of the run.
func (c *candidate) historyID() int64 {
	if c.kind == past {
		return c.earlier.HistoryID
	}
	return 0
}

// scored is a candidate that matched.
type scored struct {
	m Match
	c *candidate
	// rank (the signal's strength), seq and hid (the history id) order
	// the matches (see better).
	rank, seq int
	hid       int64
}

// better reports whether a comes before b among the matches: the stronger
// signal, the more similar text, then the earlier report (by position in
// the run, then by history id).
func (a *scored) better(b *scored) bool {
	switch {
	case a.rank != b.rank:
		return a.rank < b.rank
	case a.m.Similarity != b.m.Similarity:
		return a.m.Similarity > b.m.Similarity
	case a.seq != b.seq:
		return a.seq < b.seq
	}
	return a.hid < b.hid
}

// bestMatches compares q (qk: its signals' keys; qx: its exact key, or 0)
// with each candidate, as compare does, and appends the MaxMatches best
// matches to dst, best first (see better). The result is what comparing
// every candidate and sorting the matches gives
// (TestBestMatchesAreThoseOfSortingAll), for less: once MaxMatches are
// found, a candidate whose signal is weaker than the last one's is not
// compared, and one whose signal is as strong is compared only as long as
// its similarity can still reach the last one's. o has its defaults.
func (o Options) bestMatches(dst []scored, q Fingerprint, qk []uint64, qx uint64, cands []candidate) []scored {
	k := max(o.MaxMatches, 0)
	var buf [8]Signal
	for i := range cands {
		c := &cands[i]
		var m Match
		if q.Hash != "" && (qx == 0 || c.exactKey == 0 || qx == c.exactKey) && q.Hash == c.fp.Hash {
			m = Match{Signal: SignalExact, Similarity: 1}
		} else {
			shared := appendShared(buf[:0], q.Signals, c.fp.Signals, qk, c.sigKeys)
			strongShared := len(shared) > 0 && strong(shared[0].Kind)
			need := o.NearAt // as compare works it out
			switch {
			case strongShared, kinds(shared) >= 2:
				need = math.Inf(-1)
			case len(shared) > 0:
				need = min(o.NearAt, o.WeakAt)
			}
			if len(dst) == k {
				// The best signal a match can have: the strong one shared,
				// else near.
				rank := strength(SignalNear)
				if strongShared {
					rank = strength(shared[0].Kind)
				}
				if k == 0 || dst[k-1].rank < rank {
					continue
				}
				if last := &dst[k-1]; strongShared && last.rank == rank {
					need = max(need, last.m.Similarity)
				}
			}
			sim, ok := similarityAtLeast(q.Sig, c.fp.Sig, need)
			if !ok {
				continue
			}
			if m, ok = o.match(shared, sim); !ok {
				continue
			}
		}
		dst = insertMatch(dst, k, scored{m: m, c: c, rank: strength(m.Signal), seq: c.seq, hid: c.historyID()})
	}
	return dst
}

// insertMatch puts s among the best matches (at most k, best first),
// after those as good as it, and drops the last one past k.
func insertMatch(best []scored, k int, s scored) []scored {
	i := len(best)
	for i > 0 && s.better(&best[i-1]) {
		i--
	}
	switch {
	case i == k:
		return best
	case len(best) < k:
		best = append(best, scored{})
	}
	copy(best[i+1:], best[i:])
	best[i] = s
	return best
}

// checkScratch holds what one Check works in, kept for the next (Check
// is called from one goroutine at a time).
type checkScratch struct {
	mu sync.Mutex
	// fromRun holds the run's positions already among the candidates.
	fromRun u64Set
	cands   []candidate
	found   []scored
}

// Check implements screener.Duplicates: it fingerprints r, compares it
// with the earlier reports that share a key with it, and adds it to the
// run's index.
func (t *Tracker) Check(ctx context.Context, seq int, r *intake.Report) []screener.DuplicateOf {
	start := time.Now()
	fp := Of(r)
	keys := fp.Keys()
	sigKeys := keys[len(keys)-len(fp.Signals):]
	ident := identity(r.ID, r.Hash)
	var exactKey uint64
	if fp.Hash != "" {
		exactKey = keys[0]
	}

	sc := &t.scratch
	sc.mu.Lock()
	defer sc.mu.Unlock()
	fromRun := &sc.fromRun
	fromRun.reset(t.opt.MaxCandidates + 1)
	cands := sc.cands[:0]
	defer func() {
		clear(cands) // the candidates point at entries and reports
		sc.cands = cands[:0]
	}()
	var selfFirst time.Time
	t.mu.Lock()
	// As from the past: the newest runPerKey reports of each key, the
	// first MaxCandidates of them all, so that a key most reports share
	// (a common crash) costs no more than a rare one.
	for _, k := range keys {
		list := t.byKey[k]
		for i := len(list) - 1; i >= max(0, len(list)-runPerKey) && len(cands) < t.opt.MaxCandidates; i-- {
			if e := list[i]; fromRun.add(uint64(e.seq)) {
				cands = append(cands, candidate{kind: runLive, fp: e.fp, sigKeys: e.sigKeys(), exactKey: e.exactKey, live: e, seq: e.seq})
			}
		}
	}
	exactSlot, exactGen := -1, t.exact.gen
	if exactKey != 0 {
		// The same content as a report that left the window: still being
		// screened, or spilled.
		var e *entry
		var g *goneEntry
		exactSlot, e, g = t.firstOf(exactKey)
		switch {
		case e != nil && fromRun.add(uint64(e.seq)):
			cands = append(cands, candidate{kind: runLive, fp: Fingerprint{Hash: fp.Hash}, exactKey: exactKey, live: e, seq: e.seq})
		case g != nil && fromRun.add(uint64(g.Seq)):
			cands = append(cands, candidate{kind: runGone, fp: Fingerprint{Hash: fp.Hash}, exactKey: exactKey, gone: g, seq: g.Seq})
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
			mineE := t.entries[seqOf]
			t.mu.Unlock()
			switch {
			case ours && fromRun.has(uint64(seqOf)):
				continue // already a candidate from the run's index
			case ours:
				fromRun.add(uint64(seqOf))
				cands = append(cands, candidate{kind: runPast, fp: x.Fingerprint, live: mineE, earlier: x, seq: seqOf, firstSeen: x.FirstSeen})
			case xi == ident || r.Updates != nil && x.ID == r.ID:
				// This very report, screened by an earlier run (or
				// earlier in this one, before the window), or an earlier
				// version of this thread, which has new replies since
				// (intake.Report.Updates): it is updated, not duplicated,
				// and only what came before its first screening is
				// earlier than it.
				if selfFirst.IsZero() || x.FirstSeen.Before(selfFirst) {
					selfFirst = x.FirstSeen
				}
			default:
				cands = append(cands, candidate{kind: past, fp: x.Fingerprint, earlier: x, firstSeen: x.FirstSeen})
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
		clear(cands[len(kept):])
		cands = kept
	}

	best := t.opt.bestMatches(sc.found[:0], fp, sigKeys, exactKey, cands)
	defer func() {
		clear(best)
		sc.found = best[:0]
	}()
	var out []screener.DuplicateOf
	if len(best) > 0 {
		out = make([]screener.DuplicateOf, 0, len(best))
	}
	var priors priorSet
	for _, f := range best {
		d := f.c.dup()
		d.Signal, d.Evidence, d.Similarity = f.m.Signal, f.m.Evidence, round3(f.m.Similarity)
		switch {
		case f.c.kind == past:
			if priors.past == nil {
				priors.past = map[int64]Earlier{}
			}
			priors.past[d.HistoryID] = *f.c.earlier
		case f.c.gone != nil:
			if priors.run == nil {
				priors.run = map[int]goneEntry{}
			}
			priors.run[d.Batch] = *f.c.gone
		case f.c.live != nil:
			if priors.live == nil {
				priors.live = map[int]*entry{}
			}
			priors.live[d.Batch] = f.c.live
		}
		out = append(out, d)
	}

	e := &entry{seq: seq, ident: ident, exactKey: exactKey, id: r.ID, subject: r.Subject, fp: fp, keys: keys, done: make(chan struct{})}
	t.mu.Lock()
	t.entries[seq] = e
	for _, k := range keys {
		list := t.byKey[k]
		if len(list) >= runPerKey {
			// The oldest leaves this key's list (not the others').
			list = append(list[:0], list[len(list)-runPerKey+1:]...)
		}
		t.byKey[k] = append(list, e)
	}
	e.indexed, e.inWindow = true, true
	t.window = append(t.window, e)
	if exactKey != 0 && t.exact.gen != exactGen {
		exactSlot, _, _ = t.firstOf(exactKey) // a Record moved or removed slots since
	}
	if exactKey != 0 && exactSlot < 0 && seq <= maxExactSeq {
		t.exact.add(exactKey, atSeq(seq))
	}
	if priors.past != nil || priors.run != nil || priors.live != nil {
		t.priors[seq] = priors
	}
	t.shrink()
	t.stats.Checked++
	if len(out) > 0 {
		t.stats.Duplicates++
	}
	t.stats.LookupTime += time.Since(start)
	t.mu.Unlock()
	return out
}

// runPerKey bounds the reports of the run's index listed under one key,
// the newest kept, as the history's lookup does.
const runPerKey = 50

// goneEntry reads the record of a report that left the window.
func (t *Tracker) goneEntry(ref uint32) (goneEntry, error) {
	var g goneEntry
	b, err := t.gone.get(ref)
	if err == nil {
		err = json.Unmarshal(b, &g)
	}
	return g, err
}

// firstOf finds the first report of the run with the content of key in
// t.exact: it returns its slot (-1 when the run has none) and its entry,
// while the run holds it, else its record. A record that cannot be read is
// taken for the content (the slot, with neither entry nor record): a tag
// is another content's at odds of 2^-32.
func (t *Tracker) firstOf(key uint64) (slot int, e *entry, g *goneEntry) {
	slot = t.exact.probe(key, func(r exactRef) bool {
		e, g = nil, nil
		if seq, ok := r.seq(); ok {
			e = t.entries[seq]
			return e != nil && e.exactKey == key
		}
		ref, _ := r.spilled()
		rec, err := t.goneEntry(ref)
		if err != nil {
			return true
		}
		g = &rec
		return rec.Key == key
	})
	if slot < 0 {
		e, g = nil, nil
	}
	return slot, e, g
}

// shrink takes the oldest reports out of the window until it holds
// Options.Window: out of the index at once, out of memory once recorded.
func (t *Tracker) shrink() {
	for len(t.window)-t.head > t.opt.Window {
		e := t.window[t.head]
		t.window[t.head] = nil
		t.head++
		e.inWindow = false
		t.unindex(e)
		if e.recorded {
			t.release(e)
		}
	}
	if t.head > 1024 && t.head*2 > len(t.window) {
		t.window = append(t.window[:0], t.window[t.head:]...)
		t.head = 0
	}
}

// release forgets a recorded report that left the window. The past holds
// it, if it has one; else, when it is the first of its content, its record
// is spilled for the exact duplicates that may still come.
func (t *Tracker) release(e *entry) {
	delete(t.entries, e.seq)
	if s, ok := t.mine[e.ident]; ok && s == e.seq {
		delete(t.mine, e.ident)
	}
	if e.exactKey == 0 {
		return
	}
	self := atSeq(e.seq)
	slot := t.exact.probe(e.exactKey, func(r exactRef) bool { return r == self })
	if slot < 0 {
		return // not the first of its content
	}
	if e.historyID == 0 {
		b, err := json.Marshal(goneEntry{Key: e.exactKey, Seq: e.seq, ID: e.id, Subject: e.subject, Result: e.result, Decided: e.decided, Seen: e.seen})
		if err == nil {
			if ref, ok := t.gone.add(b); ok {
				t.exact.set(slot, inSpill(ref))
				return
			}
		}
	}
	// The past finds it by this key; or it could not be kept, and the
	// next report with its content becomes the first.
	t.exact.delete(slot)
}

// Prior implements screener.Duplicates. A match can reuse the earlier
// decision when Options.Reusable says so for its verdict and the earlier
// report was decided: screened without error, with the model's answer when
// one was asked (not model-failed or cancelled), or labeled by the team.
// Prior never waits: for a report of the run whose decision is not known
// yet it returns that report's channel, closed once it is (by Decided, or
// Record).
func (t *Tracker) Prior(seq int, d screener.DuplicateOf) (screener.Prior, bool, <-chan struct{}) {
	m := Match{Signal: d.Signal, Evidence: d.Evidence, Similarity: d.Similarity}
	if !t.opt.Reusable(m, threatmodel.Security) {
		return screener.Prior{}, false, nil // not reusable whatever the earlier verdict
	}
	t.mu.Lock()
	// What Check found for seq: the matches' entries, records or past.
	ps := t.priors[seq]
	var p screener.Prior
	if d.Batch > 0 {
		e, g := ps.live[d.Batch], ps.run[d.Batch]
		if e != nil && !e.known {
			t.mu.Unlock()
			return screener.Prior{}, false, e.done
		}
		if e != nil {
			g = goneEntry{Result: e.result, Decided: e.decided}
		}
		t.mu.Unlock()
		if !g.Decided {
			return screener.Prior{}, false, nil
		}
		p.Result = g.Result
	} else {
		x, found := ps.past[d.HistoryID]
		t.mu.Unlock()
		if !found {
			return screener.Prior{}, false, nil
		}
		p.Result = trim(x.Result)
		if x.Label.Verdict != "" {
			p.Result.Label, p.Labeled = x.Label, true
		} else if !decided(&x.Result) {
			return screener.Prior{}, false, nil
		}
	}
	if !t.opt.Reusable(m, p.Result.Verdict) {
		return screener.Prior{}, false, nil
	}
	return p, true, nil
}

// Record implements screener.Duplicates: it fills in the decisions of the
// run's earlier reports that res duplicates, writes the result to the past
// (committed before the next report's), and releases the reports waiting
// to reuse this one's decision.
func (t *Tracker) Record(ctx context.Context, seq int, r *intake.Report, res *screener.Result) {
	t.mu.Lock()
	e := t.entries[seq]
	live := t.priors[seq].live
	delete(t.priors, seq)
	var same *entry // an earlier report of the run that is this very one
	for i := range res.DuplicateOf {
		d := &res.DuplicateOf[i]
		if d.Batch == 0 {
			continue
		}
		b := live[d.Batch]
		if b == nil {
			b = t.entries[d.Batch]
		}
		if b != nil && b.recorded {
			d.Label, d.HistoryID, d.Seen = b.result.Label, b.historyID, b.seen
			if e != nil && b.ident == e.ident && same == nil {
				same = b
			}
		}
	}
	write := t.past != nil && !res.Failed() && t.err == nil && same == nil
	if e != nil && write && e.inWindow {
		// Known as this run's before the past holds it, so that a Check
		// that finds it both in the run's index and in the past (between
		// the commit and the unindexing below) lists it once.
		t.mine[e.ident] = seq
	}
	t.mu.Unlock()
	if e == nil {
		return
	}
	now := t.now().UTC()
	var hid int64
	var err error
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
	e.historyID, e.seen, e.recorded = hid, now, true
	t.know(e, res)
	if write && err == nil {
		t.stats.Recorded++
	}
	if t.past != nil && hid != 0 {
		// The past holds it now: find it there, and free its fingerprint.
		t.unindex(e)
		if e.inWindow {
			t.mine[e.ident] = seq
		}
	} else if s, ok := t.mine[e.ident]; ok && s == seq {
		delete(t.mine, e.ident) // not written after all
	}
	if !e.inWindow {
		t.unindex(e)
		t.release(e)
	}
}

// Decided implements screener.Duplicates: it makes the decision of the
// report at position seq known to the reports that wait for it (see
// Prior), ahead of Record.
func (t *Tracker) Decided(seq int, res *screener.Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.entries[seq]; e != nil {
		t.know(e, res)
	}
}

// know keeps e's decision, res's, and releases the reports waiting for it
// the first time.
func (t *Tracker) know(e *entry, res *screener.Result) {
	if !e.known {
		e.result, e.decided, e.known = trim(*res), decided(res), true
		close(e.done)
	}
}

// sigKeys returns the keys of e's signals, the last of its index keys,
// while it is indexed.
func (e *entry) sigKeys() []uint64 {
	if len(e.keys) < len(e.fp.Signals) {
		return nil
	}
	return e.keys[len(e.keys)-len(e.fp.Signals):]
}

// unindex removes e from the run's index and frees its fingerprint (kept
// while a past is still to record it).
func (t *Tracker) unindex(e *entry) {
	if e.indexed {
		for _, k := range e.keys {
			list := t.byKey[k]
			if i := slices.Index(list, e); i >= 0 {
				list = slices.Delete(list, i, i+1) // oldest first
			}
			if len(list) == 0 {
				delete(t.byKey, k)
			} else {
				t.byKey[k] = list
			}
		}
		e.indexed, e.keys = false, nil
	}
	if e.recorded || t.past == nil {
		e.fp = Fingerprint{}
	}
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

// size counts what the Tracker holds in memory: the entries, the keys of
// its index and the entries they list, the fingerprints with a signature,
// and the exact keys.
func (t *Tracker) size() (entries, keys, listed, signatures, exact int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, l := range t.byKey {
		listed += len(l)
	}
	for _, e := range t.entries {
		if e.fp.Sig != nil {
			signatures++
		}
	}
	return len(t.entries), len(t.byKey), listed, signatures, t.exact.len()
}
