package dedup

import (
	"testing"

	"github.com/secscreen/secscreen/screener/intake"
)

// FuzzFingerprint: any report text fingerprints without panicking, the
// same way twice, and is an exact duplicate of itself.
func FuzzFingerprint(f *testing.F) {
	f.Add("KASAN: slab-use-after-free Read in foo", "BUG: KASAN: slab-use-after-free in foo+0x1/0x2\nCall Trace:\n <TASK>\n foo+0x1/0x2\n</TASK>\n")
	f.Add("Re: [PATCH] x", "> quoted\nOn Mon, A wrote:\n> x\nFixes: 0123456789ab (\"y\")\nCVE-2024-1086 in net/x/y.c:z()\n-- \nsig")
	f.Add("", "\x1b[2J\xff\xfe")
	f.Fuzz(func(t *testing.T, subject, body string) {
		r := &intake.Report{Subject: subject, Body: body}
		a, b := Of(r), Of(r)
		if a.Hash != b.Hash || Similarity(a.Sig, b.Sig) != Similarity(b.Sig, a.Sig) || len(a.Signals) != len(b.Signals) {
			t.Fatal("not deterministic")
		}
		if m, ok := DefaultOptions().Compare(a, b); !ok || m.Signal != SignalExact {
			t.Fatalf("not a duplicate of itself: %+v", m)
		}
		if len(a.Keys()) < 1 {
			t.Fatal("no keys")
		}
	})
}
