// Package history keeps every screened report and its result, so that a
// team knows, for each new report, whether it (or one very like it) was
// screened before and what was decided.
//
// One Store interface has two implementations over the same schema and
// SQL: an embedded SQLite file (pure Go, no cgo; the default, under the
// user's data directory) for one person, and PostgreSQL (a postgres://
// DSN) for a team sharing one history. Open picks by the target's form.
//
// The schema is versioned (see migrations): opening a store brings it up
// to date in transactions, so a store written by an older secscreen is
// migrated, and one written by a newer one is refused. Each recorded
// result is its own transaction: a run that crashes loses nothing it
// recorded. Recording the same report again (the same id and raw input)
// updates its entry.
package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/dedup"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Store is a history of screened reports. Both implementations (SQLite and
// PostgreSQL) pass the same test suite. A Store is safe for concurrent
// use, by goroutines and by processes sharing it.
type Store interface {
	// Lookup and Record make a Store the past of a dedup.Tracker.
	dedup.Past
	// Get returns the entries a reference names: "#N" or N for a history
	// id, else a report id (every version of it, newest first). Entries
	// come with their report and result.
	Get(ctx context.Context, ref string) ([]Entry, error)
	// Search returns the entries whose subject or text contain every word
	// (case-insensitive), newest first, at most limit.
	Search(ctx context.Context, words []string, limit int) ([]Entry, error)
	// Each calls fn for every entry in history id order, with its report
	// and result when full is set, until fn returns an error.
	Each(ctx context.Context, full bool, fn func(Entry) error) error
	// EarlierThread returns the thread a reply answers: the newest entry
	// first recorded before before that holds a message one of ids names
	// (its Message-ID, or a reply folded into it), trying ids in order,
	// with its report (hidden parts included when kept) and what was
	// decided; nil when there is none.
	EarlierThread(ctx context.Context, ids []string, before time.Time) (*intake.EarlierThread, error)
	// SetLabel records the team's decision about an entry, replacing an
	// earlier label.
	SetLabel(ctx context.Context, historyID int64, l Label) error
	// Version returns the schema version the store is at.
	Version(ctx context.Context) (int, error)
	// String describes the store without secrets ("sqlite PATH",
	// "postgres HOST/DB").
	String() string
	// Close releases the store.
	Close() error
}

// Entry is one report in the history.
type Entry struct {
	// HistoryID is the entry's id in this history.
	HistoryID int64 `json:"history_id"`
	// ID is the report's id; Hash the SHA-256 of its raw input.
	ID   string `json:"id"`
	Hash string `json:"hash"`
	// Source, Subject and From are the report's; Date is its Date header.
	Source  string    `json:"source"`
	Subject string    `json:"subject"`
	From    string    `json:"from,omitempty"`
	Date    time.Time `json:"date,omitzero"`
	// Verdict, Category, Decision, Confidence and NeedsReview are the
	// result of the latest screening.
	Verdict     threatmodel.Verdict `json:"verdict"`
	Category    string              `json:"category"`
	Decision    screener.Decision   `json:"decision"`
	Confidence  float64             `json:"confidence"`
	NeedsReview bool                `json:"needs_review"`
	// Label is the team's decision, nil until one is recorded.
	Label *Label `json:"label"`
	// DuplicateOf is what the latest screening found it duplicates.
	DuplicateOf []screener.DuplicateOf `json:"duplicate_of"`
	// FirstSeen and Screened are when it was first and last screened;
	// Screenings counts the screenings.
	FirstSeen  time.Time `json:"first_seen"`
	Screened   time.Time `json:"screened"`
	Screenings int       `json:"screenings"`
	// Report and Result are the report and the latest result in full (Get,
	// and Each with full).
	Report *intake.Report   `json:"report,omitempty"`
	Result *screener.Result `json:"result,omitempty"`
	// Fingerprint is what duplicate detection knows of the report.
	Fingerprint dedup.Fingerprint `json:"-"`
}

// Final returns the entry's decision: the team's label when there is one,
// else the screening's.
func (e Entry) Final() (verdict threatmodel.Verdict, category string, labeled bool) {
	if e.Label != nil {
		return e.Label.Verdict, e.Label.Category, true
	}
	return e.Verdict, e.Category, false
}

// Label is the team's final decision about a report: a verdict and
// category (on the wire "verdict" and "category", as before) and who
// decided, when and why.
type Label struct {
	threatmodel.Label
	Note string    `json:"note,omitempty"`
	By   string    `json:"by,omitempty"`
	At   time.Time `json:"at"`
}

// DefaultPath is where the history lives when none is named:
// $XDG_DATA_HOME/secscreen/history.db, else the platform's user data
// directory (~/.local/share on Linux).
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "secscreen", "history.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("history: no home directory for the default history (name one with --history): %w", err)
	}
	switch runtime.GOOS {
	case "darwin":
		return filepath.Join(home, "Library", "Application Support", "secscreen", "history.db"), nil
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "secscreen", "history.db"), nil
		}
	}
	return filepath.Join(home, ".local", "share", "secscreen", "history.db"), nil
}

// IsPostgres reports whether target names a PostgreSQL server.
func IsPostgres(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

// Open opens (creating and migrating as needed) the store target names: a
// postgres:// or postgresql:// DSN, else a SQLite file path ("" for
// DefaultPath). A new SQLite file and its directory are readable by the
// user alone: the history holds embargoed reports.
func Open(ctx context.Context, target string) (Store, error) {
	if IsPostgres(target) {
		return openPostgres(ctx, target)
	}
	if target == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		target = p
	}
	return openSQLite(ctx, strings.TrimPrefix(target, "sqlite:"))
}

// ErrNotFound is returned by Get and SetLabel for an unknown reference.
var ErrNotFound = errors.New("history: no such entry")

// timeFormat writes times so that they sort as text, in both stores.
const timeFormat = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(s string) time.Time {
	t, err := time.Parse(timeFormat, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// marshal writes JSON without HTML escaping, so that a search finds "<"
// and non-ASCII text as written.
func marshal(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
