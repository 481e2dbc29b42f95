package intake

import (
	"fmt"
	"time"
)

// Report is one security report, decoded and ready for rules and models.
type Report struct {
	// ID is stable across runs: the Message-ID when there is one, else
	// Source, else a content hash.
	ID string `json:"id"`
	// Source says where the report came from: a path, path:index for
	// messages inside an mbox, Maildir or JSONL input (1-based), or "-"
	// ("-:index") for stdin.
	Source string `json:"source"`
	// Subject is the decoded Subject header; for plain text, the first
	// non-empty line (at most 200 characters).
	Subject string `json:"subject"`
	// From is the decoded From header.
	From string `json:"from,omitempty"`
	// Date is the Date header, zero when absent or unparseable.
	Date time.Time `json:"date,omitzero"`
	// Body is the text body in UTF-8.
	Body string `json:"body"`
	// Attachments are the non-body MIME parts.
	Attachments []Attachment `json:"attachments,omitempty"`
	// MessageID is the Message-ID header without angle brackets.
	MessageID string `json:"message_id,omitempty"`
	// InReplyTo is the In-Reply-To header without angle brackets.
	InReplyTo string `json:"in_reply_to,omitempty"`
	// References lists the References header's ids without angle brackets.
	References []string `json:"references,omitempty"`
	// Hash is the hex SHA-256 of the raw input bytes of this report: the
	// message as stored (after mbox unescaping), the text file, or a JSONL
	// line's "raw" or "text" value.
	Hash string `json:"hash"`
	// Format is the input format the report was read as.
	Format Format `json:"format,omitempty"`
	// ThreadSize is the number of messages JoinThread folded into this
	// report; 0 for a report read from one message or file.
	ThreadSize int `json:"thread_size,omitempty"`
	// Replies are the ids of the replies that thread grouping
	// (Options.Threads) folded into this report, in input order.
	Replies []string `json:"thread_replies,omitempty"`
	// Updates is set when this report is a thread screened in an earlier
	// run that has new replies since (Options.EarlierThreads): what was
	// decided then, and which replies are new.
	Updates *ThreadUpdate `json:"updates,omitempty"`
	// Notes record what intake had to work around while decoding (unknown
	// charset, broken MIME, truncated attachment...), one line each.
	Notes []string `json:"notes,omitempty"`
	// Hidden holds text a message carries that the fields above do not
	// show: the other header fields, decoded (Name "header:Field-Name"),
	// and the comments of HTML parts, which the body drops (Name
	// "html-comment"). Rules and prompts do not read it; detectors of text
	// aimed at a screening model do. It is not part of the report's JSON.
	Hidden []Part `json:"-"`
}

// note records a decoding problem that did not stop the report.
func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Attachment is a MIME part that is not the body.
type Attachment struct {
	// Name is the file name the sender gave, or a generated one.
	Name string `json:"name"`
	// ContentType is the media type, e.g. "text/x-csrc".
	ContentType string `json:"content_type"`
	// Size is the decoded size in bytes.
	Size int64 `json:"size"`
	// Text is the decoded content in UTF-8 for text attachments; empty for
	// binary ones, which are only listed.
	Text string `json:"text,omitempty"`
	// Binary is true when the content is not text and was not kept.
	Binary bool `json:"binary,omitempty"`
	// Truncated is true when Text holds only the first
	// Limits.MaxAttachmentBytes of a longer text attachment.
	Truncated bool `json:"truncated,omitempty"`
}

// Part is a named piece of a report's text that rules and prompts read:
// the subject, the body, or one text attachment.
type Part struct {
	// Name is "subject", "body", or "attachment:NAME".
	Name string
	// Text is the part's text.
	Text string
}

// Parts returns the report's text parts in a fixed order: subject, body,
// then each text attachment.
func (r *Report) Parts() []Part {
	parts := []Part{{Name: "subject", Text: r.Subject}, {Name: "body", Text: r.Body}}
	for _, a := range r.Attachments {
		if !a.Binary && a.Text != "" {
			parts = append(parts, Part{Name: "attachment:" + a.Name, Text: a.Text})
		}
	}
	return parts
}

// Item is what intake yields for each input unit: a Report, or the error
// that kept one input from becoming a Report. Source is always set.
type Item struct {
	// Source identifies the input unit (path, path:index, or "-").
	Source string
	// Report is set when the input was read.
	Report *Report
	// Err is set when it was not.
	Err error
}
