package corpus

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/secscreen/secscreen/internal/lazyre"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// DefaultMaxCueAUC is the strength at which a surface cue counts as a
// shortcut: a single feature of form, not substance, that separates
// security reports from the rest this well would let a classifier score
// without reading what a report says.
const DefaultMaxCueAUC = 0.70

// Cue is one surface feature measured against the security-vs-rest split.
type Cue struct {
	// Name says what is measured, e.g. "body length (words)".
	Name string `json:"name"`
	// AUC is the probability that a random security report scores higher on
	// the cue than a random other report (ties count half).
	AUC float64 `json:"auc"`
	// Strength is max(AUC, 1-AUC): how well the cue separates, whichever
	// way round.
	Strength float64 `json:"strength"`
	// N is the number of reports the cue could be measured on.
	N int `json:"n"`
}

// Shares is, for one verdict, the share of its reports with each kind of
// real-mail shape. Shapes that appear for one verdict only are cues too.
type Shares struct {
	// Verdict is the verdict; N the number of its reports read.
	Verdict threatmodel.Verdict `json:"verdict"`
	N       int                 `json:"n"`
	// Attachments, Threads, HTML and AIStyle are shares in [0, 1] of reports
	// with a MIME attachment, with several messages (a thread), with an HTML
	// part, and with AI-style markup (Markdown headings or tables, a CVSS
	// vector, emoji).
	Attachments float64 `json:"attachments"`
	Threads     float64 `json:"threads"`
	HTML        float64 `json:"html"`
	AIStyle     float64 `json:"ai_style"`
}

// Audit is the shortcut audit of a corpus.
type Audit struct {
	// MaxCueAUC is the strength at or above which a cue is a problem.
	MaxCueAUC float64 `json:"max_cue_auc"`
	// Cues are the surface cues measured, security against the rest.
	Cues []Cue `json:"cues"`
	// Shares are the real-mail shapes per verdict, in verdict order.
	Shares []Shares `json:"shares"`
}

var (
	// fixLine: a line introducing a fix or patch ("Fix:", "Suggested fix:",
	// "## Proposed patch"), or a unified diff.
	fixLine = lazyre.New(`(?im)^[\s#*>_-]*(?:(?:suggested|proposed|possible|recommended|candidate|potential)\s+)?(?:fix|fixes|patch|remediation)\b[^\n:]{0,20}:|^#{1,6}\s+(?:\w+\s+){0,2}(?:fix|patch|remediation)\b|^diff --git |^--- a/\S|^\+\+\+ b/\S|^@@ -\d+(?:,\d+)? \+\d+`)
	// replyTags strips "Re:", "Fwd:" and bracketed tags before a subject.
	replyTags = lazyre.New(`^(?:\s*(?:(?i:re|fwd?|aw|sv|wg)\s*:|\[[^\]]*\]))*\s*`)
	// subsystemPrefix: a lower-case "subsys: " or "net/sched: " prefix.
	subsystemPrefix = lazyre.New(`^[a-z0-9][a-z0-9_./+-]*(?:\s*[,/]\s*[a-z0-9_.+-]+)*:\s`)
	mdHeading       = lazyre.New(`(?m)^#{1,4} \S`)
	mdTable         = lazyre.New(`(?m)^\s*\|[^\n]*\|\s*\n\s*\|[\s:|-]*-{3,}`)
	cvssVector      = lazyre.New(`(?i)CVSS:[234]\.\d/|\bCVSS\s*(?:v?[234](?:\.\d)?)?\s*(?:base\s*)?score`)
	htmlPart        = lazyre.New(`(?i)content-type:\s*text/html`)
)

// hasFix reports whether a report proposes a fix: a fix line or a diff in
// its body, or an attached .patch or .diff.
func hasFix(r *intake.Report) bool {
	if fixLine.MatchString(r.Body) {
		return true
	}
	for _, a := range r.Attachments {
		n := strings.ToLower(a.Name)
		if strings.HasSuffix(n, ".patch") || strings.HasSuffix(n, ".diff") || fixLine.MatchString(a.Text) {
			return true
		}
	}
	return false
}

// hasSubsystemPrefix reports whether the subject, without reply and
// bracket tags, starts with a kernel-style "subsystem: " prefix.
func hasSubsystemPrefix(subject string) bool {
	return subsystemPrefix.MatchString(replyTags.ReplaceAllString(subject, ""))
}

// aiStyle reports whether text has the markup AI-assisted reports favour.
func aiStyle(text string) bool {
	if mdHeading.MatchString(text) || mdTable.MatchString(text) || cvssVector.MatchString(text) {
		return true
	}
	for _, r := range text {
		if unicode.Is(unicode.So, r) && r >= 0x2600 {
			return true
		}
	}
	return false
}

// auditInput is one report as the audit sees it.
type auditInput struct {
	security bool
	verdict  threatmodel.Verdict
	report   *intake.Report
	raw      []byte
}

