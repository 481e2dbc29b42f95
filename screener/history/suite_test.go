package history

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/dedup"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// backend is one store implementation under the shared suite: it gives
// each test a new, empty store's target (a path or a DSN) and opens a
// target at a schema version (0: the latest).
type backend struct {
	name   string
	target func(t *testing.T) string
	open   func(ctx context.Context, target string, upTo int) (*sqlStore, error)
}

var sqliteBackend = backend{
	name:   "sqlite",
	target: func(t *testing.T) string { return filepath.Join(t.TempDir(), "sub", "history.db") },
	open:   openSQLiteAt,
}

var postgresBackend = backend{
	name:   "postgres",
	target: func(t *testing.T) string { return postgresDSN(t) },
	open:   openPostgresAt,
}

func TestSQLite(t *testing.T)   { runSuite(t, sqliteBackend) }
func TestPostgres(t *testing.T) { runSuite(t, postgresBackend) }

// runSuite is the test suite both stores pass.
func runSuite(t *testing.T, b backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b backend)
	}{
		{"RecordAndGet", testRecordAndGet},
		{"RecordingAgainUpdates", testRecordingAgainUpdates},
		{"LookupByKeys", testLookupByKeys},
		{"Labels", testLabels},
		{"Search", testSearch},
		{"EachPages", testEachPages},
		{"MigrateFromEmpty", testMigrateFromEmpty},
		{"MigrateFromOlderSchema", testMigrateFromOlderSchema},
		{"RefuseNewerSchema", testRefuseNewerSchema},
		{"OpenCurrentWhileWriting", testOpenCurrentWhileWriting},
		{"ConcurrentWriters", testConcurrentWriters},
		{"KillDuringBatchThenResume", testKillDuringBatchThenResume},
		{"DuplicatesAcrossRuns", testDuplicatesAcrossRuns},
		{"EarlierThread", testEarlierThread},
		{"EarlierThreadOfAnOlderSchema", testEarlierThreadOfAnOlderSchema},
		{"ThreadUpdateIsNotItsOwnDuplicate", testThreadUpdateIsNotItsOwnDuplicate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

// openNew opens a new, empty store of b.
func openNew(t *testing.T, b backend) (*sqlStore, string) {
	t.Helper()
	target := b.target(t)
	s, err := b.open(context.Background(), target, 0)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, target
}

// synthetic is a report with distinct text for each n.
func synthetic(n int) *intake.Report {
	words := []string{"buffer", "overflow", "socket", "driver", "netlink", "ioctl", "mount", "namespace", "refcount",
		"timer", "queue", "filter", "device", "page", "cache", "inode", "lock", "race", "user", "kernel"}
	var b strings.Builder
	for i := range 60 {
		b.WriteString(words[(n*7+i*i*13+i*n)%len(words)])
		fmt.Fprintf(&b, "%d ", (n*31+i)%97)
	}
	return &intake.Report{ID: fmt.Sprintf("r%04d@test", n), Source: fmt.Sprintf("test:%d", n), Subject: fmt.Sprintf("report %d", n),
		From: "Tester <t@example.org>", Body: b.String(), Hash: fmt.Sprintf("raw%04d", n), Date: time.Date(2025, 3, 1+n%28, 10, 0, 0, 0, time.UTC)}
}

func resultFor(r *intake.Report, verdict, category string) screener.Result {
	return screener.Result{ID: r.ID, Source: r.Source, Subject: r.Subject, Label: threatmodel.Label{Verdict: threatmodel.Verdict(verdict), Category: category},
		Confidence: 0.8, Route: "somewhere", Decision: screener.DecisionAgree, Backend: "test"}
}

func record(t *testing.T, s Store, r *intake.Report, verdict, category string) int64 {
	t.Helper()
	id, err := s.Record(context.Background(), r, dedup.Of(r), resultFor(r, verdict, category))
	require.NoError(t, err)
	return id
}

func testRecordAndGet(t *testing.T, b backend) {
	s, _ := openNew(t, b)
	ctx := context.Background()
	r := synthetic(1)
	r.Attachments = []intake.Attachment{{Name: "repro.c", ContentType: "text/x-csrc", Size: 12, Text: "int main(){}"}}
	res := resultFor(r, "security", "isolation.memory")
	res.NeedsReview = true
	res.DuplicateOf = []screener.DuplicateOf{{ID: "older@x", HistoryID: 7, Similarity: 0.6, Signal: "near", Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}}}
	id, err := s.Record(ctx, r, dedup.Of(r), res)
	require.NoError(t, err)
	assert.Positive(t, id)

	for _, ref := range []string{r.ID, "#" + strconv.FormatInt(id, 10), strconv.FormatInt(id, 10)} {
		es, err := s.Get(ctx, ref)
		require.NoError(t, err, ref)
		require.Len(t, es, 1, ref)
		e := es[0]
		assert.Equal(t, id, e.HistoryID)
		assert.Equal(t, r.ID, e.ID)
		assert.Equal(t, r.Hash, e.Hash)
		assert.Equal(t, r.Subject, e.Subject)
		assert.Equal(t, r.From, e.From)
		assert.True(t, r.Date.Equal(e.Date))
		assert.Equal(t, threatmodel.Security, e.Verdict)
		assert.Equal(t, "isolation.memory", e.Category)
		assert.True(t, e.NeedsReview)
		assert.Equal(t, 1, e.Screenings)
		assert.Equal(t, res.DuplicateOf, e.DuplicateOf)
		require.NotNil(t, e.Report)
		assert.Equal(t, r.Body, e.Report.Body)
		assert.Equal(t, r.Attachments, e.Report.Attachments)
		require.NotNil(t, e.Result)
		assert.Equal(t, "somewhere", e.Result.Route)
		assert.Equal(t, dedup.Of(r).Hash, e.Fingerprint.Hash)
		assert.Equal(t, dedup.Of(r).Sig, e.Fingerprint.Sig)
		assert.Nil(t, e.Label)
		assert.False(t, e.FirstSeen.IsZero())
	}
	_, err = s.Get(ctx, "nobody@nowhere")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.Get(ctx, "#999")
	assert.ErrorIs(t, err, ErrNotFound)
	v, err := s.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, SchemaVersion(), v)
}

