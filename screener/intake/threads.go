package intake

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/secscreen/secscreen/internal/lazyre"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Thread grouping defaults (see Options.Threads).
const (
	// DefaultThreadWindow is how many messages after a report its replies
	// may come and still be folded into it.
	DefaultThreadWindow = 1000
	// DefaultThreadBytes bounds the text held while waiting for replies.
	DefaultThreadBytes = 64 << 20
	// maxThreadReplies bounds the replies folded into one report; later
	// ones are screened on their own.
	maxThreadReplies = 50
)

// threader groups the Items of one input into threads before they are
// yielded: a reply (In-Reply-To or References naming a message of the
// input, or a "Re:" subject repeating a report's) is folded into the
// report it answers with JoinThread, instead of being yielded as a report
// of its own. Items leave in the order their threads started, once
// Window more messages have been read or the held text passes MaxBytes,
// so memory stays bounded: a reply that comes later than that is yielded
// on its own.
//
// With earlier set, a reply that answers no waiting thread is looked up
// among the threads of earlier runs (by In-Reply-To and References only,
// never by subject): the thread it answers, as screened then, starts a
// waiting thread of its own, which yields that thread again with its new
// replies after its old ones and Report.Updates set.
type threader struct {
	out      func(Item) bool
	window   int
	maxBytes int64

	queue []*thread // waiting for replies, oldest first
	head  int       // queue[:head] is gone
	// byID maps every Message-ID that a waiting thread holds, or that one
	// of its messages refers to, to that thread.
	byID map[string]*thread
	// bySubject maps a waiting thread's normalised subject to it.
	bySubject map[string]*thread
	bytes     int64
	seq       int
	stopped   bool
	// earlier, when set, finds the threads of earlier runs that a reply
	// to no waiting thread may answer; ctx is for its lookups.
	earlier EarlierThreads
	ctx     context.Context
}

// thread is one waiting item: a report and the replies folded into it so
// far, or an error item or a report that cannot be threaded, which waits
// only to keep the input's order.
type thread struct {
	item Item
	msgs []*Report
	seq  int
	keys []string // byID entries to drop when the thread leaves
	subj string   // bySubject entry to drop
	size int64
	// update is set for a thread of an earlier run (msgs[0] is that
	// thread as screened then, the other msgs its new replies): what was
	// decided then. held names the messages msgs[0] holds, and prior
	// counts its replies.
	update *ThreadUpdate
	held   map[string]bool
	prior  int
}

func newThreader(out func(Item) bool, window int, maxBytes int64) *threader {
	if window <= 0 {
		window = DefaultThreadWindow
	}
	if maxBytes <= 0 {
		maxBytes = DefaultThreadBytes
	}
	return &threader{out: out, window: window, maxBytes: maxBytes,
		byID: map[string]*thread{}, bySubject: map[string]*thread{}}
}

// add takes the next Item of the input and reports whether to go on.
func (t *threader) add(it Item) bool {
	if t.stopped {
		return false
	}
	t.seq++
	r := it.Report
	if r != nil && threadable(r) {
		if th := t.find(r); th != nil && len(th.msgs)+th.prior <= maxThreadReplies &&
			th.size+reportSize(r) <= t.maxBytes/4 {
			if r.MessageID != "" && th.held[r.MessageID] {
				// Read again: an earlier run folded it into this thread.
				return t.drain(false)
			}
			th.msgs = append(th.msgs, r)
			th.size += reportSize(r)
			t.bytes += reportSize(r)
			t.register(th, r)
			return t.drain(false)
		}
	}
	if r != nil && threadable(r) {
		if th := t.earlierThread(r); th != nil {
			t.queue = append(t.queue, th)
			return t.drain(false)
		}
	}
	th := &thread{item: it, seq: t.seq}
	if r != nil {
		th.size = reportSize(r)
		t.bytes += th.size
		if threadable(r) {
			th.msgs = []*Report{r}
			t.register(th, r)
			if s := normSubject(r.Subject); len(s) >= minThreadSubject {
				t.bySubject[s] = th
				th.subj = s
			}
		}
	}
	t.queue = append(t.queue, th)
	return t.drain(false)
}

// minThreadSubject is the shortest normalised subject a "Re:" is matched
// on: "Re: help" must not join every report called "help".
const minThreadSubject = 12

