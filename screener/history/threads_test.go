package history

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/dedup"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// mailReport is synthetic(n) as a mail with a Message-ID and a hidden
// header field.
func mailReport(n int, id string) *intake.Report {
	r := synthetic(n)
	r.ID, r.MessageID, r.Format = id, id, intake.FormatMbox
	r.Hidden = []intake.Part{{Name: "header:X-Note", Text: "kept for the injection detector"}}
	return r
}

func testEarlierThread(t *testing.T, b backend) {
	s, _ := openNew(t, b)
	ctx := context.Background()
	beforeAll := time.Now().Add(-time.Minute)
	root := mailReport(11, "root@x")
	v1 := record(t, s, root, "not-security", "config.debug-feature")

	got, err := s.EarlierThread(ctx, []string{"unknown@x", "root@x"}, time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, root.Body, got.Report.Body)
	assert.Equal(t, root.Hidden, got.Report.Hidden, "the hidden parts are kept for the thread's next screening")
	assert.Equal(t, v1, got.Decided.HistoryID)
	assert.Equal(t, threatmodel.NotSecurity, got.Decided.Verdict)
	assert.Equal(t, "config.debug-feature", got.Decided.Category)
	assert.False(t, got.Decided.Labeled)
	assert.Equal(t, "agree", got.Decided.Decision)
	assert.Empty(t, got.Decided.NewReplies)

	got, err = s.EarlierThread(ctx, []string{"root@x"}, beforeAll)
	require.NoError(t, err)
	assert.Nil(t, got, "an entry first recorded after the run started is not an earlier run's")
	got, err = s.EarlierThread(ctx, []string{"unknown@x"}, time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.Nil(t, got)

	// The thread screened again with a reply: a new entry, the first kept.
	reply := mailReport(12, "reply@x")
	reply.InReplyTo = "root@x"
	v2report, err := intake.JoinThread([]*intake.Report{root, reply})
	require.NoError(t, err)
	v2report.Replies = []string{"reply@x"}
	v2 := record(t, s, v2report, "security", "isolation.memory")
	require.NotEqual(t, v1, v2)
	for _, id := range []string{"root@x", "reply@x"} {
		got, err = s.EarlierThread(ctx, []string{id}, time.Now().Add(time.Minute))
		require.NoError(t, err)
		require.NotNil(t, got, id)
		assert.Equal(t, v2, got.Decided.HistoryID, "%s: the newest version of the thread", id)
		assert.Equal(t, []string{"reply@x"}, got.Report.Replies)
		assert.Equal(t, 2, got.Report.ThreadSize)
	}
	es, err := s.Get(ctx, "root@x")
	require.NoError(t, err)
	assert.Len(t, es, 2, "the earlier screening stays in the history")

	// The team's label is the decision an update shows.
	require.NoError(t, s.SetLabel(ctx, v2, Label{Label: threatmodel.Label{Verdict: threatmodel.Security, Category: "isolation.privilege"}}))
	got, err = s.EarlierThread(ctx, []string{"reply@x"}, time.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, got.Decided.Labeled)
	assert.Equal(t, "isolation.privilege", got.Decided.Category)
}

func testEarlierThreadOfAnOlderSchema(t *testing.T, b backend) {
	ctx := context.Background()
	target := b.target(t)
	old, err := b.open(ctx, target, 3)
	require.NoError(t, err)
	r := mailReport(13, "old-root@x")
	r.Replies, r.ThreadSize = []string{"old-reply@x"}, 2
	rep, err := marshal(r)
	require.NoError(t, err)
	res, err := marshal(resultFor(r, "security", "isolation.memory"))
	require.NoError(t, err)
	then := time.Now().Add(-time.Hour)
	_, err = old.db.ExecContext(ctx, old.d.rebind(`INSERT INTO reports (report_id, content_hash, subject, verdict, category, report_json, result_json, first_seen, screened_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), r.ID, r.Hash, r.Subject, "security", "isolation.memory", rep, res, formatTime(then), formatTime(then))
	require.NoError(t, err)
	require.NoError(t, old.Close())

	s, err := b.open(ctx, target, 0)
	require.NoError(t, err)
	defer s.Close()
	got, err := s.EarlierThread(ctx, []string{"old-reply@x"}, time.Now())
	require.NoError(t, err)
	require.NotNil(t, got, "the migration indexed the replies of the entries it found")
	assert.Equal(t, "old-root@x", got.Report.ID)
	assert.Empty(t, got.Report.Hidden)
	assert.Contains(t, got.Report.Notes, noteHiddenUnknown, "what the history did not keep is said")
}

func testThreadUpdateIsNotItsOwnDuplicate(t *testing.T, b backend) {
	s, _ := openNew(t, b)
	ctx := context.Background()
	root := mailReport(14, "dup-root@x")
	t1 := dedup.NewTracker(s, dedup.Options{}, nil)
	require.Empty(t, t1.Check(ctx, 1, root))
	res := resultFor(root, "not-security", "config.debug-feature")
	t1.Record(ctx, 1, root, &res)
	require.NoError(t, t1.Err())

	// The thread with a short reply is a near-duplicate of its earlier
	// version, but as an update it is screened again, not reused.
	reply := &intake.Report{ID: "dup-reply@x", MessageID: "dup-reply@x", InReplyTo: "dup-root@x", Body: "Kernel 6.12.3.", Hash: "raw-reply"}
	joined, err := intake.JoinThread([]*intake.Report{root, reply})
	require.NoError(t, err)
	dups := dedup.NewTracker(s, dedup.Options{}, nil).Check(ctx, 1, joined)
	require.NotEmpty(t, dups, "without the update mark, the earlier version is a duplicate")
	assert.Equal(t, "dup-root@x", dups[0].ID)

	joined.Updates = &intake.ThreadUpdate{HistoryID: 1, NewReplies: []string{"dup-reply@x"}}
	assert.Empty(t, dedup.NewTracker(s, dedup.Options{}, nil).Check(ctx, 1, joined))
}