func testRecordingAgainUpdates(t *testing.T, b backend) {
	s, _ := openNew(t, b)
	ctx := context.Background()
	r := synthetic(2)
	id1 := record(t, s, r, "needs-info", "info.missing")
	first, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond)
	id2 := record(t, s, r, "security", "isolation.memory")
	assert.Equal(t, id1, id2, "the same report updates its entry")
	es, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, threatmodel.Security, es[0].Verdict)
	assert.Equal(t, 2, es[0].Screenings)
	assert.Equal(t, first[0].FirstSeen, es[0].FirstSeen)
	assert.True(t, es[0].Screened.After(first[0].Screened))

	// The same id with other content (an edited file) is another entry.
	edited := *r
	edited.Hash, edited.Body = "raw-edited", r.Body+" and more"
	id3 := record(t, s, &edited, "invalid", "invalid.nonexistent")
	assert.NotEqual(t, id1, id3)
	es, err = s.Get(ctx, r.ID)
	require.NoError(t, err)
	require.Len(t, es, 2)
	assert.Equal(t, id3, es[0].HistoryID, "newest first")

	// Its keys were replaced, not added: a lookup finds it once.
	got, err := s.Lookup(ctx, dedup.Of(r).Keys(), 10)
	require.NoError(t, err)
	ids := map[int64]int{}
	for _, e := range got {
		ids[e.HistoryID]++
	}
	assert.Equal(t, 1, ids[id1])
}

func testLookupByKeys(t *testing.T, b backend) {
	s, _ := openNew(t, b)
	ctx := context.Background()
	var ids []int64
	for n := range 20 {
		ids = append(ids, record(t, s, synthetic(100+n), "not-security", "config.debug-feature"))
	}
	near := *synthetic(105)
	near.ID, near.Hash, near.Body = "near@x", "raw-near", near.Body+" one more sentence"
	got, err := s.Lookup(ctx, dedup.Of(&near).Keys(), 10)
	require.NoError(t, err)
	require.NotEmpty(t, got)
	var found *dedup.Earlier
	for i := range got {
		if got[i].HistoryID == ids[5] {
			found = &got[i]
		}
	}
	require.NotNil(t, found, "the near-duplicate shares LSH bands with its original")
	assert.Equal(t, "r0105@test", found.ID)
	assert.Equal(t, threatmodel.NotSecurity, found.Result.Verdict)
	assert.Equal(t, "somewhere", found.Result.Route)
	m, ok := dedup.DefaultOptions().Compare(dedup.Of(&near), found.Fingerprint)
	require.True(t, ok)
	assert.Equal(t, dedup.SignalNear, m.Signal)

	none, err := s.Lookup(ctx, []uint64{1, 2, 3}, 10)
	require.NoError(t, err)
	assert.Empty(t, none)

	// A key every entry has: bounded by the limit, newest first.
	shared := dedup.Signal{Kind: dedup.SignalCVE, Value: "CVE-2025-0001"}
	for n := range 12 {
		r := synthetic(200 + n)
		fp := dedup.Of(r)
		fp.Signals = append(fp.Signals, shared)
		_, err := s.Record(ctx, r, fp, resultFor(r, "security", "isolation.memory"))
		require.NoError(t, err)
	}
	fp := dedup.Fingerprint{Signals: []dedup.Signal{shared}}
	got, err = s.Lookup(ctx, fp.Keys(), 5)
	require.NoError(t, err)
	require.Len(t, got, 5)
	assert.Equal(t, "r0211@test", got[0].ID)
}

