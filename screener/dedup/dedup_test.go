package dedup

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
)

// readPair reads a report from testdata/pairs.
func readReport(t testing.TB, name string) *intake.Report {
	t.Helper()
	var got *intake.Report
	for it := range intake.Read(context.Background(), []string{filepath.Join("testdata", "pairs", name)}, intake.Options{}) {
		require.NoError(t, it.Err, name)
		got = it.Report
	}
	require.NotNil(t, got, name)
	return got
}

// The pairs under testdata/pairs were written for these tests: each pair
// is two reports by different people, in their own words.
func TestPairs(t *testing.T) {
	cases := []struct {
		a, b     string
		dup      bool
		signal   string
		evidence string
	}{
		// The same bug in other words: the same function in its file and
		// the commit that brought the bug, little text in common.
		{"words-a.eml", "words-b.eml", true, SignalCommit, "1109c00547fc"},
		// The same crash from two senders: one raw console log with
		// timestamps, one symbolised syzkaller report; other addresses,
		// offsets, kernels and prose.
		{"crash-a.eml", "crash-b.txt", true, SignalCrash, "kasan: slab-use-after-free: nfc_llcp_sock_release __sock_release sock_close"},
		// A syzbot title and a person's report of the same crash.
		{"syz-title.eml", "syz-human.eml", true, SignalTitle, "kasan: slab-use-after-free in tipc_crypto_rcv_complete"},
		{"cve-a.txt", "cve-b.txt", true, SignalCVE, "CVE-2025-37899"},
		// Different bugs in the same file: not duplicates.
		{"samefile-a.eml", "samefile-b.eml", false, "", ""},
		// Nothing in common.
		{"words-a.eml", "crash-a.eml", false, "", ""},
		{"samefile-a.eml", "crash-b.txt", false, "", ""},
	}
	opt := DefaultOptions()
	for _, c := range cases {
		t.Run(c.a+"~"+c.b, func(t *testing.T) {
			a, b := Of(readReport(t, c.a)), Of(readReport(t, c.b))
			for _, dir := range [][2]Fingerprint{{a, b}, {b, a}} {
				m, ok := opt.Compare(dir[0], dir[1])
				require.Equal(t, c.dup, ok, "match %+v\na: %+v\nb: %+v", m, a.Signals, b.Signals)
				if c.dup {
					assert.Equal(t, c.signal, m.Signal)
					assert.Equal(t, c.evidence, m.Evidence)
					assert.Less(t, m.Similarity, opt.NearAt, "these pairs share little text: the signal found them")
				}
			}
		})
	}
}

func TestSameBugInOtherWordsIsNotEnoughWithOneWeakSignal(t *testing.T) {
	a := Of(readReport(t, "words-a.eml"))
	b := Of(readReport(t, "words-b.eml"))
	var noCommit []Signal
	for _, s := range b.Signals {
		if s.Kind != SignalCommit {
			noCommit = append(noCommit, s)
		}
	}
	b.Signals = noCommit
	// Only the function in its file is left, and the texts differ: one
	// weak signal does not make a duplicate (a file's function often has
	// more than one bug).
	_, ok := DefaultOptions().Compare(a, b)
	assert.False(t, ok)
	assert.Contains(t, b.Signals, Signal{Kind: SignalFileFunction, Value: "net/sched/cls_route.c:route4_change"})
}

func TestExactDuplicateIgnoresHeadersQuotesAndSpacing(t *testing.T) {
	body := "Hello,\n\nthe foo driver double-frees its buffer in foo_release() when\nthe device is unplugged while open.\n\nThanks\n"
	a := &intake.Report{ID: "a@x", Subject: "foo: double free on unplug", From: "a@x", Body: body}
	b := &intake.Report{ID: "b@y", Subject: "Fwd: [SECURITY] Foo: Double free on unplug", From: "b@y",
		Body: "On Mon, 1 Jan 2025, Someone wrote:\n> please resend to the list\n\n" +
			strings.ReplaceAll(body, "\n\n", "\n  \n") + "-- \nBob\nSent from my phone\n"}
	assert.Equal(t, ContentHash(a), ContentHash(b))
	m, ok := DefaultOptions().Compare(Of(b), Of(a))
	require.True(t, ok)
	assert.Equal(t, SignalExact, m.Signal)
	assert.Equal(t, 1.0, m.Similarity)

	c := *a
	c.Body = strings.Replace(body, "foo_release", "foo_remove", 1)
	assert.NotEqual(t, ContentHash(a), ContentHash(&c), "one word differs: not exact")
	m, ok = DefaultOptions().Compare(Of(&c), Of(a))
	require.True(t, ok)
	assert.Equal(t, SignalNear, m.Signal)
}