// find returns the waiting thread r belongs to, or nil.
func (t *threader) find(r *Report) *thread {
	if th := t.byID[r.InReplyTo]; r.InReplyTo != "" && th != nil {
		return th
	}
	for i := len(r.References) - 1; i >= 0; i-- {
		if th := t.byID[r.References[i]]; th != nil {
			return th
		}
	}
	// A report that came after one of its replies (an unsorted input).
	if th := t.byID[r.MessageID]; r.MessageID != "" && th != nil {
		return th
	}
	if isReplySubject(r.Subject) {
		if th := t.bySubject[normSubject(r.Subject)]; th != nil {
			return th
		}
	}
	return nil
}

// register maps r's Message-ID and the ids it refers to onto th.
func (t *threader) register(th *thread, r *Report) {
	add := func(id string) {
		if id == "" {
			return
		}
		if _, taken := t.byID[id]; !taken {
			t.byID[id] = th
			th.keys = append(th.keys, id)
		}
	}
	add(r.MessageID)
	add(r.InReplyTo)
	for _, id := range r.References {
		add(id)
	}
}

// drain yields the threads whose window has passed, all of them when
// final, and reports whether to go on.
func (t *threader) drain(final bool) bool {
	for t.head < len(t.queue) {
		th := t.queue[t.head]
		if !final && t.seq-th.seq < t.window && t.bytes <= t.maxBytes {
			break
		}
		t.queue[t.head] = nil
		t.head++
		if !t.emit(th) {
			t.stopped = true
			return false
		}
	}
	if t.head > 0 && t.head*2 >= len(t.queue) {
		t.queue = append(t.queue[:0], t.queue[t.head:]...)
		t.head = 0
	}
	return true
}

// emit yields one thread: its item, or its messages joined into one report.
func (t *threader) emit(th *thread) bool {
	for _, k := range th.keys {
		if t.byID[k] == th {
			delete(t.byID, k)
		}
	}
	if th.subj != "" && t.bySubject[th.subj] == th {
		delete(t.bySubject, th.subj)
	}
	t.bytes -= th.size
	it := th.item
	switch {
	case th.update != nil:
		it = updated(th)
	case len(th.msgs) > 1:
		joined, err := JoinThread(th.msgs)
		if err != nil {
			return t.out(Item{Source: it.Source, Err: err})
		}
		for _, m := range th.msgs {
			if m.Source != joined.Source {
				joined.Replies = append(joined.Replies, m.ID)
			}
		}
		t.markUpdate(joined)
		it = Item{Source: joined.Source, Report: joined}
	}
	return t.out(it)
}

// EarlierThreads finds the threads screened in earlier runs, so that a
// reply to one of them is folded into it (Options.EarlierThreads); the
// history implements it.
type EarlierThreads interface {
	// EarlierThread returns the latest screened version of a thread that
	// holds a message one of ids names (its root, or a reply folded into
	// it), trying ids in order; nil when there is none.
	EarlierThread(ctx context.Context, ids []string) (*EarlierThread, error)
}

// EarlierThread is a thread as an earlier run screened it.
type EarlierThread struct {
	// Report is the thread as screened then: its root, with the replies
	// folded in then (named by its Replies; ThreadSize counts them all).
	Report *Report
	// Decided is what was decided about it; its NewReplies is empty.
	Decided ThreadUpdate
}

// ThreadUpdate says that a report is a thread an earlier run screened,
// now with new replies: what was decided then, and which replies are new.
type ThreadUpdate struct {
	// HistoryID is the earlier screening's entry in the history, and
	// Screened when it was made.
	HistoryID int64     `json:"history_id"`
	Screened  time.Time `json:"screened"`
	// Label is the decision then: the team's label when one was recorded
	// (Labeled), else the screening's.
	threatmodel.Label
	Labeled bool `json:"labeled"`
	// Decision, Confidence, NeedsReview and ReviewFlags are the earlier
	// screening's.
	Decision    string   `json:"decision"`
	Confidence  float64  `json:"confidence"`
	NeedsReview bool     `json:"needs_review"`
	ReviewFlags []string `json:"review_flags"`
	// NewReplies are the ids of the replies folded in since, in input
	// order.
	NewReplies []string `json:"new_replies"`
}

