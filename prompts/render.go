package prompts

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// SystemData is what a system template sees. It holds nothing about any
// report, so the system message is the same for every report.
type SystemData struct {
	// ModelName is the threat model's name.
	ModelName string
	// Groups are the model's clauses grouped by verdict, in the order of
	// threatmodel.Verdicts; verdicts without clauses are left out.
	Groups []ClauseGroup
	// Schema is the answer's JSON Schema, compact.
	Schema string

	model *threatmodel.Model
}

// Has reports whether the threat model defines category id; templates use
// it to mention a category only when it exists.
func (d SystemData) Has(id string) bool {
	_, ok := d.model.Clause(id)
	return ok
}

// ClauseGroup is the clauses of one verdict.
type ClauseGroup struct {
	Verdict threatmodel.Verdict
	Clauses []threatmodel.Clause
}

// UserData is what a user template sees.
type UserData struct {
	// Boundary is the fence token.
	Boundary string
	// Shots are the examples, in order.
	Shots []ShotData
	// Report is the report to screen.
	Report ReportData
	// Truncated is true when Report was cut.
	Truncated bool
}

// ShotData is one example as a template sees it: its label (.Verdict,
// .Category), why it applies (.Note) and the report.
type ShotData struct {
	threatmodel.Label
	Note   string
	Report ReportData
}

// ReportData is a report prepared for a template: fields as display
// strings, text attachments (possibly cut) and binary attachments listed.
type ReportData struct {
	Subject     string
	From        string
	Date        string // RFC 1123 with numeric zone, or "unknown"
	Body        string
	Attachments []AttachmentData // text attachments shown
	Binary      []AttachmentData // attachments listed but not shown
}

// AttachmentData is one attachment as a template sees it.
type AttachmentData struct {
	Name        string
	ContentType string
	Size        int64
	Text        string
}

// TruncationMarker starts the line that replaces text cut from a report.
const TruncationMarker = "[secscreen: text cut here"

// Render applies the template to a report. The system message depends only
// on the template and tm; the user message carries the examples and the
// report, each fenced between lines with the boundary token.
func (t *Template) Render(tm *threatmodel.Model, r *intake.Report, opt Options) (Rendered, error) {
	if tm == nil {
		return Rendered{}, errors.New("render prompt: no threat model")
	}
	if r == nil {
		return Rendered{}, errors.New("render prompt: no report")
	}
	if opt.MaxBodyChars < 0 {
		return Rendered{}, fmt.Errorf("render prompt: negative MaxBodyChars %d", opt.MaxBodyChars)
	}
	system, schema, err := t.systemAndSchema(tm)
	if err != nil {
		return Rendered{}, err
	}

	data := UserData{}
	var texts []string
	data.Report, data.Truncated = reportData(r, opt.MaxBodyChars)
	texts = append(texts, reportTexts(r)...)
	for i, s := range opt.Shots {
		if s.Report == nil {
			return Rendered{}, fmt.Errorf("render prompt: example %d has no report", i+1)
		}
		rd, _ := reportData(s.Report, opt.MaxBodyChars)
		data.Shots = append(data.Shots, ShotData{Label: s.Label, Note: s.Note, Report: rd})
		texts = append(texts, reportTexts(s.Report)...)
		texts = append(texts, s.Note, string(s.Verdict), s.Category)
	}
	data.Boundary, err = pickBoundary(opt.Boundary, texts)
	if err != nil {
		return Rendered{}, err
	}
	var user bytes.Buffer
	if err := t.user.Execute(&user, data); err != nil {
		return Rendered{}, fmt.Errorf("render prompt %s (user): %w", t.ID(), err)
	}
	return Rendered{
		System:     system,
		User:       user.String(),
		Schema:     schema,
		SchemaName: SchemaName,
		Truncated:  data.Truncated,
		Boundary:   data.Boundary,
	}, nil
}