func TestNearDuplicateResend(t *testing.T) {
	a := readReport(t, "crash-a.eml")
	b := *a
	b.Body = "Resending with the list in Cc, sorry for the noise.\n\n" + a.Body + "\nKenji\n"
	m, ok := DefaultOptions().Compare(Of(&b), Of(a))
	require.True(t, ok)
	assert.GreaterOrEqual(t, m.Similarity, 0.85)
}

func TestCrashSignatureFormats(t *testing.T) {
	cases := []struct{ name, text, crash, title string }{
		{"kasan raw", readReport(t, "crash-a.eml").Body,
			"kasan: slab-use-after-free: nfc_llcp_sock_release __sock_release sock_close",
			"kasan: slab-use-after-free in nfc_llcp_sock_release"},
		{"null deref with RIP", readReport(t, "samefile-b.eml").Body,
			"kernel null pointer dereference: __hrtimer_run_queues hrtimer_interrupt __sysvec_apic_timer_interrupt",
			"kernel null pointer dereference in advance_sched"},
		{"warning", "WARNING: CPU: 3 PID: 77 at net/core/dev.c:1234 netdev_foo+0x12/0x40\nModules linked in:\nCall Trace:\n <TASK>\n __warn+0x10/0x20\n netdev_foo+0x12/0x40\n register_netdevice+0x100/0x200\n ? some_stale+0x1/0x2\n veth_newlink+0x30/0x60\n</TASK>\n",
			"warning: netdev_foo register_netdevice veth_newlink", "warning in netdev_foo"},
		{"kmsan infoleak", "BUG: KMSAN: kernel-infoleak in _copy_to_user+0xbc/0x110\n instrument_copy_to_user include/linux/instrumented.h:114 [inline]\n _copy_to_user+0xbc/0x110 lib/usercopy.c:26\n netlink_recvmsg+0x4b1/0x1360 net/netlink/af_netlink.c:1965\n\nUninit was stored to memory at:\n tcf_pedit_dump+0x3c2/0x540 net/sched/act_pedit.c:502\n tcf_action_dump_1+0x84c/0xcc0 net/sched/act_api.c:1199\n",
			"kmsan: kernel-infoleak: tcf_pedit_dump tcf_action_dump_1", "kmsan: kernel-infoleak in tcf_pedit_dump"},
		{"arm64 paging request", "[  88.1] Unable to handle kernel paging request at virtual address dead000000000122\n[  88.2] pc : vchiq_ioc_await_completion+0x1c8/0x5a0\n[  88.3] Call trace:\n[  88.4]  vchiq_ioc_await_completion+0x1c8/0x5a0\n[  88.5]  vchiq_ioctl+0x3a0/0x14c0\n[  88.6]  __arm64_sys_ioctl+0xac/0xf0\n[  88.7]  invoke_syscall+0x48/0x110\n",
			"unable to handle kernel paging request: vchiq_ioc_await_completion vchiq_ioctl __arm64_sys_ioctl",
			"unable to handle kernel paging request in vchiq_ioc_await_completion"},
		{"hung task", "INFO: task kworker/0:1:12 blocked for more than 143 seconds.\nCall Trace:\n <TASK>\n __schedule+0x100/0x200\n schedule+0x10/0x20\n __mutex_lock+0x50/0x90\n bch2_btree_lock+0x20/0x40\n bch2_trans_commit+0x30/0x60\n</TASK>\n",
			"task hung: bch2_btree_lock bch2_trans_commit", "task hung in bch2_btree_lock"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sig := Signals("", c.text)
			assert.Contains(t, sig, Signal{Kind: SignalCrash, Value: c.crash}, "%+v", sig)
			assert.Contains(t, sig, Signal{Kind: SignalTitle, Value: c.title}, "%+v", sig)
		})
	}
}

