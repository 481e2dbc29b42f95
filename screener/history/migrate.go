package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/secscreen/secscreen/screener/dedup"
	"github.com/secscreen/secscreen/screener/intake"
)

// migration is one step of the schema. Its statements are templates:
// {{id}}, {{blob}}, {{real}} and {{without_rowid}} become each store's
// spelling. after, if set, runs in the same transaction once they have.
type migration struct {
	version int
	name    string
	stmts   []string
	after   func(ctx context.Context, tx *sql.Tx, d *dialect) error
}

// migrations are the schema's history; append, never edit one that was
// released.
var migrations = []migration{
	{
		version: 1,
		name:    "reports and their results",
		stmts: []string{
			`CREATE TABLE reports (
				id {{id}},
				report_id TEXT NOT NULL,
				content_hash TEXT NOT NULL,
				source TEXT NOT NULL DEFAULT '',
				subject TEXT NOT NULL DEFAULT '',
				sender TEXT NOT NULL DEFAULT '',
				report_date TEXT NOT NULL DEFAULT '',
				verdict TEXT NOT NULL DEFAULT '',
				category TEXT NOT NULL DEFAULT '',
				decision TEXT NOT NULL DEFAULT '',
				confidence {{real}} NOT NULL DEFAULT 0,
				needs_review INTEGER NOT NULL DEFAULT 0,
				report_json TEXT NOT NULL,
				result_json TEXT NOT NULL,
				first_seen TEXT NOT NULL,
				screened_at TEXT NOT NULL,
				screenings INTEGER NOT NULL DEFAULT 1,
				UNIQUE (report_id, content_hash)
			)`,
			`CREATE INDEX reports_report_id ON reports (report_id)`,
			`CREATE INDEX reports_first_seen ON reports (first_seen)`,
		},
	},
	{
		version: 2,
		name:    "duplicate detection: fingerprints and their index keys",
		stmts: []string{
			`ALTER TABLE reports ADD COLUMN norm_hash TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE reports ADD COLUMN minhash {{blob}}`,
			`ALTER TABLE reports ADD COLUMN signals TEXT NOT NULL DEFAULT '[]'`,
			`ALTER TABLE reports ADD COLUMN duplicate_of TEXT NOT NULL DEFAULT '[]'`,
			`CREATE TABLE dedup_keys (
				k BIGINT NOT NULL,
				rid BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
				PRIMARY KEY (k, rid)
			){{without_rowid}}`,
			`CREATE INDEX dedup_keys_rid ON dedup_keys (rid)`,
		},
		// Reports recorded before this version get their fingerprints
		// from the report they kept.
		after: backfillFingerprints,
	},
	{
		version: 3,
		name:    "the team's labels",
		stmts: []string{
			`CREATE TABLE labels (
				rid BIGINT PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
				verdict TEXT NOT NULL,
				category TEXT NOT NULL,
				note TEXT NOT NULL DEFAULT '',
				labeled_by TEXT NOT NULL DEFAULT '',
				labeled_at TEXT NOT NULL
			)`,
		},
	},
	{
		version: 4,
		name:    "threads: the messages each entry holds, and its hidden parts",
		stmts: []string{
			// NULL: recorded before this version, the hidden parts unknown.
			`ALTER TABLE reports ADD COLUMN hidden_json TEXT`,
			`CREATE TABLE thread_messages (
				message_id TEXT NOT NULL,
				rid BIGINT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
				PRIMARY KEY (message_id, rid)
			){{without_rowid}}`,
			`CREATE INDEX thread_messages_rid ON thread_messages (rid)`,
		},
		// Reports recorded before this version: their Message-ID and
		// their replies' ids, from the report they kept.
		after: backfillThreadMessages,
	},
}

// SchemaVersion is the version this secscreen writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate brings the schema up to version upTo (0: the latest), one
// transaction per step. Steps are serialised between processes: SQLite
// by its write lock (transactions begin immediate), PostgreSQL by an
// advisory lock; each step re-reads the version under the lock, so two
// processes opening a new store at once apply each step once.
//
// A store already at upTo or later is read once and left alone: the steps'
// write transactions cost every run that opened the history.
func migrate(ctx context.Context, db *sql.DB, d *dialect, upTo int) error {
	if upTo == 0 {
		upTo = SchemaVersion()
	}
	v, err := version(ctx, db, d)
	if err != nil {
		return err
	}
	if v > SchemaVersion() {
		return newerSchema(v)
	}
	if v >= upTo {
		return nil
	}
	for _, m := range migrations {
		if m.version > upTo {
			break
		}
		if err := step(ctx, db, d, m); err != nil {
			return fmt.Errorf("history: migrate to schema %d (%s): %w", m.version, m.name, err)
		}
	}
	if v, err = version(ctx, db, d); err != nil {
		return err
	}
	if v > SchemaVersion() {
		return newerSchema(v)
	}
	return nil
}

// newerSchema is the error for a store at schema v, which this secscreen
// does not know.
func newerSchema(v int) error {
	return fmt.Errorf("history: the store is at schema %d, newer than this secscreen knows (%d): upgrade secscreen", v, SchemaVersion())
}

