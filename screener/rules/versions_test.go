package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// cnaShaped is written for these tests in the shape of a kernel CNA
// announcement: a fix's description, then the release where the bug came
// in and the stable releases that carry the fix.
const cnaShaped = `Description
===========

In the Linux kernel, the following vulnerability has been resolved:

net: frob: cancel the timer before dropping the last reference

frob_release() puts the socket while its retransmit timer may still run,
and the timer then uses the freed socket. Cancel the timer first.

The Linux kernel CVE team has assigned CVE-2031-12345 to this issue.

Affected and fixed versions
===========================

	Issue introduced in 4.14 with commit 0123456789ab and fixed in 5.15.160 with commit 1111111111aa
	Issue introduced in 4.14 with commit 0123456789ab and fixed in 6.1.92 with commit 2222222222bb
	Issue introduced in 4.14 with commit 0123456789ab and fixed in 6.6.32 with commit 3333333333cc
	Issue introduced in 4.14 with commit 0123456789ab and fixed in 6.9.3 with commit 4444444444dd
	Issue introduced in 4.14 with commit 0123456789ab and fixed in 6.10 with commit 5555555555ee

Please see https://www.kernel.org for a full list of currently supported
kernel versions by the kernel community.
`

func roles(f Facts) map[string]string {
	out := map[string]string{}
	for _, v := range f.Versions {
		out[v.Text] = v.Role
	}
	return out
}

func TestVersionRoles(t *testing.T) {
	cases := []struct {
		text string
		want map[string]string
	}{
		{"Tested on 6.1.87.", map[string]string{"6.1.87": ""}},
		{"The bug was introduced in 4.14 and I reproduced it on 6.6.30.", map[string]string{"4.14": RoleIntroduced, "6.6.30": ""}},
		{"Introduced in commit abcdef012345 (v4.14) and fixed in 6.1.92 with commit 0123abcd, 6.6.32 with commit 4567ef01.",
			map[string]string{"v4.14": RoleIntroduced, "6.1.92": RoleFixed, "6.6.32": RoleFixed}},
		{"Fixes: 0123456789ab (\"net: frob: add a retransmit timer\") (v5.4)", map[string]string{"v5.4": RoleIntroduced}},
		{"It has been broken since v5.10 and is still present in 6.12.3.", map[string]string{"v5.10": RoleIntroduced, "6.12.3": ""}},
		{"Bisected to v6.8-rc3; the kernel I run is 6.8.1.", map[string]string{"v6.8-rc3": RoleIntroduced, "6.8.1": ""}},
		{"It is not fixed in 6.6.32 yet.", map[string]string{"6.6.32": ""}},
		{"Affected releases:\n - 6.1.90 (introduced by the refactor)\n - 6.6.30 crashes too", map[string]string{"6.1.90": "", "6.6.30": ""}},
	}
	for _, c := range cases {
		t.Run(c.text, func(t *testing.T) {
			assert.Equal(t, c.want, roles(facts(t, c.text)))
		})
	}
}

// A CNA-shaped text names an end-of-life series (where the bug came in)
// and stable releases that carry the fix. That is evidence the bug was
// real in maintained trees, not of an outdated setup.
func TestCNAShapedTextIsNotOutdated(t *testing.T) {
	for name, date := range map[string]time.Time{
		"undated":            {},
		"dated when written": time.Date(2024, 6, 10, 0, 0, 0, 0, time.UTC),
	} {
		t.Run(name, func(t *testing.T) {
			for _, e := range []*Engine{handEngine(t), kernelEngine(t)} {
				r := &intake.Report{Subject: "CVE-2031-12345: net: frob: cancel the timer before dropping the last reference", Body: cnaShaped, Date: date}
				ev := e.Evaluate(r)
				got := roles(ev.Facts)
				assert.Equal(t, RoleIntroduced, got["4.14"])
				for _, v := range []string{"5.15.160", "6.1.92", "6.6.32", "6.9.3", "6.10"} {
					assert.Equal(t, RoleFixed, got[v], v)
				}
				f := &ev.Facts
				assert.False(t, (Requires{Versions: "eol-only"}).Holds(f), "no version the reporter ran is named")
				assert.False(t, (Requires{Versions: "some-eol"}).Holds(f))
				assert.True(t, (Requires{Versions: "maintained"}).Holds(f), "fixed in maintained stable series")
				assert.True(t, (Requires{Versions: "fixed"}).Holds(f))
				assert.NotContains(t, firedIDs(ev), "cfg.fixed-upstream")
				assert.NotContains(t, firedIDs(ev), "cfg.eol-only")
				assert.NotEqual(t, "config.outdated", ev.Category)
				assert.False(t, ev.Decisive && ev.Verdict == threatmodel.NotSecurity, "no decisive exclusion")
			}
		})
	}
}

// The same fix list after a report of a kernel the reporter ran that is
// end of life: that still is an outdated setup.
func TestFixListAfterAnEOLKernelIsOutdated(t *testing.T) {
	ev := handEngine(t).Evaluate(&intake.Report{Body: "Our box runs kernel 4.19.325 and crashes in frob_release().\n\n" +
		"It was fixed in 6.1.92 and 6.6.32; 4.19 is end of life.\n"})
	assert.Equal(t, map[string]string{"4.19.325": "", "6.1.92": RoleFixed, "6.6.32": RoleFixed, "4.19": ""}, roles(ev.Facts))
	assert.True(t, (Requires{Versions: "some-eol"}).Holds(&ev.Facts))
	assert.True(t, (Requires{Versions: "eol-only"}).Holds(&ev.Facts), "the fix list does not make the reporter's kernel maintained")
	assert.True(t, (Requires{Versions: "fixed"}).Holds(&ev.Facts))
	assert.Contains(t, firedIDs(ev), "cfg.eol-only")
	assert.Equal(t, "config.outdated", ev.Category)
}

// A CVSS line is a claim about severity, not a fact about the setup: it
// must push nothing towards not-security.
func TestCVSSLinePushesNothingTowardsNotSecurity(t *testing.T) {
	for _, e := range []*Engine{handEngine(t), kernelEngine(t)} {
		base := &intake.Report{Body: cnaShaped}
		with := &intake.Report{Body: cnaShaped + "\nCVSS v3.1 Base Score: 7.8 (CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H)\n"}
		evBase, evWith := e.Evaluate(base), e.Evaluate(with)
		require.NotEmpty(t, evWith.Facts.CVSS)
		assert.Equal(t, roles(evBase.Facts), roles(evWith.Facts), "a CVSS line names no kernel version")
		if evWith.Verdict == threatmodel.NotSecurity {
			assert.Equal(t, threatmodel.NotSecurity, evBase.Verdict, "the CVSS line turned the verdict to not-security")
		}
		for _, f := range evWith.Findings {
			if f.RuleID == "ai.cvss" {
				v, _ := e.tm.VerdictOf(f.Category)
				assert.NotEqual(t, threatmodel.NotSecurity, v)
			}
		}
	}
}
