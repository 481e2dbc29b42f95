package intake

import "fmt"

// Default limits, chosen so that a real report with a large dmesg log or
// kernel .config attached fits, while a hostile or broken input cannot make
// intake hold more than a few tens of MiB at a time.
const (
	// DefaultMaxMessageBytes bounds one message, one plain-text file or one
	// JSONL line: 10 MiB.
	DefaultMaxMessageBytes int64 = 10 << 20
	// DefaultMaxAttachmentBytes bounds the text kept from one attachment:
	// 2 MiB.
	DefaultMaxAttachmentBytes int64 = 2 << 20
	// DefaultMaxInputBytes bounds the bytes read from one input stream (a
	// file, stdin, or the decompressed content of a gzip file): 4 GiB.
	DefaultMaxInputBytes int64 = 4 << 30
	// DefaultMaxParts bounds the MIME parts walked in one message: 1000.
	DefaultMaxParts = 1000
)

// Limits bound what intake reads, so that memory stays bounded whatever the
// input. A zero field means "use the default"; there is no "unlimited".
type Limits struct {
	// MaxMessageBytes is the largest message (one .eml file, one mbox or
	// Maildir message, one plain-text file, one JSONL line) that becomes a
	// Report. A larger unit becomes an error Item naming the limit and size.
	MaxMessageBytes int64
	// MaxAttachmentBytes is the most decoded text kept from one text
	// attachment. A longer attachment keeps its first MaxAttachmentBytes,
	// is marked Truncated (Size stays the full size), and the Report gets a
	// note. Body parts are bounded by MaxMessageBytes instead.
	MaxAttachmentBytes int64
	// MaxInputBytes is the most read from one input stream, counted after
	// gzip decompression (so a compression bomb stops here). Reading stops
	// there with an error Item for the unit being read.
	MaxInputBytes int64
	// MaxParts is the most MIME parts walked in one message; parts beyond
	// it are not decoded and the Report gets a note.
	MaxParts int
}

// DefaultLimits returns the limits used when Options.Limits is zero:
// 10 MiB per message, 2 MiB of kept text per attachment, 4 GiB per input
// stream and 1000 MIME parts per message.
func DefaultLimits() Limits {
	return Limits{
		MaxMessageBytes:    DefaultMaxMessageBytes,
		MaxAttachmentBytes: DefaultMaxAttachmentBytes,
		MaxInputBytes:      DefaultMaxInputBytes,
		MaxParts:           DefaultMaxParts,
	}
}

// withDefaults fills zero or negative fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = d.MaxMessageBytes
	}
	if l.MaxAttachmentBytes <= 0 {
		l.MaxAttachmentBytes = d.MaxAttachmentBytes
	}
	if l.MaxInputBytes <= 0 {
		l.MaxInputBytes = d.MaxInputBytes
	}
	if l.MaxParts <= 0 {
		l.MaxParts = d.MaxParts
	}
	return l
}

// LimitError reports that an input unit is larger than one of the Limits.
type LimitError struct {
	// Limit names the Limits field that was exceeded, e.g. "MaxMessageBytes".
	Limit string
	// Max is the limit's value in bytes.
	Max int64
	// Size is the size seen; when AtLeast is true reading stopped early and
	// the real size is larger.
	Size int64
	// AtLeast is true when Size is a lower bound.
	AtLeast bool
}

// Error says which limit was exceeded and by how much.
func (e *LimitError) Error() string {
	more := ""
	if e.AtLeast {
		more = "at least "
	}
	return fmt.Sprintf("%s%d bytes is over the %s limit of %d bytes", more, e.Size, limitName(e.Limit), e.Max)
}

// limitName names a Limits field as a user sets it: the command-line flag.
func limitName(field string) string {
	switch field {
	case "MaxMessageBytes":
		return "--max-message-bytes"
	case "MaxAttachmentBytes":
		return "--max-attachment-bytes"
	case "MaxInputBytes":
		return "per-input size"
	}
	return field
}