// answered lists the ids of the messages r answers, in the order a thread
// is looked for: In-Reply-To, then References from the last.
func answered(r *Report) []string {
	var ids []string
	add := func(id string) {
		if id != "" && id != r.MessageID && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	add(r.InReplyTo)
	for i := len(r.References) - 1; i >= 0; i-- {
		add(r.References[i])
	}
	return ids
}

// earlierThread returns, for r (which answers no waiting thread), a new
// waiting thread holding the earlier run's thread r answers and r, or nil
// when there is none, when that thread is full (maxThreadReplies, or a
// quarter of MaxBytes), or when it cannot be looked up (r then carries a
// note and is yielded on its own).
func (t *threader) earlierThread(r *Report) *thread {
	if t.earlier == nil {
		return nil
	}
	ids := answered(r)
	if len(ids) == 0 {
		return nil
	}
	ctx := t.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	et, err := t.earlier.EarlierThread(ctx, ids)
	if err != nil {
		r.note("not folded into a thread of an earlier run: %v", err)
		return nil
	}
	if et == nil || et.Report == nil {
		return nil
	}
	root := et.Report
	th := &thread{item: Item{Source: root.Source, Report: root}, seq: t.seq, msgs: []*Report{root},
		update: &et.Decided, held: map[string]bool{}, prior: max(root.ThreadSize, 1) - 1, size: reportSize(root)}
	if th.prior >= maxThreadReplies || th.size+reportSize(r) > t.maxBytes/4 {
		return nil
	}
	t.bytes += th.size
	t.register(th, root)
	for _, id := range append([]string{root.MessageID}, root.Replies...) {
		th.held[id] = true
		t.register(th, &Report{MessageID: id})
	}
	if s := normSubject(root.Subject); len(s) >= minThreadSubject && t.bySubject[s] == nil {
		t.bySubject[s] = th
		th.subj = s
	}
	if r.MessageID == "" || !th.held[r.MessageID] {
		th.msgs = append(th.msgs, r)
		th.size += reportSize(r)
		t.bytes += reportSize(r)
		t.register(th, r)
	}
	return th
}

// updated is the report of a thread of an earlier run: that thread with
// the new replies folded in after its own, marked with what was decided
// then. With no new reply (every message was folded in then), it is the
// thread as it was screened.
func updated(th *thread) Item {
	root := th.msgs[0]
	if len(th.msgs) == 1 {
		return Item{Source: root.Source, Report: root}
	}
	out := extend(root, th.msgs[1:])
	out.Replies = slices.Clone(root.Replies)
	u := *th.update
	u.NewReplies = nil
	for _, m := range th.msgs[1:] {
		out.Replies = append(out.Replies, m.ID)
		u.NewReplies = append(u.NewReplies, m.ID)
	}
	out.Updates = &u
	return Item{Source: out.Source, Report: out}
}

// markUpdate marks a thread joined within the input as an update when an
// earlier run screened the same root with fewer of its replies (an input
// read whole again, with replies that arrived since).
func (t *threader) markUpdate(joined *Report) {
	if t.earlier == nil || joined.MessageID == "" {
		return
	}
	ctx := t.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	et, err := t.earlier.EarlierThread(ctx, []string{joined.MessageID})
	if err != nil {
		joined.note("not compared with the threads of earlier runs: %v", err)
		return
	}
	if et == nil || et.Report == nil || et.Report.ID != joined.ID || et.Report.Hash == joined.Hash {
		return
	}
	u := et.Decided
	u.NewReplies = nil
	for _, id := range joined.Replies {
		if !slices.Contains(et.Report.Replies, id) {
			u.NewReplies = append(u.NewReplies, id)
		}
	}
	if len(u.NewReplies) > 0 {
		joined.Updates = &u
	}
}

// flush yields every thread still waiting.
func (t *threader) flush() bool {
	if t.stopped {
		return false
	}
	return t.drain(true)
}

// threadable reports whether r can start or join a thread: a mail, or a
// JSONL line whose raw message has threading headers. A "Re:" subject
// alone threads mail only: a text file or JSONL text may start with "Re:"
// without answering anything.
func threadable(r *Report) bool {
	switch {
	case r.Format == FormatText:
		return false
	case r.MessageID != "" || r.InReplyTo != "" || len(r.References) > 0:
		return true
	}
	return r.Format != FormatJSONL && isReplySubject(r.Subject)
}

func reportSize(r *Report) int64 {
	n := int64(len(r.Body) + len(r.Subject))
	for _, a := range r.Attachments {
		n += int64(len(a.Text))
	}
	return n
}

// replyPrefix matches the reply markers mail programs put before a
// subject, in several languages, repeated or counted ("Re[2]:").
var replyPrefix = lazyre.New(`(?i)^\s*(?:(?:re|aw|sv|vs|antw|odp|r|ynt)(?:\[\d+\])?\s*:\s*)+`)

func isReplySubject(s string) bool { return replyPrefix.MatchString(s) }

// normSubject is a subject without its reply markers, white space folded,
// lower case: what a reply and its report have in common.
func normSubject(s string) string {
	s = replyPrefix.ReplaceAllString(s, "")
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
