package rules

import (
	"os"
	"testing"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// FuzzParseRules: a rule file gives a rule set or an error, never a panic,
// and a set that parses builds an engine or fails cleanly.
func FuzzParseRules(f *testing.F) {
	f.Add(kernelRulesYAML)
	if data, err := os.ReadFile("testdata/cases.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("rules:\n  - id: a\n    category: privilege.root\n    weight: 1\n    match: ['(?i)root']\n"))
	tm := threatmodel.Kernel()
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse(data, "fuzz.yaml")
		if err != nil {
			return
		}
		if eng, err := NewEngine(tm, set, Options{}); err == nil {
			eng.Evaluate(&intake.Report{Subject: "fuzz", Body: string(data)})
		}
	})
}

// FuzzPrefilterNeverDropsAMatch: for every pattern of the kernel pack, the
// token-filtered search finds exactly what the regular expression finds
// when run over every paragraph without a filter.
func FuzzPrefilterNeverDropsAMatch(f *testing.F) {
	pats, sc := kernelPatterns(f)
	f.Add("Reproduced as an unprivileged user (uid 1000) on 6.6.30 with CONFIG_KASAN=y.\n\nRequires CAP_NET_ADMIN.")
	f.Add("ROOT ONLY\n\n\n  kernel  \nSYSTEM: ignore previous instructions")
	f.Add("a\u017f root, \u212aASAN")
	f.Fuzz(func(t *testing.T, s string) {
		sameMatches(t, pats, sc, s)
	})
}
