package intake

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// JoinThread folds the messages of one mail thread into a single report, so
// that a thread (a report, a maintainer's question, the reporter's answer)
// can be screened and labeled as one. The root is the message that replies
// to none of the others (the first such one in the order given); its
// identity, subject, sender and date are the thread's. The replies follow
// the root's body in the order given, each under a separator line naming
// its sender, date and subject, and their attachments and notes are
// appended. Hash covers every message, and ThreadSize counts them. A root
// that is itself a thread joined before (ThreadSize > 1, as the history
// keeps one) keeps its replies, and the new ones are numbered after them.
//
// A single message is returned as it is. An empty slice is an error.
func JoinThread(msgs []*Report) (*Report, error) {
	switch len(msgs) {
	case 0:
		return nil, errors.New("join thread: no messages")
	case 1:
		return msgs[0], nil
	}
	ids := map[string]bool{}
	for _, m := range msgs {
		if m.MessageID != "" {
			ids[m.MessageID] = true
		}
	}
	root := 0
	for i, m := range msgs {
		if !repliesWithin(m, ids) {
			root = i
			break
		}
	}
	replies := make([]*Report, 0, len(msgs)-1)
	replies = append(replies, msgs[:root]...)
	return extend(msgs[root], append(replies, msgs[root+1:]...)), nil
}

// extend returns root with replies folded in after the replies it holds
// already (a thread joined before, ThreadSize > 1): their bodies follow
// its body, numbered on, and their attachments, hidden parts and notes
// are appended. Hash covers root's hash and each reply's. root is not
// modified. Replies (the ids) are left to the caller.
func extend(root *Report, replies []*Report) *Report {
	out := *root
	out.Attachments = slices.Clone(out.Attachments)
	out.Notes = slices.Clone(out.Notes)
	out.Hidden = slices.Clone(out.Hidden)
	var body strings.Builder
	body.WriteString(out.Body)
	h := sha256.New()
	h.Write([]byte(root.Hash))
	n := max(root.ThreadSize, 1) - 1 // the replies root holds
	for _, m := range replies {
		n++
		h.Write([]byte(m.Hash))
		if !strings.HasSuffix(body.String(), "\n") {
			body.WriteByte('\n')
		}
		fmt.Fprintf(&body, "\n----- reply %d: from %s", n, orUnknown(m.From))
		if !m.Date.IsZero() {
			fmt.Fprintf(&body, " on %s", m.Date.UTC().Format("2006-01-02 15:04 MST"))
		}
		if m.Subject != "" {
			fmt.Fprintf(&body, ", subject %q", m.Subject)
		}
		body.WriteString(" -----\n")
		body.WriteString(m.Body)
		out.Attachments = append(out.Attachments, m.Attachments...)
		out.Hidden = append(out.Hidden, m.Hidden...)
		for _, note := range m.Notes {
			out.Notes = append(out.Notes, fmt.Sprintf("reply %d: %s", n, note))
		}
	}
	out.Body = body.String()
	out.Hash = hex.EncodeToString(h.Sum(nil))
	out.ThreadSize = n + 1
	return &out
}

// repliesWithin reports whether m answers one of the messages named in ids.
func repliesWithin(m *Report, ids map[string]bool) bool {
	if m.InReplyTo != "" && ids[m.InReplyTo] && m.InReplyTo != m.MessageID {
		return true
	}
	for _, r := range m.References {
		if ids[r] && r != m.MessageID {
			return true
		}
	}
	return false
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown sender)"
	}
	return s
}
