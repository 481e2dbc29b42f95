package history

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// EarlierThreads returns what intake needs to fold a reply into a thread
// the history holds (intake.Options.EarlierThreads): the threads first
// recorded before the run started (before), so that a report this run
// records is never the root of one of its own replies, whenever it was
// recorded.
func EarlierThreads(s Store, before time.Time) intake.EarlierThreads {
	return earlierThreads{s: s, before: before}
}

type earlierThreads struct {
	s      Store
	before time.Time
}

func (e earlierThreads) EarlierThread(ctx context.Context, ids []string) (*intake.EarlierThread, error) {
	return e.s.EarlierThread(ctx, ids, e.before)
}

// noteHiddenUnknown is the note of a thread recorded before the history
// kept the header fields and HTML comments of its messages.
const noteHiddenUnknown = "the thread's header fields and HTML comments were recorded before the history kept them: text aimed at a model there is not seen again (see updates.review_flags for what its screening found)"

// EarlierThread implements Store: the entry first recorded before before
// that holds the message ids[i] names for the smallest i (as its
// Message-ID or as a reply folded into it), the newest such entry.
func (s *sqlStore) EarlierThread(ctx context.Context, ids []string, before time.Time) (*intake.EarlierThread, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT t.message_id, MAX(t.rid) FROM thread_messages t JOIN reports r ON r.id = t.rid
		WHERE t.message_id IN (`+placeholders(len(ids))+`) AND r.first_seen < ? GROUP BY t.message_id`),
		append(anys(ids), formatTime(before))...)
	if err != nil {
		return nil, fmt.Errorf("history: thread of %s: %w", ids[0], err)
	}
	holder := map[string]int64{}
	for rows.Next() {
		var m string
		var rid int64
		if err := rows.Scan(&m, &rid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("history: thread of %s: %w", ids[0], err)
		}
		holder[m] = rid
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: thread of %s: %w", ids[0], err)
	}
	var rid int64
	for _, id := range ids {
		if rid = holder[id]; rid != 0 {
			break
		}
	}
	if rid == 0 {
		return nil, nil
	}
	es, err := s.query(ctx, true, `WHERE r.id = ?`, rid)
	if err != nil || len(es) == 0 {
		return nil, fmt.Errorf("history: thread #%d: %w", rid, cmp.Or(err, ErrNotFound))
	}
	e := es[0]
	var hidden sql.NullString
	if err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT hidden_json FROM reports WHERE id = ?`), rid).Scan(&hidden); err != nil {
		return nil, fmt.Errorf("history: thread #%d: %w", rid, err)
	}
	if hidden.Valid {
		if err := json.Unmarshal([]byte(hidden.String), &e.Report.Hidden); err != nil {
			return nil, fmt.Errorf("history: thread #%d: hidden parts: %w", rid, err)
		}
	} else {
		e.Report.Notes = append(e.Report.Notes, noteHiddenUnknown)
	}
	verdict, category, labeled := e.Final()
	return &intake.EarlierThread{Report: e.Report, Decided: intake.ThreadUpdate{
		HistoryID: e.HistoryID, Screened: e.Screened, Label: threatmodel.Label{Verdict: verdict, Category: category}, Labeled: labeled,
		Decision: string(e.Decision), Confidence: e.Confidence, NeedsReview: e.NeedsReview, ReviewFlags: e.Result.ReviewFlags,
	}}, nil
}
