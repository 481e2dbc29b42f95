package lazydfa

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// warmPatterns are the patterns the warm-start tests run: the Finder
// cases' and a few like the rules' (case-folded alternations between
// word boundaries, groups, line anchors), which reach many states.
func warmPatterns() []string {
	srcs := []string{
		`(?i)\b(?:use[- ]after[- ]free|double[- ]free|out[- ]of[- ]bounds (?:read|write)|null pointer dereference)\b`,
		`(?i)\b(?:requires?|needs?) (CAP_(?:SYS_ADMIN|NET_ADMIN|NET_RAW))\b`,
		`(?m)^(?:\[\s*\d+\.\d+\]\s*)?(?:BUG|WARNING|KASAN): (\w[\w ]*)`,
		`(?i)(?P<prefix>v|linux-)?(?P<major>\d{1,2})\.(?P<minor>\d{1,2})(?:\.(?P<patch>\d+))?`,
	}
	for _, c := range finderCases {
		if !slices.Contains(srcs, c.expr) {
			srcs = append(srcs, c.expr)
		}
	}
	return srcs
}

// warmTexts returns the texts the warm-start tests run: the Finder
// cases', the Matcher's, kernel-report-like lines and random texts of
// their runes.
func warmTexts() []string {
	texts := append(finderTexts(), contextTexts...)
	texts = append(texts,
		"BUG: KASAN: use-after-free in tcp_close+0x1f/0x40\n[  12.345] WARNING: CPU: 0 PID: 1 at net/core/dev.c",
		"This needs CAP_NET_ADMIN (requires cap_sys_admin), a Double Free on linux-6.1.2 and v5.10",
		"out of bounds write\nnull pointer dereference in ext4_fill_super, kernel 4.19.3")
	alphabet := []rune("abcdeklsvxyzABCDEKS _-.:[]()0123456789\n\tαβßſ\u212aÄ日€")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var b strings.Builder
		for range rng.IntN(60) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	// Texts made of pieces of the others, so that random ones also reach
	// the states the patterns' words lead to.
	for i := range 100 {
		a, b := texts[rng.IntN(len(texts))], texts[rng.IntN(len(texts))]
		texts = append(texts, a[:len(a)/2]+strings.Repeat(" ", i%3)+b[len(b)/2:])
	}
	return texts
}

// runAll makes f find in every text, as the rules engine does (all
// matches with groups, and whether there is one).
func runAll(f *Finder, texts []string) {
	for _, s := range texts {
		if utf8Valid(s) {
			f.FindAll(s, -1, true)
			f.MatchString(s)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// warmFinder returns the Finder of src and one that starts warm from the
// states that the warm-up texts led it to (each text recorded on its own),
// and the warm set's data; the set reads a copy of it in place, which
// warmFinder checks at the end of the test is unchanged: nothing writes a
// snapshot.
func warmFinder(t *testing.T, src string, warmUp []string) (cold, warm *Finder, data []byte) {
	t.Helper()
	cold = mustFinder(t, src)
	enc := string(cold.AppendCompiled(nil))
	rec := &WarmRecorder{}
	f, err := NewFinderCompiled(enc)
	require.NoError(t, err)
	for _, s := range warmUp {
		runAll(f, []string{s})
		rec.Record(f)
	}
	data = rec.Bytes(1)
	read := bytes.Clone(data)
	t.Cleanup(func() { require.Equal(t, data, read, "%s: the warm set's data changed", src) })
	warm, err = NewFinderCompiledWarm(enc, NewWarmSet(unsafe.String(unsafe.SliceData(read), len(read))))
	require.NoError(t, err)
	return cold, warm, data
}

// TestWarmFinderEqualsColdAndRegexp: a Finder that starts warm (from the
// states that half the texts reach) finds on every text, those it was
// warmed on and the others, what the cold Finder and Go's regexp find,
// and its snapshot is never written.
func TestWarmFinderEqualsColdAndRegexp(t *testing.T) {
	texts := warmTexts()
	for _, src := range warmPatterns() {
		re := regexp.MustCompile(src)
		cold, warm, _ := warmFinder(t, src, texts[:len(texts)/2])
		require.NotNil(t, warm.fwd.warm, "%s: no snapshot of the forward DFA", src)
		rows := warm.fwd.warm.rows
		snapshot := slices.Clone(rows)
		for _, s := range texts {
			finderSameAsRegexp(t, warm, re, s)
			if !utf8Valid(s) {
				continue
			}
			want, ok1 := cold.FindAll(s, -1, true)
			got, ok2 := warm.FindAll(s, -1, true)
			if ok1 && ok2 {
				require.Equal(t, want, got, "%s on %q", src, s)
			}
		}
		require.Equal(t, snapshot, rows, "%s: the snapshot's rows changed", src)
		require.False(t, warm.fwd.frozen && len(warm.fwd.states) > 0, "%s: states added to a frozen table", src)
	}
}

// TestWarmFinderConcurrent: goroutines searching one warm Finder at once
// (with -race: no search reads what another writes unsynchronized) find
// what Go's regexp finds, while the DFA leaves its snapshot, grows, fills
// and starts afresh (from the snapshot again).
func TestWarmFinderConcurrent(t *testing.T) {
	texts := warmTexts()
	filled := 0
	for _, src := range warmPatterns()[:6] {
		re := regexp.MustCompile(src)
		_, warm, _ := warmFinder(t, src, texts[:8])
		fwd := warm.fwd
		require.NotNil(t, fwd.warm, src)
		// Room for a few states past the snapshot: the DFA fills and
		// starts afresh again and again.
		fwd.maxStates = int(fwd.warm.n) + 3
		gen0 := fwd.gen.Load()
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range texts {
					finderSameAsRegexp(t, warm, re, texts[(i+g*37)%len(texts)])
				}
			})
		}
		wg.Wait()
		fwd.mu.Lock()
		resets := fwd.gen.Load() - gen0
		fwd.mu.Unlock()
		if resets > 0 {
			filled++
		}
		// After a reset the DFA is its snapshot again.
		fwd.mu.Lock()
		fwd.reset()
		require.True(t, fwd.frozen)
		require.Equal(t, fwd.warm.n, int32(fwd.numStates()))
		require.Same(t, &fwd.warm.rows, fwd.table.Load())
		fwd.mu.Unlock()
		runAll(warm, texts[:len(texts)/3])
	}
	require.Positive(t, filled, "no DFA filled")
}

