package history

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/dedup"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// dialect is what differs between the two stores; the SQL is otherwise
// the same.
type dialect struct {
	name string
	// id, blob, real and withoutRowid spell the schema's types.
	id, blob, real, withoutRowid string
	// like is the case-insensitive LIKE operator.
	like string
	// lock serialises migrations between processes ("" when the
	// transaction's own lock does).
	lock string
	// numbered placeholders ($1) instead of ?.
	numbered bool
	// perKeyLookup: Lookup runs one query per key rather than one union
	// of them all (see lookupEachKey).
	perKeyLookup bool
}

func (d *dialect) expand(s string) string {
	return strings.NewReplacer("{{id}}", d.id, "{{blob}}", d.blob, "{{real}}", d.real, "{{without_rowid}}", d.withoutRowid).Replace(s)
}

// rebind turns ? placeholders into $1, $2... where the store needs them.
// The SQL here never has a ? inside a string literal.
func (d *dialect) rebind(q string) string {
	if !d.numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// sqlStore is a Store over database/sql.
type sqlStore struct {
	db   *sql.DB
	d    *dialect
	desc string
	now  func() time.Time

	mu      sync.Mutex
	stmts   map[int]*sql.Stmt // prepared lookups by key count
	keyStmt *sql.Stmt         // the prepared lookup of one key
}

var _ Store = (*sqlStore)(nil)

func (s *sqlStore) String() string { return s.desc }

func (s *sqlStore) Close() error {
	s.mu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	if s.keyStmt != nil {
		s.keyStmt.Close()
		s.keyStmt = nil
	}
	s.mu.Unlock()
	return s.db.Close()
}

func (s *sqlStore) Version(ctx context.Context) (int, error) { return version(ctx, s.db, s.d) }

// Record implements dedup.Past: one transaction writes the entry (or
// updates the entry of the same id and input) and its fingerprint keys.
func (s *sqlStore) Record(ctx context.Context, r *intake.Report, fp dedup.Fingerprint, res screener.Result) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("history: record %s: %w", r.ID, err)
	}
	defer tx.Rollback()
	id, err := s.insert(ctx, tx, r, fp, res)
	if err != nil {
		return 0, fmt.Errorf("history: record %s: %w", r.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("history: record %s: %w", r.ID, err)
	}
	return id, nil
}

// insert writes one entry and its keys within tx.
func (s *sqlStore) insert(ctx context.Context, tx *sql.Tx, r *intake.Report, fp dedup.Fingerprint, res screener.Result) (int64, error) {
	rep, err := marshal(r)
	if err != nil {
		return 0, err
	}
	result, err := marshal(res)
	if err != nil {
		return 0, err
	}
	dups, err := marshal(res.DuplicateOf)
	if err != nil {
		return 0, err
	}
	if res.DuplicateOf == nil {
		dups = "[]"
	}
	hidden, err := marshal(r.Hidden)
	if err != nil {
		return 0, err
	}
	if r.Hidden == nil {
		hidden = "[]"
	}
	now := formatTime(s.now())
	review := 0
	if res.NeedsReview {
		review = 1
	}
	var id int64
	err = tx.QueryRowContext(ctx, s.d.rebind(`INSERT INTO reports (report_id, content_hash, source, subject, sender, report_date,
			verdict, category, decision, confidence, needs_review, report_json, result_json, first_seen, screened_at, screenings, duplicate_of,
			hidden_json)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
		ON CONFLICT (report_id, content_hash) DO UPDATE SET
			source = excluded.source, subject = excluded.subject, sender = excluded.sender, report_date = excluded.report_date,
			verdict = excluded.verdict, category = excluded.category, decision = excluded.decision,
			confidence = excluded.confidence, needs_review = excluded.needs_review, report_json = excluded.report_json,
			result_json = excluded.result_json, screened_at = excluded.screened_at,
			screenings = reports.screenings + 1, duplicate_of = excluded.duplicate_of, hidden_json = excluded.hidden_json
		RETURNING id`),
		r.ID, r.Hash, r.Source, r.Subject, r.From, formatTime(r.Date),
		res.Verdict, res.Category, res.Decision, res.Confidence, review, rep, result, now, now, dups, hidden).Scan(&id)
	if err != nil {
		return 0, err
	}
	if err := writeFingerprint(ctx, tx, s.d, id, fp); err != nil {
		return 0, err
	}
	if err := writeThreadMessages(ctx, tx, s.d, id, threadMessages(r.MessageID, r.Replies)); err != nil {
		return 0, err
	}
	return id, nil
}

// perKey bounds the entries one key contributes to a lookup, newest
// first, so that a key shared by thousands (a much-cited CVE) cannot crowd
// out the others.
const perKey = 50

