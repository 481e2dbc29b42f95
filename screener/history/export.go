package history

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener/dedup"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/output"
)

// Export writes every entry in the format f (ExportJSONL, ExportCSV).
func Export(ctx context.Context, s Store, f ExportFormat, w io.Writer) error {
	f, err := exportFormats.Parse(string(f))
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	if f == ExportJSONL {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return s.Each(ctx, true, func(e Entry) error { return enc.Encode(e) })
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	err = s.Each(ctx, false, func(e Entry) error {
		var lv, lc, ln, lby, lat string
		if l := e.Label; l != nil {
			lv, lc, ln, lby, lat = string(l.Verdict), l.Category, l.Note, l.By, formatTime(l.At)
		}
		var dups []string
		for _, d := range e.DuplicateOf {
			dups = append(dups, fmt.Sprintf("%s (%s %.2f)", d.ID, d.Signal, d.Similarity))
		}
		return cw.Write([]string{strconv.FormatInt(e.HistoryID, 10), csvSafe(e.ID), csvSafe(e.Source), csvSafe(e.Subject),
			csvSafe(e.From), formatTime(e.Date), string(e.Verdict), e.Category, string(e.Decision), strconv.FormatFloat(e.Confidence, 'f', 3, 64),
			strconv.FormatBool(e.NeedsReview), lv, lc, csvSafe(ln), csvSafe(lby), lat, csvSafe(strings.Join(dups, "; ")),
			formatTime(e.FirstSeen), formatTime(e.Screened), strconv.Itoa(e.Screenings)})
	})
	cw.Flush()
	return cmp.Or(err, cw.Error())
}

var csvHeader = []string{"history_id", "id", "source", "subject", "from", "date", "verdict", "category", "decision",
	"confidence", "needs_review", "label_verdict", "label_category", "label_note", "labeled_by", "labeled_at",
	"duplicate_of", "first_seen", "screened", "screenings"}

// csvSafe defuses spreadsheet formulas in text that came from a report.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// CorpusExport says what ExportCorpus wrote.
type CorpusExport struct {
	// Written counts the reports written; Skipped those left out as exact
	// duplicates of one written (a corpus holds each text once).
	Written, Skipped int
}

// ExportCorpus writes the reports the team labeled as a labeled corpus in
// dir (labels.jsonl and reports/, split dev), so that the team's own
// decisions become an evaluation set (corpus.Load reads it). dir must not
// hold a corpus already.
func ExportCorpus(ctx context.Context, s Store, dir string) (CorpusExport, error) {
	var out CorpusExport
	labelsPath := filepath.Join(dir, corpus.LabelsFile)
	if _, err := os.Stat(labelsPath); err == nil {
		return out, fmt.Errorf("history: %s exists: export into a new directory", labelsPath)
	}
	if err := os.MkdirAll(filepath.Join(dir, "reports"), 0o700); err != nil {
		return out, fmt.Errorf("history: %w", err)
	}
	var labels bytes.Buffer
	enc := json.NewEncoder(&labels)
	enc.SetEscapeHTML(false)
	seen := map[string]int64{}
	err := s.Each(ctx, true, func(e Entry) error {
		if e.Label == nil || e.Report == nil {
			return nil
		}
		h := dedup.ContentHash(e.Report)
		if _, dup := seen[h]; dup {
			out.Skipped++
			return nil
		}
		seen[h] = e.HistoryID
		id := fmt.Sprintf("hist-%06d", e.HistoryID)
		file := "reports/" + id + ".eml"
		msg, err := Message(e.Report)
		if err != nil {
			return fmt.Errorf("entry #%d: %w", e.HistoryID, err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(file)), msg, 0o600); err != nil {
			return err
		}
		notes := e.Label.Note
		if e.Label.By != "" {
			notes = strings.TrimSpace(notes + " (labeled by " + e.Label.By + ")")
		}
		l := corpus.Label{ID: id, File: file, Label: e.Label.Label, Notes: notes,
			Source: fmt.Sprintf("secscreen history #%d: report %s from %s, screened as %s/%s", e.HistoryID, e.ID, e.Source, e.Verdict, e.Category),
			Split:  corpus.SplitDev}
		out.Written++
		return enc.Encode(l)
	})
	if err != nil {
		return out, fmt.Errorf("history: corpus export: %w", err)
	}
	if err := os.WriteFile(labelsPath, labels.Bytes(), 0o600); err != nil {
		return out, fmt.Errorf("history: %w", err)
	}
	return out, nil
}

// Message writes a report back as an RFC 5322 message that intake reads
// as the same report: its headers, the body as UTF-8 text, and its text
// attachments (binary ones were never kept).
func Message(r *intake.Report) ([]byte, error) {
	var b bytes.Buffer
	h := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", name, value)
		}
	}
	h("From", encodeAddress(r.From))
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(r.Subject)))
	if !r.Date.IsZero() {
		h("Date", r.Date.Format(time.RFC1123Z))
	}
	if r.MessageID != "" {
		h("Message-ID", "<"+r.MessageID+">")
	}
	if r.InReplyTo != "" {
		h("In-Reply-To", "<"+r.InReplyTo+">")
	}
	if len(r.References) > 0 {
		h("References", "<"+strings.Join(r.References, "> <")+">")
	}
	h("MIME-Version", "1.0")
	var texts []intake.Attachment
	for _, a := range r.Attachments {
		if !a.Binary && a.Text != "" {
			texts = append(texts, a)
		}
	}
	if len(texts) == 0 {
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, r.Body); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	var parts bytes.Buffer
	mw := multipart.NewWriter(&parts)
	h("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	write := func(hdr textproto.MIMEHeader, text string) error {
		hdr.Set("Content-Transfer-Encoding", "quoted-printable")
		pw, err := mw.CreatePart(hdr)
		if err != nil {
			return err
		}
		return writeQP(pw, text)
	}
	if err := write(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}}, r.Body); err != nil {
		return nil, err
	}
	for _, a := range texts {
		ct := a.ContentType
		if !strings.HasPrefix(ct, "text/") {
			ct = "text/plain"
		}
		hdr := textproto.MIMEHeader{
			"Content-Type":        {mime.FormatMediaType(ct, map[string]string{"charset": "utf-8", "name": a.Name})},
			"Content-Disposition": {mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})},
		}
		if err := write(hdr, a.Text); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	b.Write(parts.Bytes())
	return b.Bytes(), nil
}

