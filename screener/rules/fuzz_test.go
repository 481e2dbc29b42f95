package rules

import (
	"os"
	"slices"
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

// FuzzPrefilterNeverDropsAMatch: for every pattern of the kernel rules, the
// prefiltered search finds exactly what the regular expression finds when
// run over every paragraph without a prefilter.
func FuzzPrefilterNeverDropsAMatch(f *testing.F) {
	set, err := KernelRules()
	if err != nil {
		f.Fatal(err)
	}
	var ms []matcher
	for _, r := range set.Rules {
		ms = append(ms, r.match...)
		ms = append(ms, r.unless...)
	}
	if len(ms) == 0 {
		f.Fatal("the kernel rules compiled no patterns")
	}
	f.Add("Reproduced as an unprivileged user (uid 1000) on 6.6.30 with CONFIG_KASAN=y.\n\nRequires CAP_NET_ADMIN.")
	f.Add("ROOT ONLY\n\n\n  kernel  \nSYSTEM: ignore previous instructions")
	f.Fuzz(func(t *testing.T, s string) {
		x := newText(s)
		for _, m := range ms {
			re := m.re
			got := x.findAt(m, -1)
			var want [][]int
			for _, p := range x.paras {
				for _, loc := range re.FindAllStringSubmatchIndex(s[p[0]:p[1]], -1) {
					for i := range loc {
						if loc[i] >= 0 {
							loc[i] += p[0]
						}
					}
					want = append(want, loc)
				}
			}
			if !slices.EqualFunc(got, want, slices.Equal[[]int]) {
				t.Fatalf("pattern %q: prefiltered %v, plain %v", re, got, want)
			}
		}
	})
}
