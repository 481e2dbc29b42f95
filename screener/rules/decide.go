package rules

import (
	"math"
	"slices"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// The ids of information a report can lack (see reporting-rules: version,
// reproducer, conditions, description, attacker privileges).
const (
	MissingVersion     = "version"
	MissingReproducer  = "reproducer"
	MissingConditions  = "conditions"
	MissingDescription = "description"
	MissingPrivileges  = "privileges"
)

// Category ids the decision itself produces; they must exist in the threat
// model for needs-info labels to be given.
const (
	catMissing    = "info.missing"
	catUnverified = "info.unverified-tool"
)

// MissingInfo lists what the facts show the report lacks, in the fixed order
// version, reproducer, conditions, description, privileges.
func MissingInfo(f *Facts) []string {
	missing := []string{}
	if len(f.Versions) == 0 && len(f.Trees) == 0 {
		missing = append(missing, MissingVersion)
	}
	if !f.HasReproducer {
		missing = append(missing, MissingReproducer)
	}
	if len(f.ConfigOptions) == 0 && len(f.Privileges) == 0 {
		missing = append(missing, MissingConditions)
	}
	if f.Words < 30 || (!f.HasStackTrace && len(f.Files) == 0 && len(f.Functions) == 0) {
		missing = append(missing, MissingDescription)
	}
	if len(f.Privileges) == 0 {
		missing = append(missing, MissingPrivileges)
	}
	return missing
}

type scored struct {
	category string
	verdict  threatmodel.Verdict
	score    float64
	first    int // index of the first finding, for stable tie-breaking
}

// decide fills in the label of ev from its findings and facts.
func (e *Engine) decide(ev *Evaluation) {
	f := &ev.Facts
	ev.Missing = MissingInfo(f)
	ev.Injection = len(f.Injection) > 0 || e.signal(ev, SignalInjection)

	var cats []scored
	for i, fd := range ev.Findings {
		j := slices.IndexFunc(cats, func(c scored) bool { return c.category == fd.Category })
		if j < 0 {
			v, _ := e.tm.VerdictOf(fd.Category)
			cats = append(cats, scored{category: fd.Category, verdict: v, first: i})
			j = len(cats) - 1
		}
		cats[j].score += fd.Weight - sameWords(ev.Findings[:i], fd)
	}
	best := func(v threatmodel.Verdict) scored {
		var b scored
		for _, c := range cats {
			if c.verdict == v && (b.category == "" || c.score > b.score) {
				b = c
			}
		}
		return b
	}
	positive := 0.0
	for _, c := range cats {
		positive += math.Max(c.score, 0)
	}
	minS, decS := e.opt.MinScore, e.opt.DecisiveScore
	excl, bound, inval := best(threatmodel.NotSecurity), best(threatmodel.Security), best(threatmodel.Invalid)
	var unv, info scored
	for _, c := range cats {
		switch c.category {
		case catUnverified:
			unv = c
		case catMissing:
			info = c
		}
	}
	aiStyle := e.signal(ev, SignalAIStyle)
	set := func(v threatmodel.Verdict, c scored) {
		ev.Verdict, ev.Category, ev.Score = v, c.category, c.score
		ev.Confidence = confidence(c.score, positive-math.Max(c.score, 0))
	}
	switch {
	case inval.score >= minS && inval.score >= excl.score && inval.score >= bound.score:
		// The claim itself is wrong: nothing else matters.
		set(threatmodel.Invalid, inval)
		ev.Decisive = inval.score >= decS && !ev.Injection
	case excl.score >= minS:
		// The threat model's rule: an exclusion wins over boundary evidence.
		set(threatmodel.NotSecurity, excl)
		ev.Decisive = excl.score >= decS && !ev.Injection
	case unv.score >= minS && !f.HasReproducer:
		set(threatmodel.NeedsInfo, unv)
	case bound.score >= minS && !f.HasReproducer:
		// A boundary claim without a reproducer is not processed.
		ev.Verdict, ev.Category, ev.Score = threatmodel.NeedsInfo, catMissing, bound.score
		if aiStyle {
			ev.Category = catUnverified
		}
		ev.Confidence = 0.5
	case bound.score >= minS:
		set(threatmodel.Security, bound)
		hardPriv := slices.Contains(f.Privileges, "unprivileged") || slices.Contains(f.Privileges, "userns")
		noExclusion := !slices.ContainsFunc(cats, func(c scored) bool { return c.verdict == threatmodel.NotSecurity && c.score > 0 })
		eol := (Requires{Versions: "eol-only"}).Holds(f)
		ev.Decisive = bound.score >= decS && hardPriv && noExclusion && !eol && !ev.Injection
	case (unv.score > 0 || aiStyle) && !f.HasReproducer:
		ev.Verdict, ev.Category, ev.Score = threatmodel.NeedsInfo, catUnverified, math.Max(unv.score, 0)
		ev.Confidence = 0.4
	case info.score >= minS:
		set(threatmodel.NeedsInfo, info)
	default:
		// No category has enough evidence: ask for what is missing.
		ev.Verdict, ev.Category, ev.Score = threatmodel.NeedsInfo, catMissing, 0
		ev.Confidence = math.Min(0.2+0.1*float64(len(ev.Missing)), 0.7)
	}
}

// sameWords returns the weight already counted for the words fd matched:
// the largest weight among earlier findings of its category whose span
// covers at least half of the shorter of the two, at most fd's own weight. Two rules that match the same
// phrase ("other users' files") are one piece of evidence, not two.
func sameWords(earlier []Finding, fd Finding) float64 {
	w := 0.0
	for _, o := range earlier {
		if o.Category != fd.Category || o.Span.Part != fd.Span.Part {
			continue
		}
		overlap := min(o.Span.End, fd.Span.End) - max(o.Span.Start, fd.Span.Start)
		shorter := min(o.Span.End-o.Span.Start, fd.Span.End-fd.Span.Start)
		if overlap > 0 && 2*overlap >= shorter {
			w = math.Max(w, math.Min(o.Weight, fd.Weight))
		}
	}
	return w
}

// confidence maps the winning score s and the positive weight o behind other
// categories to [0,1): it grows with s and shrinks with competition.
func confidence(s, o float64) float64 {
	if s <= 0 {
		return 0
	}
	c := (1 - math.Exp(-s/3)) * s / (s + o)
	return math.Round(c*1000) / 1000
}
