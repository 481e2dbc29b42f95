// Package intake turns raw inputs into Reports: the decoded, UTF-8 form of
// one security report that rules and models read.
//
// # Inputs
//
// Read takes a list of inputs. Each is a file, a directory, or "-" for
// standard input (Options.Stdin). Directories are walked recursively in
// sorted name order; symlinks to files are read, symlinks to directories
// are not followed; hidden entries met in a walk (names starting with ".",
// such as .git or .DS_Store) are tool metadata, not reports, and are
// skipped, though a hidden file named as an input is read. A directory holding cur/ and new/ is a Maildir (also
// when met inside a walk): its messages in cur/ and new/ are read, tmp/ and
// dot files are skipped, and nothing is moved or changed.
//
// A directory holding a public-inbox repository (a git repository whose
// commits each add one message in a file "m", or git/N.git epochs of such
// repositories, as lore.kernel.org's mirrors keep them) is read with git,
// oldest commit first (FormatPublicInbox).
//
// The format of each file is detected from its content, never its name
// (Options.Format forces one):
//
//   - gzip (magic bytes 1f 8b), whatever the name: decompressed, then
//     detected again. Any of the formats below may be compressed.
//   - UTF-16 with a byte order mark: transcoded to UTF-8, then detected.
//   - mbox (FormatMbox): a first line "From <sender> ..." followed by a
//     header. Both mboxo and mboxrd are read: one '>' is removed from every
//     line matching ">+From ".
//   - JSONL (FormatJSONL): the first line is a JSON object. Every non-blank
//     line is one report: {"id": ..., "text": ...} or {"id": ..., "raw":
//     "<RFC 5322 message>"}, with optional "subject" and "from" overriding
//     what the text or message says. A bad line is an error for that line.
//   - email (FormatEmail): an RFC 5322 header block naming at least one
//     mail header (From, Subject, Received, ...). A leading BOM, blank
//     lines or an mbox "From " line before the headers are skipped.
//   - text (FormatText): anything else that is text. Subject is its first
//     non-empty line (at most 200 characters) and Body the whole text.
//     Invalid UTF-8 is decoded as windows-1252.
//
// Empty inputs and binary content (NUL or many control bytes) are errors.
//
// # Decoding
//
// Headers are decoded from RFC 2047 encoded words; bodies from
// quoted-printable and base64; charsets (ISO-8859-*, windows-125x, KOI8-R,
// Shift_JIS, ...) are converted to UTF-8. In multipart/alternative the
// text/plain part wins, else HTML is reduced to text. Inline text parts
// without a file name form the Body; other parts are Attachments. An
// attachment keeps its Text (repro.c, .config, dmesg logs, .syz, patches,
// inline text/x-diff) when its media type is not a binary family (image/,
// audio/, video/, font/, archives, PDF) and its content sniffs as text (no
// NUL bytes, few control bytes), whatever type the sender claimed; other
// attachments are listed by name, type and size with Binary set. A forwarded
// message (message/rfc822) becomes an attachment whose Text is its decoded
// headers and body; its own attachments follow it. Broken MIME
// degrades rather than fails: what can be read is kept (at worst the raw
// body as text), and each workaround is recorded in Report.Notes.
//
// # Items and identity
//
// Every input unit (a file, an mbox or Maildir message, a non-blank JSONL
// line) yields exactly one Item: a Report, or an error for the unit named
// in Source (a nonexistent path, an unreadable, empty or binary file, an
// oversized message, a bad JSONL line). A named directory holding no file
// yields one error Item too. Errors do not repeat Source; print both.
// Report.ID is a JSONL line's "id" when given, else the Message-ID, else
// Source ("path" or "path:N" with N counted from 1); for standard input the
// last fallback is "sha256:" and 16 hex digits of the content hash.
// Report.Hash is the hex SHA-256 of the unit's raw bytes.
//
// # Threads and incremental reading
//
// With Options.Threads, replies are folded into the report they answer
// within each input (see Options.Threads and JoinThread): the Item is the
// joined report, its Replies name the messages folded in. With
// Options.EarlierThreads as well, a reply to a thread of an earlier run
// (the history) is folded into that thread, which is yielded again with
// Report.Updates set. With Options.Since, public-inbox and Maildir inputs
// yield only what arrived since a SinceState was saved.
//
// # Limits
//
// Memory stays bounded whatever the input size (see Limits and
// DefaultLimits): a message, text file or JSONL line over
// Limits.MaxMessageBytes (10 MiB) is an error Item naming the limit and the
// size; a text attachment keeps at most Limits.MaxAttachmentBytes (2 MiB)
// and is marked Truncated; reading one input stream stops after
// Limits.MaxInputBytes (4 GiB, counted after decompression); a message
// walks at most Limits.MaxParts (1000) MIME parts.
package intake