// systemAndSchema is System and Schema for tm, computed once per template
// and threat model: both are the same for every report, and rendering them
// (the schema's JSON, the whole threat model) was a tenth of the client's
// CPU per report at high concurrency. Threat models are not changed once
// built.
func (t *Template) systemAndSchema(tm *threatmodel.Model) (string, json.RawMessage, error) {
	key := memoKey{t, tm}
	if m, ok := systemMemo.Load(key); ok {
		v := m.(memoValue)
		return v.system, v.schema, nil
	}
	system, err := t.System(tm)
	if err != nil {
		return "", nil, err
	}
	v := memoValue{system, Schema(tm)}
	systemMemo.Store(key, v)
	return v.system, v.schema, nil
}

type memoKey struct {
	t  *Template
	tm *threatmodel.Model
}

type memoValue struct {
	system string
	schema json.RawMessage
}

// systemMemo maps memoKey to memoValue.
var systemMemo sync.Map

// System renders the system message alone: the same bytes for every
// report under one template and threat model.
func (t *Template) System(tm *threatmodel.Model) (string, error) {
	if tm == nil {
		return "", errors.New("render prompt: no threat model")
	}
	sd := SystemData{ModelName: tm.Name, Schema: string(Schema(tm)), model: tm}
	for _, v := range threatmodel.Verdicts {
		var g ClauseGroup
		g.Verdict = v
		for _, id := range tm.IDs(v) {
			c, _ := tm.Clause(id)
			g.Clauses = append(g.Clauses, c)
		}
		if len(g.Clauses) > 0 {
			sd.Groups = append(sd.Groups, g)
		}
	}
	var b bytes.Buffer
	if err := t.system.Execute(&b, sd); err != nil {
		return "", fmt.Errorf("render prompt %s (system): %w", t.ID(), err)
	}
	return b.String(), nil
}

// reportTexts returns every piece of report text that ends up inside the
// fence, for the boundary check.
func reportTexts(r *intake.Report) []string {
	out := []string{r.Subject, r.From, r.Body}
	for _, a := range r.Attachments {
		out = append(out, a.Name, a.ContentType, a.Text)
	}
	return out
}

// reportData prepares a report for a template, cutting body and text
// attachments to max runes in total (0: no limit).
func reportData(r *intake.Report, max int) (ReportData, bool) {
	rd := ReportData{Subject: oneLine(r.Subject), From: oneLine(r.From), Date: "unknown"}
	if !r.Date.IsZero() {
		rd.Date = r.Date.Format(time.RFC1123Z)
	}
	budget := max
	truncated := false
	take := func(s string) string {
		if max == 0 {
			return s
		}
		n := utf8.RuneCountInString(s)
		if n <= budget {
			budget -= n
			return s
		}
		truncated = true
		cut := cutRunes(s, budget)
		budget = 0
		return cut + "\n" + TruncationMarker + fmt.Sprintf(": %d more characters not shown]", n-utf8.RuneCountInString(cut))
	}
	rd.Body = take(strings.TrimRight(r.Body, "\n"))
	for _, a := range r.Attachments {
		ad := AttachmentData{Name: oneLine(a.Name), ContentType: oneLine(a.ContentType), Size: a.Size}
		if a.Binary || a.Text == "" {
			rd.Binary = append(rd.Binary, ad)
			continue
		}
		ad.Text = take(strings.TrimRight(a.Text, "\n"))
		rd.Attachments = append(rd.Attachments, ad)
	}
	return rd, truncated
}

// cutRunes returns the first n runes of s.
func cutRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// oneLine folds a header value onto one line, so that a crafted subject
// cannot start a line of its own inside the fence.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// pickBoundary returns want when it is usable (non-empty, one word, and
// absent from every text), else a fresh random token that is absent.
func pickBoundary(want string, texts []string) (string, error) {
	if want != "" && strings.ContainsAny(want, " \t\r\n<>") {
		return "", fmt.Errorf("render prompt: boundary %q must be one word without angle brackets", want)
	}
	absent := func(tok string) bool {
		for _, t := range texts {
			if strings.Contains(t, tok) {
				return false
			}
		}
		return true
	}
	if want != "" && absent(want) {
		return want, nil
	}
	for range 8 {
		tok, err := randomToken()
		if err != nil {
			return "", err
		}
		if absent(tok) {
			return tok, nil
		}
	}
	return "", errors.New("render prompt: could not pick a boundary token absent from the report")
}

// randomToken returns 128 random bits as hex.
func randomToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("render prompt: random boundary: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
