package corpus

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// words returns n distinct-enough words, seeded by tag so that no two
// reports share a body.
func words(tag string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "w%s%d ", tag, i%17)
		if i%12 == 11 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// plantCorpus writes n security and n not-security reports whose body
// lengths come from secLen and restLen.
func plantCorpus(t *testing.T, n int, secLen, restLen func(i int) int) string {
	t.Helper()
	files := map[string]string{}
	var labels []string
	for i := range n {
		for _, side := range []struct {
			verdict, category string
			length            func(int) int
		}{{"security", "isolation.data", secLen}, {"not-security", "privilege.root", restLen}} {
			id := fmt.Sprintf("%s-%02d", side.verdict, i)
			files["reports/"+id+".eml"] = fmt.Sprintf("From: r%d@example.org\nSubject: report %s\nDate: Mon, 3 Mar 2025 10:00:00 +0000\n\n%s\n", i, id, words(id, side.length(i)))
			labels = append(labels, fmt.Sprintf(`{"id":%q,"file":"reports/%s.eml","verdict":%q,"category":%q}`, id, id, side.verdict, side.category))
		}
	}
	return writeCorpus(t, files, labels...)
}

func TestCheckAuditFailsOnAPlantedLengthShortcut(t *testing.T) {
	dir := plantCorpus(t, 12, func(i int) int { return 300 + 10*i }, func(i int) int { return 40 + 5*i })
	r, err := Check(context.Background(), dir, threatmodel.Kernel(), CheckOptions{MaxCueAUC: DefaultMaxCueAUC})
	require.NoError(t, err)
	require.NotNil(t, r.Audit)
	assert.Equal(t, []Kind{ShortcutCue}, kinds(r), "only the length cue fails")
	assert.Contains(t, r.Problems[0].Message, "body length")
	assert.InDelta(t, 1.0, r.Audit.Cues[0].AUC, 1e-9)
	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	assert.Contains(t, b.String(), "SHORTCUT")

	off, err := Check(context.Background(), dir, threatmodel.Kernel(), CheckOptions{})
	require.NoError(t, err)
	assert.Empty(t, off.Problems, "the audit is off unless asked for")
	assert.Nil(t, off.Audit)
}

func TestCheckAuditPassesWhenLengthsOverlap(t *testing.T) {
	length := func(i int) int { return 40 + 37*((i*7)%12) }
	dir := plantCorpus(t, 12, length, length)
	r, err := Check(context.Background(), dir, threatmodel.Kernel(), CheckOptions{MaxCueAUC: DefaultMaxCueAUC})
	require.NoError(t, err)
	assert.Empty(t, r.Problems)
	for _, c := range r.Audit.Cues {
		assert.Less(t, c.Strength, DefaultMaxCueAUC, c.Name)
	}
	require.Len(t, r.Audit.Shares, len(threatmodel.Verdicts))
	assert.Equal(t, 12, r.Audit.Shares[0].N)
}

func TestRankAUC(t *testing.T) {
	assert.InDelta(t, 1.0, rankAUC([]float64{3, 4}, []float64{1, 2}), 1e-12)
	assert.InDelta(t, 0.0, rankAUC([]float64{1}, []float64{2, 3}), 1e-12)
	assert.InDelta(t, 0.5, rankAUC([]float64{1, 1}, []float64{1, 1}), 1e-12, "ties count half")
	assert.InDelta(t, 0.75, rankAUC([]float64{1, 0}, []float64{0, 0}), 1e-12)
	assert.InDelta(t, 0.5, rankAUC(nil, []float64{1}), 1e-12)
}

func TestSurfaceCueDetectors(t *testing.T) {
	for subject, want := range map[string]bool{
		"net/sched: act_ct: UAF on flush":   true,
		"Re: [PATCH v2] io_uring: fix leak": true,
		"Kernel crash when mounting":        false,
		"[SECURITY] Heap overflow in tun":   false,
		"ext4, jbd2: deadlock":              true,
	} {
		assert.Equal(t, want, hasSubsystemPrefix(subject), subject)
	}
	fix := func(body string, atts ...intake.Attachment) bool {
		return hasFix(&intake.Report{Body: body, Attachments: atts})
	}
	assert.True(t, fix("text\nSuggested fix: check the length\n"))
	assert.True(t, fix("## Proposed patch\n"))
	assert.True(t, fix("diff --git a/x.c b/x.c\n"))
	assert.True(t, fix("see attached", intake.Attachment{Name: "0001-fix.patch"}))
	assert.False(t, fix("The fix for the earlier bug did not cover this path.\n"))
	assert.True(t, aiStyle("## Impact\n"))
	assert.True(t, aiStyle("CVSS:3.1/AV:N/AC:L"))
	assert.True(t, aiStyle("| a | b |\n|---|---|\n"))
	assert.True(t, aiStyle("Critical \U0001F6A8 issue"))
	assert.False(t, aiStyle("A plain report, with -> arrows and #include <x.h>."))
}
