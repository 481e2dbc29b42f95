package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/dedup"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// The lookup benchmarks fill a store with N synthetic reports (100,000 by
// default; SECSCREEN_BENCH_HISTORY_N to change) and time what screening a
// new report costs the history: its fingerprint, the store's lookup by
// LSH band and signal keys, and the comparison with each candidate. Half
// the queries are edited copies of stored reports (so they find them), half
// are new. ms/lookup is the figure README quotes.
//
//	go test -run '^$' -bench Lookup -benchtime 500x ./screener/history

// benchN is the number of reports stored for the benchmarks.
func benchN() int {
	if n, err := strconv.Atoi(os.Getenv("SECSCREEN_BENCH_HISTORY_N")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// gen writes synthetic kernel-flavoured reports: prose from a Zipf-drawn
// vocabulary, and, for some, a KASAN trace, a CVE, a Fixes: tag or a
// function in its file, drawn from pools large enough that most reports
// share none of them.
type gen struct {
	words, funcs, files []string
}

func newGen() *gen {
	r := rand.New(rand.NewPCG(7, 7))
	syl := []string{"ka", "ne", "lo", "mi", "tra", "ver", "sock", "buf", "pre", "dis", "con", "ment", "ing", "er", "al", "io", "net", "fs", "dev", "map"}
	g := &gen{}
	seen := map[string]bool{}
	for len(g.words) < 6000 {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteString(syl[r.IntN(len(syl))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			g.words = append(g.words, w)
		}
	}
	for i := range 4000 {
		g.funcs = append(g.funcs, fmt.Sprintf("%s_%s_%d", g.words[i%500], g.words[(i*7)%900], i))
	}
	for i := range 800 {
		g.files = append(g.files, fmt.Sprintf("%s/%s/%s.c", []string{"net", "fs", "drivers", "mm", "kernel", "sound"}[i%6], g.words[i%300], g.words[(i*13)%2000]))
	}
	return g
}

func (g *gen) report(n int) *intake.Report {
	r := rand.New(rand.NewPCG(uint64(n), 99))
	zipf := rand.NewZipf(r, 1.1, 2, uint64(len(g.words)-1))
	var b strings.Builder
	b.WriteString("Hello,\n\n")
	for i := range 220 + r.IntN(120) {
		b.WriteString(g.words[zipf.Uint64()])
		if i%14 == 13 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	if r.IntN(10) < 3 {
		fmt.Fprintf(&b, "\nBUG: KASAN: slab-use-after-free in %s+0x%x/0x%x\nCall Trace:\n <TASK>\n dump_stack_lvl+0x7d/0xa0\n",
			g.funcs[r.IntN(len(g.funcs))], r.IntN(4096), 4096)
		for range 4 {
			fmt.Fprintf(&b, " %s+0x%x/0x%x\n", g.funcs[r.IntN(len(g.funcs))], r.IntN(4096), 4096)
		}
		b.WriteString(" </TASK>\n")
	}
	if r.IntN(10) == 0 {
		fmt.Fprintf(&b, "\nThis looks like CVE-20%02d-%05d again.\n", 15+r.IntN(11), r.IntN(60000))
	}
	if r.IntN(5) == 0 {
		fmt.Fprintf(&b, "\nThe bug is in %s() in\n%s.\n", g.funcs[r.IntN(len(g.funcs))], g.files[r.IntN(len(g.files))])
	}
	if r.IntN(8) == 0 {
		fmt.Fprintf(&b, "\nFixes: %012x (\"%s\")\n", r.Uint64()>>16, g.words[r.IntN(len(g.words))])
	}
	return &intake.Report{ID: fmt.Sprintf("<bench-%d@example.org>", n), Source: "bench:" + strconv.Itoa(n),
		Subject: g.words[zipf.Uint64()] + ": " + g.words[zipf.Uint64()] + " " + g.words[r.IntN(len(g.words))],
		From:    "Bench <b@example.org>", Body: b.String(), Hash: fmt.Sprintf("bench-raw-%d", n)}
}

// edited returns a copy of r with one word in twenty replaced, under
// another id: a resend with small edits.
func (g *gen) edited(r *intake.Report, seed int) *intake.Report {
	rr := rand.New(rand.NewPCG(uint64(seed), 3))
	words := strings.Fields(r.Body)
	for i := range words {
		if rr.IntN(20) == 0 {
			words[i] = g.words[rr.IntN(len(g.words))]
		}
	}
	c := *r
	c.ID, c.Hash, c.Body = fmt.Sprintf("<edit-%d@example.org>", seed), fmt.Sprintf("edit-raw-%d", seed), strings.Join(words, " ")
	return &c
}

// benchResult is a result of realistic size: a few rules findings.
func benchResult(r *intake.Report, n int) screener.Result {
	res := screener.Result{ID: r.ID, Source: r.Source, Subject: r.Subject, Label: threatmodel.Label{Verdict: threatmodel.Verdict([]string{"security", "not-security", "needs-info", "invalid"}[n%4]),
		Category: "config.debug-feature"}, Confidence: 0.8, Route: "the maintainers", Decision: screener.DecisionAgree, Backend: "baseline"}
	for i := range 3 {
		res.Rules = append(res.Rules, rules.Finding{RuleID: fmt.Sprintf("kernel.rule-%d", i), Category: "config.debug-feature", Weight: 1.2,
			Excerpt: "an excerpt of the report that the rule matched, kept short"})
	}
	return res
}

// bulkLoad stores n generated reports, 1,000 per transaction, the
// fingerprints computed on every core.
func bulkLoad(b *testing.B, s *sqlStore, g *gen, n int) {
	ctx := context.Background()
	type item struct {
		r  *intake.Report
		fp dedup.Fingerprint
	}
	const batch = 1000
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		items := make([]item, end-start)
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(items); i += workers {
					r := g.report(start + i)
					items[i] = item{r, dedup.Of(r)}
				}
			}()
		}
		wg.Wait()
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i, it := range items {
			if _, err := s.insert(ctx, tx, it.r, it.fp, benchResult(it.r, start+i)); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchStores caches the filled stores for the process: filling one takes
// minutes.
var benchStores = struct {
	sync.Mutex
	m map[string]*sqlStore
}{m: map[string]*sqlStore{}}

func filledStore(b *testing.B, name string, open func() (*sqlStore, error)) (*sqlStore, *gen) {
	b.Helper()
	g := newGen()
	benchStores.Lock()
	defer benchStores.Unlock()
	if s := benchStores.m[name]; s != nil {
		return s, g
	}
	s, err := open()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	bulkLoad(b, s, g, benchN())
	b.Logf("%s: stored %d reports in %s", name, benchN(), time.Since(start).Round(time.Second))
	benchStores.m[name] = s
	return s, g
}

func benchLookup(b *testing.B, s *sqlStore, g *gen) {
	ctx := context.Background()
	const nq = 200
	queries := make([]*intake.Report, nq)
	for i := range queries {
		if i%2 == 0 {
			queries[i] = g.edited(g.report((i*7919)%benchN()), i)
		} else {
			queries[i] = g.report(benchN() + 1_000_000 + i)
		}
	}
	opt := dedup.DefaultOptions()
	var storeTime time.Duration
	found, cands := 0, 0
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		q := queries[i%nq]
		fp := dedup.Of(q)
		t0 := time.Now()
		earlier, err := s.Lookup(ctx, fp.Keys(), opt.MaxCandidates)
		if err != nil {
			b.Fatal(err)
		}
		storeTime += time.Since(t0)
		cands += len(earlier)
		for _, e := range earlier {
			if _, ok := opt.Compare(fp, e.Fingerprint); ok {
				found++
				break
			}
		}
	}
	total := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/lookup")
	b.ReportMetric(float64(storeTime.Microseconds())/1000/float64(b.N), "ms/store-query")
	b.ReportMetric(float64(cands)/float64(b.N), "candidates/lookup")
	b.ReportMetric(float64(found)/float64(b.N), "found/lookup")
	b.ReportMetric(float64(benchN()), "stored")
}

func BenchmarkLookupSQLite(b *testing.B) {
	s, g := filledStore(b, "sqlite", func() (*sqlStore, error) {
		dir, err := os.MkdirTemp("", "secscreen-bench-history-")
		if err != nil {
			return nil, err
		}
		atExit(func() { os.RemoveAll(dir) })
		return openSQLiteAt(context.Background(), filepath.Join(dir, "history.db"), 0)
	})
	benchLookup(b, s, g)
}

func BenchmarkLookupPostgres(b *testing.B) {
	s, g := filledStore(b, "postgres", func() (*sqlStore, error) {
		dsn, drop, err := newPostgresDatabase()
		if err != nil {
			b.Skipf("no PostgreSQL server for this benchmark: %v", err)
		}
		atExit(drop)
		return openPostgresAt(context.Background(), dsn, 0)
	})
	benchLookup(b, s, g)
}

// BenchmarkFingerprint is the share of a lookup spent on the new report
// itself.
func BenchmarkFingerprint(b *testing.B) {
	g := newGen()
	rs := make([]*intake.Report, 100)
	for i := range rs {
		rs[i] = g.report(i)
	}
	b.ResetTimer()
	for i := range b.N {
		dedup.Of(rs[i%len(rs)])
	}
}

// BenchmarkRecordSQLite is what recording one result costs: a transaction
// with its fingerprint keys, committed with an fsync.
func BenchmarkRecordSQLite(b *testing.B) {
	s, err := openSQLiteAt(context.Background(), filepath.Join(b.TempDir(), "h.db"), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	g := newGen()
	type item struct {
		r  *intake.Report
		fp dedup.Fingerprint
	}
	items := make([]item, 200)
	for i := range items {
		r := g.report(i)
		items[i] = item{r, dedup.Of(r)}
	}
	b.ResetTimer()
	for i := range b.N {
		it := items[i%len(items)]
		if _, err := s.Record(context.Background(), it.r, it.fp, benchResult(it.r, i)); err != nil {
			b.Fatal(err)
		}
	}
}