func TestSignalsFromTheSubjectAndCitations(t *testing.T) {
	sig := Signals("[syzbot] [fs?] WARNING in ext4_xattr_set_entry",
		"see commit 0123456789abcdef0123 and CVE-2024-1086 (cve-2024-1086).\nFixes: fedcba9876543210 (\"x\")\n")
	assert.Equal(t, []Signal{
		{SignalCommit, "0123456789ab"}, {SignalCommit, "fedcba987654"},
		{SignalCVE, "CVE-2024-1086"},
		{SignalTitle, "warning in ext4_xattr_set_entry"},
	}, sig)
}

func TestDequote(t *testing.T) {
	body := "Hi,\nOn Tue, Alice wrote:\n> quoted\n>> deeper\n\nmy text\n-- \nsig\n"
	assert.Equal(t, "Hi,\n\nmy text", Dequote(body))
	// An attribution-like line not followed by a quote stays.
	assert.Equal(t, "Bob wrote:\nplain", Dequote("Bob wrote:\nplain"))
}

func TestTokensMaskWhatVariesBetweenCrashes(t *testing.T) {
	a := Tokens(Canonical("[  412.318840] Read of size 8 at addr ffff88801c3a4e10 in foo+0x6b2/0x7c0"))
	b := Tokens(Canonical("[ 9.000001] Read of size 8 at addr ffff888027d19a10 in foo+0x6a9/0x7b0"))
	assert.Equal(t, a, b)
	assert.NotContains(t, a, "412.318840")
}

func TestSimilarityTracksJaccard(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := make([]string, 400)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", r.IntN(1_000_000))
	}
	// Replace the second half: about a third of the shingles are shared.
	other := append(append([]string{}, words[:200]...), make([]string, 200)...)
	for i := 200; i < 400; i++ {
		other[i] = fmt.Sprintf("x%d", r.IntN(1_000_000))
	}
	sim := Similarity(Sign(words), Sign(other))
	assert.InDelta(t, 198.0/(398+200), sim, 0.1)
	assert.Equal(t, 1.0, Similarity(Sign(words), Sign(words)))
	assert.Zero(t, Similarity(nil, Sign(words)))

	sig := Sign(words)
	back, err := ParseSignature(sig.Bytes())
	require.NoError(t, err)
	assert.Equal(t, sig, back)
	_, err = ParseSignature([]byte{1, 2, 3})
	assert.Error(t, err)
}

func TestKeysShareABandForNearDuplicates(t *testing.T) {
	a := readReport(t, "crash-a.eml")
	b := *a
	b.Body += "\nOne more line at the end.\n"
	ka, kb := Of(a).Keys(), Of(&b).Keys()
	shared := 0
	for _, k := range ka {
		for _, l := range kb {
			if k == l {
				shared++
			}
		}
	}
	assert.Greater(t, shared, 10, "near-duplicates share many LSH bands")
}

// A report longer than MaxSignedBytes is signed by its head, so that its
// cost is bounded, while the exact hash still tells two tails apart.
func TestLongReportsAreSignedByTheirHead(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < MaxSignedBytes+1000; i++ {
		fmt.Fprintf(&b, "line %d of a long trace in drivers/net/foo.c\n", i)
	}
	head := b.String()
	long1 := head + strings.Repeat("tail one differs here\n", 20000)
	long2 := head + strings.Repeat("tail two is not the same\n", 20000)
	f1, f2 := Of(&intake.Report{Body: long1}), Of(&intake.Report{Body: long2})
	assert.NotEqual(t, f1.Hash, f2.Hash, "the exact hash reads the whole text")
	assert.Equal(t, f1.Sig, f2.Sig, "the signature reads only the head")
	assert.Equal(t, f1.Signals, f2.Signals)
	short := Of(&intake.Report{Body: "a short report about drivers/net/foo.c\n"})
	assert.Equal(t, short.Sig, Sign(Tokens(Canonical(Text(&intake.Report{Body: "a short report about drivers/net/foo.c\n"})))), "a short report is signed whole")
}