// audit measures the surface cues and mail shapes of the reports read.
func audit(in []auditInput, maxAUC float64) *Audit {
	a := &Audit{MaxCueAUC: maxAUC}
	type cueFn func(auditInput) (float64, bool)
	cues := []struct {
		name string
		fn   cueFn
	}{
		{"body length (words)", func(x auditInput) (float64, bool) {
			return float64(len(strings.Fields(x.report.Body))), true
		}},
		{"fix or patch proposed", func(x auditInput) (float64, bool) { return b2f(hasFix(x.report)), true }},
		{"subsystem subject prefix", func(x auditInput) (float64, bool) {
			return b2f(hasSubsystemPrefix(x.report.Subject)), true
		}},
		{"'->' in subject", func(x auditInput) (float64, bool) {
			return b2f(strings.Contains(x.report.Subject, "->")), true
		}},
		{"year of Date", func(x auditInput) (float64, bool) {
			if x.report.Date.IsZero() {
				return 0, false
			}
			return float64(x.report.Date.Year()), true
		}},
		{"attachments", func(x auditInput) (float64, bool) { return b2f(len(x.report.Attachments) > 0), true }},
		{"AI-style markup", func(x auditInput) (float64, bool) { return b2f(aiStyle(x.report.Body)), true }},
	}
	for _, c := range cues {
		var pos, neg []float64
		for _, x := range in {
			v, ok := c.fn(x)
			if !ok {
				continue
			}
			if x.security {
				pos = append(pos, v)
			} else {
				neg = append(neg, v)
			}
		}
		auc := rankAUC(pos, neg)
		a.Cues = append(a.Cues, Cue{Name: c.name, AUC: auc, Strength: max(auc, 1-auc), N: len(pos) + len(neg)})
	}
	for _, v := range threatmodel.Verdicts {
		s := Shares{Verdict: v}
		for _, x := range in {
			if x.verdict != v {
				continue
			}
			s.N++
			s.Attachments += b2f(len(x.report.Attachments) > 0)
			s.Threads += b2f(x.report.ThreadSize > 1)
			s.HTML += b2f(htmlPart.Match(x.raw))
			s.AIStyle += b2f(aiStyle(x.report.Body))
		}
		if s.N > 0 {
			n := float64(s.N)
			s.Attachments, s.Threads, s.HTML, s.AIStyle = s.Attachments/n, s.Threads/n, s.HTML/n, s.AIStyle/n
		}
		a.Shares = append(a.Shares, s)
	}
	return a
}

// Shortcuts returns the cues whose strength reaches MaxCueAUC.
func (a *Audit) Shortcuts() []Cue {
	var out []Cue
	for _, c := range a.Cues {
		if c.Strength >= a.MaxCueAUC && c.N > 0 {
			out = append(out, c)
		}
	}
	return out
}

// rankAUC is the Mann-Whitney estimate of P(pos > neg), ties counting
// half; 0.5 when either side is empty.
func rankAUC(pos, neg []float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return 0.5
	}
	type v struct {
		x   float64
		pos bool
	}
	all := make([]v, 0, len(pos)+len(neg))
	for _, x := range pos {
		all = append(all, v{x, true})
	}
	for _, x := range neg {
		all = append(all, v{x, false})
	}
	slices.SortFunc(all, func(a, b v) int {
		switch {
		case a.x < b.x:
			return -1
		case a.x > b.x:
			return 1
		}
		return 0
	})
	// Sum of the positives' mid-ranks.
	var rankSum float64
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].x == all[i].x {
			j++
		}
		mid := float64(i+j+1) / 2 // ranks i+1..j, averaged
		for k := i; k < j; k++ {
			if all[k].pos {
				rankSum += mid
			}
		}
		i = j
	}
	np, nn := float64(len(pos)), float64(len(neg))
	return (rankSum - np*(np+1)/2) / (np * nn)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// writeAudit appends the audit to a check report's text.
func writeAudit(b *bytes.Buffer, a *Audit) {
	fmt.Fprintf(b, "\nshortcut audit (security vs the rest; a cue fails at strength >= %.2f)\n", a.MaxCueAUC)
	fmt.Fprintf(b, "  %-28s %6s %9s %5s\n", "cue", "AUC", "strength", "n")
	for _, c := range a.Cues {
		flag := ""
		if c.Strength >= a.MaxCueAUC {
			flag = "  SHORTCUT"
		}
		fmt.Fprintf(b, "  %-28s %6.3f %9.3f %5d%s\n", c.Name, c.AUC, c.Strength, c.N, flag)
	}
	fmt.Fprintf(b, "\n  %-14s %5s %12s %8s %6s %9s\n", "verdict", "n", "attachments", "threads", "HTML", "AI style")
	for _, s := range a.Shares {
		fmt.Fprintf(b, "  %-14s %5d %11.0f%% %7.0f%% %5.0f%% %8.0f%%\n", s.Verdict, s.N, 100*s.Attachments, 100*s.Threads, 100*s.HTML, 100*s.AIStyle)
	}
}