func writeQP(w io.Writer, text string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, text); err != nil {
		return err
	}
	return qp.Close()
}

// encodeAddress writes a From value with a non-ASCII name encoded.
func encodeAddress(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		return a.String()
	}
	return mime.QEncoding.Encode("utf-8", oneLine(from))
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Hit is an entry found by Similar.
type Hit struct {
	Summary
	// Similarity is the texts' estimated Jaccard similarity.
	Similarity float64 `json:"similarity"`
	// Duplicate says whether duplicate detection would call it one, and
	// Signal and Evidence how.
	Duplicate bool   `json:"duplicate"`
	Signal    string `json:"signal,omitempty"`
	Evidence  string `json:"evidence,omitempty"`
}

// Similar returns the entries that share an index key with r (an LSH band,
// a signal, the content), duplicates first, then by similarity; at most
// limit.
func Similar(ctx context.Context, s Store, r *intake.Report, limit int) ([]Hit, error) {
	fp := dedup.Of(r)
	opt := dedup.DefaultOptions()
	earlier, err := s.Lookup(ctx, fp.Keys(), opt.MaxCandidates)
	if err != nil {
		return nil, err
	}
	var hits []Hit
	for _, e := range earlier {
		v, c := cmp.Or(e.Label.Verdict, e.Result.Verdict), cmp.Or(e.Label.Category, e.Result.Category)
		h := Hit{Summary: Summary{HistoryID: e.HistoryID, ID: e.ID, Subject: e.Subject, Verdict: v, Category: c, Labeled: e.Label.Verdict != ""},
			Similarity: dedup.Similarity(fp.Sig, e.Fingerprint.Sig)}
		if m, ok := opt.Compare(fp, e.Fingerprint); ok {
			h.Duplicate, h.Signal, h.Evidence, h.Similarity = true, m.Signal, m.Evidence, m.Similarity
		}
		hits = append(hits, h)
	}
	slices.SortStableFunc(hits, func(a, b Hit) int {
		if a.Duplicate != b.Duplicate {
			if a.Duplicate {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Similarity, a.Similarity), cmp.Compare(b.HistoryID, a.HistoryID))
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

// WriteEntries writes one line per entry for a person.
func WriteEntries(w io.Writer, es []Entry) error {
	var b strings.Builder
	for _, e := range es {
		v, c, labeled := e.Final()
		mark := ""
		if labeled {
			mark = " (team)"
		}
		fmt.Fprintf(&b, "#%-6d %s  %-12s %-26s %s  %s\n", e.HistoryID, e.FirstSeen.Format("2006-01-02"), v, c+mark, output.Clean(e.ID), output.Clean(e.Subject))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteHits writes one line per hit for a person.
func WriteHits(w io.Writer, hits []Hit) error {
	var b strings.Builder
	for _, h := range hits {
		how := "shares a key"
		if h.Duplicate {
			how = "duplicate: " + h.Signal
			if h.Evidence != "" {
				how += " (" + h.Evidence + ")"
			}
		}
		fmt.Fprintf(&b, "#%-6d %.2f  %-12s %-22s %s  %s  [%s]\n", h.HistoryID, h.Similarity, h.Verdict, h.Category, output.Clean(h.ID), output.Clean(h.Subject), output.Clean(how))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteEntry writes one entry in full for a person: what it is, what was
// decided, what it duplicates, and its text. Everything from the report is
// cleaned of terminal control sequences.
func WriteEntry(w io.Writer, e Entry) error {
	var b strings.Builder
	c := output.Clean
	fmt.Fprintf(&b, "#%d %s\n", e.HistoryID, c(e.ID))
	fmt.Fprintf(&b, "  subject:   %s\n", c(e.Subject))
	if e.From != "" {
		fmt.Fprintf(&b, "  from:      %s\n", c(e.From))
	}
	if !e.Date.IsZero() {
		fmt.Fprintf(&b, "  date:      %s\n", e.Date.Format(time.RFC1123Z))
	}
	fmt.Fprintf(&b, "  source:    %s\n", c(e.Source))
	fmt.Fprintf(&b, "  screened:  %d time(s), first %s, last %s\n", e.Screenings, e.FirstSeen.Format(time.DateTime), e.Screened.Format(time.DateTime))
	fmt.Fprintf(&b, "  result:    %s / %s (confidence %.2f, decision %s)", e.Verdict, e.Category, e.Confidence, e.Decision)
	if e.NeedsReview {
		b.WriteString(", flagged for review")
	}
	b.WriteString("\n")
	if e.Result != nil && e.Result.Route != "" {
		fmt.Fprintf(&b, "  route:     %s\n", e.Result.Route)
	}
	if l := e.Label; l != nil {
		fmt.Fprintf(&b, "  label:     %s / %s by %s on %s", l.Verdict, l.Category, c(cmp.Or(l.By, "(unnamed)")), l.At.Format(time.DateOnly))
		if l.Note != "" {
			fmt.Fprintf(&b, ": %s", c(l.Note))
		}
		b.WriteString("\n")
	}
	for _, d := range e.DuplicateOf {
		fmt.Fprintf(&b, "  duplicate of #%d %s: %s", d.HistoryID, c(d.ID), d.Signal)
		if d.Evidence != "" {
			fmt.Fprintf(&b, " (%s)", c(d.Evidence))
		}
		fmt.Fprintf(&b, ", similarity %.2f, then %s / %s\n", d.Similarity, d.Verdict, d.Category)
	}
	if e.Report != nil {
		b.WriteString("\n")
		b.WriteString(cleanText(e.Report.Body))
		b.WriteString("\n")
		for _, a := range e.Report.Attachments {
			fmt.Fprintf(&b, "\n--- attachment %s (%s, %d bytes)", c(a.Name), c(a.ContentType), a.Size)
			if a.Text != "" {
				b.WriteString("\n" + cleanText(a.Text))
			}
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cleanText makes multi-line text from a report safe to print on a
// terminal: each line goes through output.Clean's rules but keeps its
// indentation, and the lines stay lines.
func cleanText(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		indent := len(l) - len(strings.TrimLeft(l, " \t"))
		lines[i] = strings.ReplaceAll(l[:indent], "\t", "    ") + output.Clean(l)
	}
	return strings.Join(lines, "\n")
}