func testLabels(t *testing.T, b backend) {
	s, _ := openNew(t, b)
	ctx := context.Background()
	r := synthetic(3)
	id := record(t, s, r, "not-security", "config.debug-feature")
	at := time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC)
	require.NoError(t, s.SetLabel(ctx, id, Label{Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}, Note: "reachable unprivileged", By: "alice", At: at}))
	es, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	require.NotNil(t, es[0].Label)
	assert.Equal(t, Label{Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}, Note: "reachable unprivileged", By: "alice", At: at}, *es[0].Label)
	v, c, labeled := es[0].Final()
	assert.Equal(t, []any{threatmodel.Security, "isolation.memory", true}, []any{v, c, labeled})

	got, err := s.Lookup(ctx, dedup.Of(r).Keys(), 5)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, threatmodel.Security, got[0].Label.Verdict)

	require.NoError(t, s.SetLabel(ctx, id, Label{Label: threatmodel.Label{Verdict: "invalid", Category: "invalid.intended"}}))
	es, err = s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, threatmodel.Invalid, es[0].Label.Verdict, "a new label replaces the old")
	assert.False(t, es[0].Label.At.IsZero())

	// A screening again keeps the team's label.
	record(t, s, r, "needs-info", "info.missing")
	es, err = s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, threatmodel.Invalid, es[0].Label.Verdict)
	assert.Equal(t, threatmodel.NeedsInfo, es[0].Verdict)

	assert.ErrorIs(t, s.SetLabel(ctx, 9999, Label{Label: threatmodel.Label{Verdict: "invalid", Category: "invalid.intended"}}), ErrNotFound)
}

func testSearch(t *testing.T, b backend) {
	s, _ := openNew(t, b)
	ctx := context.Background()
	a := &intake.Report{ID: "a@x", Hash: "ha", Subject: "nf_tables: double free in nft_verdict_init", Body: "Reachable from an unprivileged user namespace; 100% reliable. Tested on Ünïcode 6.1.y <script>."}
	c := &intake.Report{ID: "c@x", Hash: "hc", Subject: "ext4 warning", Body: "A WARN_ON in ext4_xattr_set_entry with a crafted image."}
	record(t, s, a, "security", "capability.sys-admin")
	record(t, s, c, "not-security", "fs.crafted-image")
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"double", "FREE"}, []string{"a@x"}},
		{[]string{"nft_verdict_init"}, []string{"a@x"}},
		{[]string{"100%"}, []string{"a@x"}},
		{[]string{"WARN_ON"}, []string{"c@x"}},
		{[]string{"warn%on"}, nil},
		{[]string{"Ünïcode"}, []string{"a@x"}},
		{[]string{"<script>"}, []string{"a@x"}},
		{[]string{"c@x"}, []string{"c@x"}},
		{[]string{"double", "ext4"}, nil},
	} {
		got, err := s.Search(ctx, tc.words, 10)
		require.NoError(t, err, tc.words)
		var ids []string
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		assert.Equal(t, tc.want, ids, "%q", tc.words)
	}
	_, err := s.Search(ctx, []string{" "}, 10)
	assert.Error(t, err)
}

