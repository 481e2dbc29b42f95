package screener_test

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/benchsupport"
	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/dedup"
	"github.com/secscreen/secscreen/screener/history"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// jitteryModel answers each report with a label that depends on the report
// alone, after a random delay of up to 3 ms, so that the calls of a run
// end in an order that varies from run to run.
type jitteryModel struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func (m *jitteryModel) Name() string  { return "jittery" }
func (m *jitteryModel) Model() string { return "test-model" }
func (m *jitteryModel) Complete(ctx context.Context, req backend.Request) (backend.Reply, error) {
	m.mu.Lock()
	d := time.Duration(m.rng.IntN(3000)) * time.Microsecond
	m.mu.Unlock()
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return backend.Reply{}, ctx.Err()
	}
	h := fnv.New32a()
	h.Write([]byte(req.ReportID))
	v, c := "not-security", "config.debug-feature"
	if h.Sum32()%3 == 0 {
		v, c = "security", "capability.sys-admin"
	}
	b, err := json.Marshal(prompts.Answer{Label: threatmodel.Label{Verdict: threatmodel.Verdict(v), Category: c}, Confidence: 0.9,
		AttackerPrivileges: "unprivileged local user", BoundaryCrossed: "none",
		MissingInformation: []string{}, AIGeneratedSigns: []string{}, Rationale: "test", CitedClauses: []string{c}})
	if err != nil {
		return backend.Reply{}, err
	}
	return backend.Reply{Content: string(b), Usage: backend.Usage{Backend: "jittery", Model: "test-model", Attempts: 1}}, nil
}

// The rows of a run are the same whatever its concurrency, whether they
// are emitted in input order or as they are done, and from one run to the
// next: in particular each duplicate_of entry names the earlier report's
// decision (and history id) even when the report that duplicates it is
// done first. Only the times differ (when a report was seen, how long a
// call took).
func TestRowsAreTheSameFromRunToRun(t *testing.T) {
	reports := benchsupport.SynthReports(t, 200, 5)
	tm := threatmodel.Kernel()
	eng, err := rules.NewEngine(tm, rules.KernelRules(), rules.Options{})
	require.NoError(t, err)
	prompt, err := prompts.Load("")
	require.NoError(t, err)
	ctx := context.Background()

	run := func(t *testing.T, seed uint64, j int, asDone, withHistory bool) map[string]string {
		t.Helper()
		var past dedup.Past
		if withHistory {
			st, err := history.Open(ctx, filepath.Join(t.TempDir(), "history.db"))
			require.NoError(t, err)
			defer st.Close()
			past = st
		}
		tr := dedup.NewTracker(past, dedup.Options{}, func(err error) { t.Error(err) })
		defer tr.Close()
		m := &jitteryModel{rng: rand.New(rand.NewPCG(seed, 7))}
		llm, err := screener.NewLLM(screener.LLMConfig{Backend: m, Prompt: prompt, ThreatModel: tm})
		require.NoError(t, err)
		s, err := screener.New(screener.Config{ThreatModel: tm, Rules: eng, Classifier: llm,
			Concurrency: j, EmitAsDone: asDone, Duplicates: tr})
		require.NoError(t, err)
		rows := map[string]string{}
		var order []string
		// The history numbers its entries in the order they are recorded:
		// as they are done, when emitted so. Each earlier report is then
		// named by the same number in every entry that names it, and the
		// numbers are left out of the comparison.
		historyIDs := map[string]int64{}
		s.Run(ctx, func(yield func(intake.Item) bool) {
			for _, r := range reports {
				if !yield(intake.Item{Source: r.Source, Report: r}) {
					return
				}
			}
		}, func(res screener.Result) {
			if res.Model != nil {
				res.Model.Usage.Latency = 0
			}
			for i := range res.DuplicateOf {
				d := &res.DuplicateOf[i]
				d.Seen = time.Time{}
				if withHistory && asDone {
					if hid, ok := historyIDs[d.ID]; ok {
						assert.Equal(t, hid, d.HistoryID, "%s in %s", d.ID, res.Source)
					}
					historyIDs[d.ID] = d.HistoryID
					d.HistoryID = 0
				}
			}
			b, err := json.Marshal(res)
			require.NoError(t, err)
			rows[res.Source] = string(b)
			order = append(order, res.Source)
		})
		require.Len(t, rows, len(reports))
		if !asDone {
			var want []string
			for _, r := range reports {
				want = append(want, r.Source)
			}
			require.Equal(t, want, order, "input order")
		}
		return rows
	}

	for _, withHistory := range []bool{false, true} {
		t.Run(fmt.Sprintf("history %v", withHistory), func(t *testing.T) {
			want := run(t, 1, 1, false, withHistory)
			unnumbered := want
			if withHistory {
				unnumbered = run(t, 1, 1, true, withHistory)
			}
			for _, rows := range []map[string]string{want, unnumbered} {
				dups, filled := 0, 0
				for _, row := range rows {
					var res screener.Result
					require.NoError(t, json.Unmarshal([]byte(row), &res))
					for _, d := range res.DuplicateOf {
						dups++
						if d.Verdict != "" {
							filled++
						}
					}
				}
				require.Greater(t, dups, 50, "the synthetic reports repeat one another")
				assert.Equal(t, dups, filled, "every duplicate_of entry has the earlier report's verdict")
			}
			runs := 3
			switch {
			case testing.Short():
				runs = 1
			case withHistory:
				runs = 2 // each with its own SQLite file
			}
			seed := uint64(1)
			for _, j := range []int{1, 4, 16} {
				for _, asDone := range []bool{false, true} {
					for range runs {
						seed++
						got := run(t, seed, j, asDone, withHistory)
						want := want
						if asDone {
							want = unnumbered
						}
						for _, src := range slices.Sorted(maps.Keys(want)) {
							if !assert.JSONEq(t, want[src], got[src], "%s at -j %d, emitted as done: %v", src, j, asDone) {
								return
							}
						}
					}
				}
			}
		})
	}
}