func step(ctx context.Context, db *sql.DB, d *dialect, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if d.lock != "" {
		if _, err := tx.ExecContext(ctx, d.lock); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, d.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version >= ?`), m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil // applied already, by us earlier or by another process
	}
	for _, s := range m.stmts {
		if _, err := tx.ExecContext(ctx, d.expand(s)); err != nil {
			return err
		}
	}
	if m.after != nil {
		if err := m.after(ctx, tx, d); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, formatTime(time.Now())); err != nil {
		return err
	}
	return tx.Commit()
}

// version reads the schema version (0 for an empty store).
func version(ctx context.Context, q querier, d *dialect) (int, error) {
	var v sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	if err != nil {
		if strings.Contains(err.Error(), "schema_migrations") || strings.Contains(err.Error(), "no such table") {
			return 0, nil
		}
		return 0, fmt.Errorf("history: read the schema version: %w", err)
	}
	return int(v.Int64), nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// backfillFingerprints computes the fingerprint of every report recorded
// before schema 2 from its stored report.
func backfillFingerprints(ctx context.Context, tx *sql.Tx, d *dialect) error {
	return backfill(ctx, tx, func(js []byte) (dedup.Fingerprint, bool, error) {
		var r intake.Report
		if err := json.Unmarshal(js, &r); err != nil {
			return dedup.Fingerprint{}, false, err
		}
		return dedup.Of(&r), true, nil
	}, func(id int64, fp dedup.Fingerprint) error {
		return writeFingerprint(ctx, tx, d, id, fp)
	})
}

// backfill derives a value from every stored report (derive; false: none
// for this one) and then writes each with write, in id order. The values
// are all derived before the first is written: the reports' rows are not
// open while tx writes.
func backfill[T any](ctx context.Context, tx *sql.Tx, derive func(js []byte) (T, bool, error), write func(id int64, v T) error) error {
	type row struct {
		id int64
		v  T
	}
	var todo []row
	rows, err := tx.QueryContext(ctx, `SELECT id, report_json FROM reports ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var js []byte
		if err := rows.Scan(&id, &js); err != nil {
			return err
		}
		v, ok, err := derive(js)
		if err != nil {
			return fmt.Errorf("entry %d: %w", id, err)
		}
		if ok {
			todo = append(todo, row{id, v})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for _, r := range todo {
		if err := write(r.id, r.v); err != nil {
			return err
		}
	}
	return nil
}

// writeFingerprint stores an entry's fingerprint and replaces its keys.
func writeFingerprint(ctx context.Context, tx *sql.Tx, d *dialect, id int64, fp dedup.Fingerprint) error {
	sigs, err := marshal(fp.Signals)
	if err != nil {
		return err
	}
	if fp.Signals == nil {
		sigs = "[]"
	}
	if _, err := tx.ExecContext(ctx, d.rebind(`UPDATE reports SET norm_hash = ?, minhash = ?, signals = ? WHERE id = ?`),
		fp.Hash, fp.Sig.Bytes(), sigs, id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, d.rebind(`DELETE FROM dedup_keys WHERE rid = ?`), id); err != nil {
		return err
	}
	keys := fp.Keys()
	seen := make(map[uint64]bool, len(keys))
	var b strings.Builder
	args := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		if len(args) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?)")
		args = append(args, int64(k), id)
	}
	if len(args) == 0 {
		return nil
	}
	_, err = tx.ExecContext(ctx, d.rebind(`INSERT INTO dedup_keys (k, rid) VALUES `+b.String()), args...)
	return err
}

// backfillThreadMessages indexes the messages of every report recorded
// before schema 4 (its Message-ID and its replies' ids) from its stored
// report.
func backfillThreadMessages(ctx context.Context, tx *sql.Tx, d *dialect) error {
	return backfill(ctx, tx, func(js []byte) ([]string, bool, error) {
		var r struct {
			MessageID string   `json:"message_id"`
			Replies   []string `json:"thread_replies"`
		}
		if err := json.Unmarshal(js, &r); err != nil {
			return nil, false, err
		}
		ids := threadMessages(r.MessageID, r.Replies)
		return ids, len(ids) > 0, nil
	}, func(id int64, ids []string) error {
		return writeThreadMessages(ctx, tx, d, id, ids)
	})
}

// threadMessages lists the message ids an entry holds: the report's
// Message-ID and its replies' ids, each once.
func threadMessages(messageID string, replies []string) []string {
	var ids []string
	for _, id := range append([]string{messageID}, replies...) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// writeThreadMessages replaces the message ids an entry holds.
func writeThreadMessages(ctx context.Context, tx *sql.Tx, d *dialect, id int64, ids []string) error {
	if _, err := tx.ExecContext(ctx, d.rebind(`DELETE FROM thread_messages WHERE rid = ?`), id); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(ids))
	for _, m := range ids {
		args = append(args, m, id)
	}
	vals := strings.TrimSuffix(strings.Repeat("(?, ?), ", len(ids)), ", ")
	_, err := tx.ExecContext(ctx, d.rebind(`INSERT INTO thread_messages (message_id, rid) VALUES `+vals), args...)
	return err
}