func testEachPages(t *testing.T, b backend) {
	defer func(p int) { eachPage = p }(eachPage)
	eachPage = 3
	s, _ := openNew(t, b)
	ctx := context.Background()
	for n := range 10 {
		record(t, s, synthetic(300+n), "invalid", "invalid.intended")
	}
	var seen []string
	require.NoError(t, s.Each(ctx, true, func(e Entry) error {
		require.NotNil(t, e.Report)
		seen = append(seen, e.ID)
		return nil
	}))
	assert.Len(t, seen, 10)
	assert.Equal(t, "r0300@test", seen[0])
	assert.Equal(t, "r0309@test", seen[9])
	stop := errors.New("stop")
	n := 0
	err := s.Each(ctx, false, func(e Entry) error {
		assert.Nil(t, e.Report)
		if n++; n == 4 {
			return stop
		}
		return nil
	})
	assert.ErrorIs(t, err, stop)
}

func testMigrateFromEmpty(t *testing.T, b backend) {
	s, target := openNew(t, b)
	ctx := context.Background()
	v, err := s.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, SchemaVersion(), v)
	rows, err := s.db.QueryContext(ctx, `SELECT version, name FROM schema_migrations ORDER BY version`)
	require.NoError(t, err)
	var got []int
	for rows.Next() {
		var v int
		var name string
		require.NoError(t, rows.Scan(&v, &name))
		assert.NotEmpty(t, name)
		got = append(got, v)
	}
	require.NoError(t, rows.Close())
	assert.Equal(t, []int{1, 2, 3, 4}, got)
	// Opening again applies nothing twice.
	s2, err := b.open(ctx, target, 0)
	require.NoError(t, err)
	defer s2.Close()
	var n int
	require.NoError(t, s2.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n))
	assert.Equal(t, 4, n)
}

func testMigrateFromOlderSchema(t *testing.T, b backend) {
	ctx := context.Background()
	target := b.target(t)
	// A store written by a secscreen that knew schema 1 only: reports and
	// results, no fingerprints, no labels.
	old, err := b.open(ctx, target, 1)
	require.NoError(t, err)
	r := synthetic(4)
	rep, err := marshal(r)
	require.NoError(t, err)
	res, err := marshal(resultFor(r, "security", "isolation.memory"))
	require.NoError(t, err)
	_, err = old.db.ExecContext(ctx, old.d.rebind(`INSERT INTO reports (report_id, content_hash, subject, verdict, category, report_json, result_json, first_seen, screened_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), r.ID, r.Hash, r.Subject, "security", "isolation.memory", rep, res, formatTime(time.Now()), formatTime(time.Now()))
	require.NoError(t, err)
	v, err := old.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, v)
	require.NoError(t, old.Close())

	s, err := b.open(ctx, target, 0)
	require.NoError(t, err)
	defer s.Close()
	v, err = s.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, SchemaVersion(), v)
	// The old entry got its fingerprint: a resend of it is found.
	resend := *r
	resend.ID, resend.Hash = "resend@x", "raw-resend"
	got, err := s.Lookup(ctx, dedup.Of(&resend).Keys(), 5)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, r.ID, got[0].ID)
	assert.Equal(t, dedup.Of(r).Hash, got[0].Fingerprint.Hash)
	// And the tables of later versions work on it.
	require.NoError(t, s.SetLabel(ctx, got[0].HistoryID, Label{Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}}))
	es, err := s.Get(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, es[0].Screenings)
	assert.NotNil(t, es[0].Label)
}

func testRefuseNewerSchema(t *testing.T, b backend) {
	s, target := openNew(t, b)
	ctx := context.Background()
	_, err := s.db.ExecContext(ctx, s.d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), 99, "from the future", formatTime(time.Now()))
	require.NoError(t, err)
	_, err = b.open(ctx, target, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "newer than this secscreen knows")
}

// Opening a store already at the latest schema only reads its version: it
// does not wait for a writer that holds the store's write lock (SQLite)
// or the migration lock (PostgreSQL), as the migration steps' write
// transactions did on every open.
func testOpenCurrentWhileWriting(t *testing.T, b backend) {
	s, target := openNew(t, b)
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	if s.d.lock != "" {
		_, err = tx.ExecContext(ctx, s.d.lock)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE reports SET screenings = screenings + 1`)
	}
	require.NoError(t, err)
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s2, err := b.open(ctx2, target, 0)
	require.NoError(t, err, "a current store opens while another process writes")
	require.NoError(t, s2.Close())
}

