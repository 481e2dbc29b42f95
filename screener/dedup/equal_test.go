package dedup

import (
	"cmp"
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/benchsupport"
	"github.com/secscreen/secscreen/screener/intake"
)

// equalityReports returns the reports the fast fingerprint is checked on:
// every report of the bundled corpus (both splits: this checks equality,
// nothing is tuned on it), the examples, the test pairs, seeded synthetic
// reports, and generated ones made of the pieces the normalisation and
// the signals treat specially (quotes, attributions, signatures, hex,
// timestamps, frames, non-ASCII text, short and over-long texts).
func equalityReports(t *testing.T) []*intake.Report {
	t.Helper()
	rs := equalityCorpus(t)
	rs = append(rs, benchsupport.SynthReports(t, 300, 1)...)
	rs = append(rs, benchsupport.SynthReports(t, 100, 9)...)

	frags := []string{"word", "Word ", "WORDS", " ", "  ", "\t", "\n", "\r\n", "\n\n", "> quoted\n", " >> deeper\n",
		"On Mon, Alice wrote:\n", "Bob a écrit:\n", "-- \n", "--\n", "sig\n", "0x", "0xffff8881", "ffff88801c3a4e10", "deadbeef",
		"DEADBEEF12", "[  412.318840] ", "12.345678", "1.5", "foo+0x6b2/0x7c0", "0x1a/0x2b", "...", "-./", "_x_", "a.b/c-d",
		"Ünïcödé ", "ﬁle ", "ǅ", "ſchrieb", "日本語 ", "\u00a0", "\u2003", "\xff\xfe", "\x00", "KASAN: slab-use-after-free",
		"BUG: KASAN: use-after-free in foo_bar+0x1/0x2\n", "Call Trace:\n", " <TASK>\n", " dump_stack+0x1/0x2\n",
		" foo_bar+0x1a/0x2b0\n", " baz_qux+0x3/0x4\n", " </TASK>\n", "RIP: 0010:foo_bar+0x1/0x2\n", "CVE-2024-1086",
		"Fixes: 1109c00547fcaa (\"x\")\n", "net/sched/cls_route.c", "route4_change()", "drivers/net/foo.c:12 "}
	rng := rand.New(rand.NewPCG(3, 4))
	gen := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(frags[rng.IntN(len(frags))])
		}
		return b.String()
	}
	for i := range 3000 {
		r := &intake.Report{Subject: gen(rng.IntN(4)), Body: gen(rng.IntN(60))}
		if i%7 == 0 {
			r.Attachments = []intake.Attachment{{Name: "a.txt", Text: gen(rng.IntN(30))}, {Name: "b.bin", Binary: true}}
		}
		rs = append(rs, r)
	}
	for _, b := range []string{"", "one", "one two", "one two three", "-- \nonly a signature", "> only a quote",
		"x" + strings.Repeat(" word", MaxSignedBytes/4), strings.Repeat("é ", MaxSignedBytes/2)} {
		rs = append(rs, &intake.Report{Subject: "s", Body: b}, &intake.Report{Body: b})
	}
	return rs
}

// The fast fingerprint (one pass over the canonical bytes, shingle hashes
// taken as the tokens are read, each distinct shingle hashed once) gives
// what the reference one gives on every report: the same content hash,
// signature, signals and index keys, so that stored fingerprints compare
// with new ones as before.
func TestFastFingerprintEqualsReference(t *testing.T) {
	for _, r := range equalityReports(t) {
		want, got := refOf(r), Of(r)
		require.Equal(t, want.Hash, got.Hash, "hash of %s %q", r.ID, r.Subject)
		require.Equal(t, want.Sig, got.Sig, "signature of %s %q", r.ID, r.Subject)
		require.Equal(t, want.Signals, got.Signals, "signals of %s %q", r.ID, r.Subject)
		require.Equal(t, refKeys(want), got.Keys(), "keys of %s %q", r.ID, r.Subject)
		require.Equal(t, want.Hash, ContentHash(r))

		text := refText(r)
		require.Equal(t, text, Text(r))
		require.Equal(t, refDequote(r.Body), Dequote(r.Body))
		canon := refCanonical(text)
		require.Equal(t, canon, Canonical(text))
		toks := refTokens(canon)
		got2 := Tokens(canon)
		require.True(t, slices.Equal(toks, got2), "tokens of %q: %q, want %q", canon, got2, toks)
		require.Equal(t, refSign(toks), Sign(toks))
	}
}

// refKeys is Keys with the band keys as they were computed before
// (hash/fnv over the band's number and values).
func refKeys(f Fingerprint) []uint64 {
	var keys []uint64
	if f.Hash != "" {
		keys = append(keys, Signal{Kind: SignalExact, Value: f.Hash}.key())
	}
	if len(f.Sig) == NumHashes {
		var buf [4]byte
		for b := range Bands {
			h := fnv.New64a()
			h.Write([]byte{'b', byte(b)})
			for _, v := range f.Sig[b*Rows : (b+1)*Rows] {
				binary.LittleEndian.PutUint32(buf[:], v)
				h.Write(buf[:])
			}
			keys = append(keys, h.Sum64())
		}
	}
	for _, s := range f.Signals {
		keys = append(keys, s.key())
	}
	return keys
}