// Lookup implements dedup.Past.
func (s *sqlStore) Lookup(ctx context.Context, keys []uint64, limit int) ([]dedup.Earlier, error) {
	if len(keys) == 0 || limit <= 0 {
		return nil, nil
	}
	var ids []int64
	var err error
	if s.d.perKeyLookup {
		ids, err = s.lookupEachKey(ctx, keys, limit)
	} else {
		ids, err = s.lookupUnion(ctx, keys, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("history: lookup: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	entries, err := s.query(ctx, false, `WHERE r.id IN (`+placeholders(len(ids))+`) ORDER BY r.id DESC`, anys(ids)...)
	if err != nil {
		return nil, fmt.Errorf("history: lookup: %w", err)
	}
	out := make([]dedup.Earlier, len(entries))
	for i, e := range entries {
		out[i] = dedup.Earlier{HistoryID: e.HistoryID, ID: e.ID, Hash: e.Hash, Subject: e.Subject,
			Fingerprint: e.Fingerprint, Result: *e.Result, Seen: e.Screened, FirstSeen: e.FirstSeen}
		if e.Label != nil {
			out[i].Label = e.Label.Label
		}
	}
	return out, nil
}

// lookupUnion returns the newest perKey entries of each key, the newest
// limit of them all, in one query: one round trip to a server.
func (s *sqlStore) lookupUnion(ctx context.Context, keys []uint64, limit int) ([]int64, error) {
	stmt, err := s.lookupStmt(ctx, len(keys))
	if err != nil {
		return nil, err
	}
	args := make([]any, 0, len(keys)+1)
	for _, k := range keys {
		args = append(args, int64(k))
	}
	rows, err := stmt.QueryContext(ctx, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows, nil)
}

// lookupEachKey returns what lookupUnion does with one small query per
// key, merged here: an in-process store has no round trips to save, and
// the union of ~35 subqueries cost SQLite ~4 ms to prepare, paid by every
// run that looks up a report.
func (s *sqlStore) lookupEachKey(ctx context.Context, keys []uint64, limit int) ([]int64, error) {
	s.mu.Lock()
	stmt := s.keyStmt
	if stmt == nil {
		var err error
		stmt, err = s.db.PrepareContext(ctx, s.d.rebind(fmt.Sprintf(`SELECT rid FROM dedup_keys WHERE k = ? ORDER BY rid DESC LIMIT %d`, perKey)))
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		s.keyStmt = stmt
	}
	s.mu.Unlock()
	var ids []int64
	for _, k := range keys {
		rows, err := stmt.QueryContext(ctx, int64(k))
		if err != nil {
			return nil, err
		}
		if ids, err = scanIDs(rows, ids); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(ids, func(a, b int64) int { return cmp.Compare(b, a) })
	ids = slices.Compact(ids)
	return ids[:min(len(ids), limit)], nil
}

// scanIDs appends the ids of rows to ids and closes rows.
func scanIDs(rows *sql.Rows, ids []int64) ([]int64, error) {
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// lookupStmt returns the prepared lookup for n keys: the newest perKey
// entries of each key, the newest limit of them all. Preparing this
// statement costs more than running it, so each size is prepared once.
func (s *sqlStore) lookupStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.stmts[n]; st != nil {
		return st, nil
	}
	var q strings.Builder
	for i := range n {
		if i > 0 {
			q.WriteString(" UNION ")
		}
		fmt.Fprintf(&q, "SELECT rid FROM (SELECT rid FROM dedup_keys WHERE k = ? ORDER BY rid DESC LIMIT %d) AS t%d", perKey, i)
	}
	st, err := s.db.PrepareContext(ctx, s.d.rebind(`SELECT rid FROM (`+q.String()+`) AS c ORDER BY rid DESC LIMIT ?`))
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = map[int]*sql.Stmt{}
	}
	s.stmts[n] = st
	return st, nil
}

// Get implements Store.
func (s *sqlStore) Get(ctx context.Context, ref string) ([]Entry, error) {
	ref = strings.TrimSpace(ref)
	if n, err := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64); err == nil && n > 0 {
		es, err := s.query(ctx, true, `WHERE r.id = ?`, n)
		if err != nil {
			return nil, fmt.Errorf("history: get %s: %w", ref, err)
		}
		if len(es) > 0 || strings.HasPrefix(ref, "#") {
			if len(es) == 0 {
				return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
			}
			return es, nil
		}
	}
	es, err := s.query(ctx, true, `WHERE r.report_id = ? ORDER BY r.screened_at DESC, r.id DESC`, ref)
	if err != nil {
		return nil, fmt.Errorf("history: get %s: %w", ref, err)
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	return es, nil
}

// Search implements Store: each word must appear in the subject or the
// stored report (its text, headers and attachments).
func (s *sqlStore) Search(ctx context.Context, words []string, limit int) ([]Entry, error) {
	var where []string
	var args []any
	for _, w := range words {
		if w = strings.TrimSpace(w); w == "" {
			continue
		}
		pat := "%" + escapeLike(w) + "%"
		where = append(where, fmt.Sprintf(`(r.subject %[1]s ? ESCAPE '\' OR r.report_json %[1]s ? ESCAPE '\' OR r.report_id = ?)`, s.d.like))
		args = append(args, pat, "%"+escapeLike(jsonInner(w))+"%", w)
	}
	if len(where) == 0 {
		return nil, errors.New("history: search for what? give at least one word")
	}
	if limit <= 0 {
		limit = 50
	}
	es, err := s.query(ctx, false, `WHERE `+strings.Join(where, " AND ")+` ORDER BY r.screened_at DESC, r.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("history: search: %w", err)
	}
	return es, nil
}

// eachPage is how many entries Each reads at once.
var eachPage = 500

// Each implements Store, reading in pages so that a long history is never
// held in memory at once.
func (s *sqlStore) Each(ctx context.Context, full bool, fn func(Entry) error) error {
	page := eachPage
	var after int64
	for {
		es, err := s.query(ctx, full, `WHERE r.id > ? ORDER BY r.id LIMIT ?`, after, page)
		if err != nil {
			return fmt.Errorf("history: read: %w", err)
		}
		for _, e := range es {
			if err := fn(e); err != nil {
				return err
			}
			after = e.HistoryID
		}
		if len(es) < page {
			return nil
		}
	}
}

// SetLabel implements Store.
func (s *sqlStore) SetLabel(ctx context.Context, id int64, l Label) error {
	if l.At.IsZero() {
		l.At = s.now()
	}
	res, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO labels (rid, verdict, category, note, labeled_by, labeled_at)
		SELECT id, ?, ?, ?, ?, ? FROM reports WHERE id = ?
		ON CONFLICT (rid) DO UPDATE SET verdict = excluded.verdict, category = excluded.category, note = excluded.note,
			labeled_by = excluded.labeled_by, labeled_at = excluded.labeled_at`),
		l.Verdict, l.Category, l.Note, l.By, formatTime(l.At), id)
	if err != nil {
		return fmt.Errorf("history: label #%d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%w: #%d", ErrNotFound, id)
	}
	return nil
}

// entryColumns are read for every entry; report_json and result_json are
// added when the entry is wanted in full.
const entryColumns = `r.id, r.report_id, r.content_hash, r.source, r.subject, r.sender, r.report_date, r.verdict, r.category,
	r.decision, r.confidence, r.needs_review, r.first_seen, r.screened_at, r.screenings, r.norm_hash, r.minhash, r.signals,
	r.duplicate_of, l.verdict, l.category, l.note, l.labeled_by, l.labeled_at`

// query reads entries; tail is the WHERE/ORDER/LIMIT part with ?
// placeholders. Without full, Result holds only what a duplicate needs.
func (s *sqlStore) query(ctx context.Context, full bool, tail string, args ...any) ([]Entry, error) {
	cols := entryColumns + `, r.result_json`
	if full {
		cols += `, r.report_json`
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+cols+` FROM reports r LEFT JOIN labels l ON l.rid = r.id `+tail), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var (
			e                                 Entry
			date, first, screened, sigs, dups string
			review                            int
			minhash                           []byte
			lv                                sql.Null[threatmodel.Verdict]
			lc, ln, lby, lat                  sql.NullString
			resultJSON, reportJSON            string
			dest                              = []any{&e.HistoryID, &e.ID, &e.Hash, &e.Source, &e.Subject, &e.From, &date, &e.Verdict, &e.Category, &e.Decision, &e.Confidence, &review, &first, &screened, &e.Screenings, &e.Fingerprint.Hash, &minhash, &sigs, &dups, &lv, &lc, &ln, &lby, &lat, &resultJSON}
		)
		if full {
			dest = append(dest, &reportJSON)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		e.Date, e.FirstSeen, e.Screened = parseTime(date), parseTime(first), parseTime(screened)
		e.NeedsReview = review != 0
		if e.Fingerprint.Sig, err = dedup.ParseSignature(minhash); err != nil {
			return nil, fmt.Errorf("entry %d: %w", e.HistoryID, err)
		}
		if err := json.Unmarshal([]byte(sigs), &e.Fingerprint.Signals); err != nil {
			return nil, fmt.Errorf("entry %d: signals: %w", e.HistoryID, err)
		}
		if err := json.Unmarshal([]byte(dups), &e.DuplicateOf); err != nil {
			return nil, fmt.Errorf("entry %d: duplicate_of: %w", e.HistoryID, err)
		}
		if lv.Valid {
			e.Label = &Label{Label: threatmodel.Label{Verdict: lv.V, Category: lc.String}, Note: ln.String, By: lby.String, At: parseTime(lat.String)}
		}
		var res screener.Result
		if err := json.Unmarshal([]byte(resultJSON), &res); err != nil {
			return nil, fmt.Errorf("entry %d: result: %w", e.HistoryID, err)
		}
		e.Result = &res
		if full {
			var r intake.Report
			if err := json.Unmarshal([]byte(reportJSON), &r); err != nil {
				return nil, fmt.Errorf("entry %d: report: %w", e.HistoryID, err)
			}
			e.Report = &r
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// escapeLike escapes LIKE's wildcards (the ESCAPE character is \).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// jsonInner is how s appears inside a JSON string (without HTML
// escaping): quotes, backslashes and control characters escaped.
func jsonInner(s string) string {
	js, err := marshal(s)
	if err != nil || len(js) < 2 {
		return s
	}
	return js[1 : len(js)-1]
}