func testConcurrentWriters(t *testing.T, b backend) {
	_, target := openNew(t, b)
	ctx := context.Background()
	// Four writers, each with its own store (its own connections, as four
	// processes would have), write 15 reports each; five of those are
	// written by all four.
	const writers, each, shared = 4, 15, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := b.open(ctx, target, 0)
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			for i := range each {
				n := 1000 + w*100 + i
				if i < shared {
					n = 900 + i
				}
				r := synthetic(n)
				if _, err := s.Record(ctx, r, dedup.Of(r), resultFor(r, "invalid", "invalid.intended")); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s, err := b.open(ctx, target, 0)
	require.NoError(t, err)
	defer s.Close()
	total, screenings := 0, 0
	require.NoError(t, s.Each(ctx, false, func(e Entry) error {
		total++
		screenings += e.Screenings
		if strings.HasPrefix(e.ID, "r09") {
			assert.Equal(t, writers, e.Screenings, e.ID)
		}
		return nil
	}))
	assert.Equal(t, writers*(each-shared)+shared, total)
	assert.Equal(t, writers*each, screenings)
}

// helperEnv names the store a helper process writes to (see TestMain).
const helperEnv = "SECSCREEN_HISTORY_HELPER_STORE"

// killBatch is the size of the batch the helper writes.
const killBatch = 60

// helperWriter records a batch of reports, one transaction each, and
// says on standard output after each commit; it is killed part way.
func helperWriter(target string) int {
	ctx := context.Background()
	s, err := Open(ctx, target)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for n := range killBatch {
		r := synthetic(5000 + n)
		if _, err := s.Record(ctx, r, dedup.Of(r), resultFor(r, "not-security", "config.debug-feature")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("committed %d\n", n)
		time.Sleep(5 * time.Millisecond)
	}
	return 0
}

func testKillDuringBatchThenResume(t *testing.T, b backend) {
	_, target := openNew(t, b)
	ctx := context.Background()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+target)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	committed := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		fmt.Sscanf(sc.Text(), "committed %d", &committed)
		if committed >= 20 {
			break
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()
	require.GreaterOrEqual(t, committed, 20, "the helper wrote its batch")
	require.Less(t, committed, killBatch-1, "killed part way")

	s, err := b.open(ctx, target, 0)
	require.NoError(t, err)
	defer s.Close()
	if b.name == "sqlite" {
		var ok string
		require.NoError(t, s.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok))
		assert.Equal(t, "ok", ok)
	}
	have := map[string]int{}
	require.NoError(t, s.Each(ctx, false, func(e Entry) error { have[e.ID] = e.Screenings; return nil }))
	for n := 0; n <= committed; n++ {
		assert.Contains(t, have, synthetic(5000+n).ID, "committed before the kill")
	}
	// Resume: the whole batch again. Every report ends up there once.
	for n := range killBatch {
		r := synthetic(5000 + n)
		_, err := s.Record(ctx, r, dedup.Of(r), resultFor(r, "not-security", "config.debug-feature"))
		require.NoError(t, err)
	}
	have = map[string]int{}
	require.NoError(t, s.Each(ctx, false, func(e Entry) error { have[e.ID] = e.Screenings; return nil }))
	assert.Len(t, have, killBatch)
	for n := 0; n <= committed; n++ {
		assert.Equal(t, 2, have[synthetic(5000+n).ID])
	}
}

func testDuplicatesAcrossRuns(t *testing.T, b backend) {
	s, _ := openNew(t, b)
	ctx := context.Background()
	// Run 1 records a report through a Tracker; run 2 finds its resend.
	r := synthetic(6)
	t1 := dedup.NewTracker(s, dedup.Options{}, nil)
	assert.Empty(t, t1.Check(ctx, 1, r))
	res := resultFor(r, "security", "isolation.memory")
	t1.Record(ctx, 1, r, &res)
	require.NoError(t, t1.Err())

	resend := *r
	resend.ID, resend.Hash, resend.Subject = "resend@x", "raw-resend", "Fwd: "+r.Subject
	t2 := dedup.NewTracker(s, dedup.Options{}, nil)
	dups := t2.Check(ctx, 1, &resend)
	require.Len(t, dups, 1)
	assert.Equal(t, r.ID, dups[0].ID)
	assert.Equal(t, dedup.SignalExact, dups[0].Signal)
	assert.Equal(t, threatmodel.Security, dups[0].Verdict)
	p, ok, _ := t2.Prior(1, dups[0])
	require.True(t, ok)
	assert.Equal(t, threatmodel.Security, p.Result.Verdict)
	// The report itself, screened again, is not its own duplicate.
	assert.Empty(t, dedup.NewTracker(s, dedup.Options{}, nil).Check(ctx, 1, r))
}