// Compare, which stops counting a similarity that cannot make a match,
// says what the reference says on pairs of corpus, synthetic and
// generated reports (near duplicates among them), under the default and
// other thresholds.
func TestCompareEqualsReference(t *testing.T) {
	rs := equalityReports(t)
	rng := rand.New(rand.NewPCG(5, 6))
	var fps []Fingerprint
	for _, i := range rng.Perm(len(rs))[:250] {
		fps = append(fps, Of(rs[i]))
		near := *rs[i]
		near.Body += "\nA line added at the end of the report.\n"
		fps = append(fps, Of(&near))
	}
	fps = append(fps, Fingerprint{}, Fingerprint{Sig: fps[0].Sig[:10]})
	for _, o := range []Options{{}, {NearAt: 0.3, WeakAt: 0.6}, {NearAt: 1, WeakAt: 0.01}, {NearAt: 0.05, WeakAt: 0.05}, {NearAt: -1}} {
		for _, q := range fps {
			for _, c := range fps {
				wm, wok := refCompare(o, q, c)
				gm, gok := o.Compare(q, c)
				require.Equal(t, wok, gok, "%+v", o)
				require.Equal(t, wm, gm, "%+v", o)
				// With the signals' keys, as a lookup compares.
				km, kok := o.compare(q, c, signalKeys(q), signalKeys(c))
				require.Equal(t, wok, kok, "%+v", o)
				require.Equal(t, wm, km, "%+v", o)
			}
		}
	}
}

// signalKeys returns the keys of f's signals.
func signalKeys(f Fingerprint) []uint64 {
	keys := make([]uint64, len(f.Signals))
	for i, s := range f.Signals {
		keys[i] = s.key()
	}
	return keys
}

// The best matches of a lookup, found with the candidates that cannot
// place among them skipped or cut short, are those of comparing every
// candidate in full (refCompare) and sorting the matches: the same
// matches, similarities and order, on lookups among synthetic reports
// (most sharing a crash, some exact and near copies), corpus reports and
// reports of the past, under several thresholds and bounds.
func TestBestMatchesAreThoseOfSortingAll(t *testing.T) {
	rs := append(benchsupport.SynthReports(t, 400, 3), equalityCorpus(t)[:200]...)
	rng := rand.New(rand.NewPCG(9, 10))
	var fps []Fingerprint
	for _, r := range rs {
		fps = append(fps, Of(r))
		if rng.IntN(4) == 0 {
			near := *r
			near.Body += "\nA line added at the end of the report.\n"
			fps = append(fps, Of(&near))
		}
		if rng.IntN(8) == 0 {
			fps = append(fps, fps[len(fps)-1]) // an exact copy
		}
	}
	keyOf := func(f Fingerprint) uint64 {
		if f.Hash == "" {
			return 0
		}
		return f.Keys()[0]
	}
	opts := []Options{{}, {MaxMatches: 1}, {MaxMatches: 2, NearAt: 0.3, WeakAt: 0.1}, {MaxMatches: 8, NearAt: 0.9}, {NearAt: 0.05, WeakAt: 0.05}}
	compared, beyond := 0, 0
	for trial := range 3000 {
		o := opts[trial%len(opts)].withDefaults()
		q := fps[rng.IntN(len(fps))]
		qk := signalKeys(q)
		var cands []candidate
		for i, j := range rng.Perm(len(fps))[:1+rng.IntN(120)] {
			c := candidate{fp: fps[j], seq: i + 1}
			if rng.IntN(2) == 0 {
				c.sigKeys = signalKeys(c.fp)
			}
			if rng.IntN(3) > 0 {
				c.exactKey = keyOf(c.fp)
			}
			if rng.IntN(5) == 0 {
				c.kind, c.seq = past, 0
				c.earlier = &Earlier{HistoryID: int64(1 + rng.IntN(1000))}
			}
			cands = append(cands, c)
		}
		qx := keyOf(q)
		if trial%4 == 0 {
			qx = 0
		}
		var want []scored
		for i := range cands {
			c := &cands[i]
			if m, ok := refCompare(o, q, c.fp); ok {
				want = append(want, scored{m: m, c: c, rank: strength(m.Signal), seq: c.seq, hid: c.historyID()})
			}
		}
		slices.SortStableFunc(want, func(a, b scored) int {
			return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(b.m.Similarity, a.m.Similarity),
				cmp.Compare(a.seq, b.seq), cmp.Compare(a.hid, b.hid))
		})
		if len(want) > o.MaxMatches {
			beyond++ // more matches than kept: some were skipped or cut short
		}
		want = want[:min(len(want), o.MaxMatches)]
		got := o.bestMatches(nil, q, qk, qx, cands)
		require.Equal(t, len(want), len(got), "trial %d", trial)
		for i := range want {
			require.Equal(t, want[i].m, got[i].m, "trial %d, match %d", trial, i)
			require.Same(t, want[i].c, got[i].c, "trial %d, match %d", trial, i)
		}
		compared += len(want)
	}
	require.Greater(t, compared, 3000)
	require.Greater(t, beyond, 500, "lookups with more matches than are kept")
}