// TestWarmFinderFromSnapshotAllocatesNothing: on the texts it was warmed
// on, a warm Finder finds every state and transition in its snapshot: it
// adds no state and keeps reading the snapshot's table.
func TestWarmFinderFromSnapshotAllocatesNothing(t *testing.T) {
	texts := warmTexts()[:40]
	for _, src := range warmPatterns() {
		_, warm, _ := warmFinder(t, src, texts)
		runAll(warm, texts)
		require.Zero(t, len(warm.fwd.states), "%s: forward states added", src)
		require.True(t, warm.fwd.frozen, "%s: forward table copied", src)
		if warm.rev != nil && warm.rev.warm != nil {
			require.Zero(t, len(warm.rev.states), "%s: reversed states added", src)
			require.True(t, warm.rev.frozen, "%s: reversed table copied", src)
		}
	}
}

// TestWarmSetStale: a Finder whose program is not the one a snapshot was
// taken of, or whose encoding's CRCs differ, starts cold; so does one of a
// set that does not read (cut short anywhere), and answers alike.
func TestWarmSetStale(t *testing.T) {
	texts := warmTexts()[:40]
	src := warmPatterns()[0]
	cold, _, data := warmFinder(t, src, texts)
	set := NewWarmSet(string(data))
	require.Equal(t, 1, set.Len())

	other, err := NewFinderCompiledWarm(string(mustFinder(t, `(?i)\bfree\b`).AppendCompiled(nil)), set)
	require.NoError(t, err)
	require.Nil(t, other.fwd.warm)

	enc := cold.AppendCompiled(nil)
	enc[len(enc)-8] ^= 1 // the forward program's CRC
	stale, err := NewFinderCompiledWarm(string(enc), set)
	require.NoError(t, err)
	require.Nil(t, stale.fwd.warm)

	re := regexp.MustCompile(src)
	for n := range len(data) {
		f, err := NewFinderCompiledWarm(string(cold.AppendCompiled(nil)), NewWarmSet(string(data[:n])))
		require.NoError(t, err)
		require.Nil(t, f.fwd.warm, "a set cut at %d of %d read", n, len(data))
		if n%97 == 0 {
			for _, s := range texts {
				finderSameAsRegexp(t, f, re, s)
			}
		}
	}
}

// TestWarmRecorderDeterministic: the set does not depend on the order in
// which the texts were recorded, nor on the Finders' histories.
func TestWarmRecorderDeterministic(t *testing.T) {
	texts := warmTexts()[:60]
	var forward, backward WarmRecorder
	for _, src := range warmPatterns()[:5] {
		enc := string(mustFinder(t, src).AppendCompiled(nil))
		a, err := NewFinderCompiled(enc)
		require.NoError(t, err)
		b, err := NewFinderCompiled(enc)
		require.NoError(t, err)
		for i := range texts {
			runAll(a, texts[i:i+1])
			forward.Record(a)
			runAll(b, texts[len(texts)-1-i:len(texts)-i])
			backward.Record(b)
		}
	}
	for _, min := range []int{1, 2, 10} {
		require.Equal(t, forward.Bytes(min), backward.Bytes(min), "at least %d texts", min)
	}
	reached, held := forward.Coverage(NewWarmSet(string(forward.Bytes(1))))
	require.Equal(t, reached, held, "every recorded state is in the set of those one text reaches")
	require.Positive(t, reached)
}
