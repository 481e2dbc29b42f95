package intake

import (
	"strings"

	"github.com/secscreen/secscreen/internal/lazyre"
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
		if th := t.find(r); th != nil && len(th.msgs) <= maxThreadReplies &&
			th.size+reportSize(r) <= t.maxBytes/4 {
			th.msgs = append(th.msgs, r)
			th.size += reportSize(r)
			t.bytes += reportSize(r)
			t.register(th, r)
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
	if len(th.msgs) > 1 {
		joined, err := JoinThread(th.msgs)
		if err != nil {
			return t.out(Item{Source: it.Source, Err: err})
		}
		for _, m := range th.msgs {
			if m.Source != joined.Source {
				joined.Replies = append(joined.Replies, m.ID)
			}
		}
		it = Item{Source: joined.Source, Report: joined}
	}
	return t.out(it)
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
