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

// decide fills in the label of ev from its findings and facts: with the
// fitted linear scorer when the pack has fitted weights, else with the
// hand-written procedure; then a decisive rule, if any fired, settles it.
func (e *Engine) decide(ev *Evaluation) {
	f := &ev.Facts
	ev.Missing = MissingInfo(f)
	ev.Injection = len(f.Injection) > 0 || e.signal(ev, SignalInjection)
	if e.fit != nil && e.fit.linear {
		e.decideLinear(ev)
	} else {
		e.decideHand(ev)
	}
	e.decideDecisive(ev)
}

// known returns id when the threat model has that category, else "": a
// pack for a model without the report-quality categories gives needs-info
// without a category rather than an id the model does not know.
func (e *Engine) known(id string) string {
	if _, ok := e.tm.Clause(id); ok {
		return id
	}
	return ""
}

// decideLinear scores every category of the threat model with the fitted
// weights: its bias, plus the weights of the fired rules and of the fact
// features that hold (a rule without a fitted record adds its own weight
// to its own category). The best score wins; confidence is the share of
// the categories of its verdict in the sum of all categories' logistic
// probabilities: how sure the scores are of the verdict.
func (e *Engine) decideLinear(ev *Evaluation) {
	sc := e.fit
	logit := slices.Clone(sc.bias)
	for i := range ev.Findings {
		fd := &ev.Findings[i]
		if w, ok := sc.rule[fd.RuleID]; ok {
			for c := range logit {
				logit[c] += w[c]
			}
			fd.Weight = round4(w[sc.index[fd.Category]])
		} else if j, ok := sc.index[fd.Category]; ok {
			logit[j] += fd.Weight
		}
	}
	for k, name := range sc.features {
		if featureHolds(name, &ev.Facts) {
			for c := range logit {
				logit[c] += sc.feat[k][c]
			}
		}
	}
	best := 0
	for c := range logit {
		if logit[c] > logit[best] {
			best = c
		}
	}
	sum, same := 0.0, 0.0
	for c, l := range logit {
		p := sigmoid(l)
		sum += p
		if sc.verdicts[c] == sc.verdicts[best] {
			same += p
		}
	}
	ev.Verdict, ev.Category, ev.Score = sc.verdicts[best], sc.cats[best], round4(logit[best])
	ev.Confidence = math.Round(same/sum*1000) / 1000
}

// decideDecisive makes the evaluation Decisive when decisive rules (see
// MeetsDecisive) fired and all of them are evidence for one verdict: the
// label becomes that verdict, with the category of the heaviest of them.
// A report that addresses a screening model is never decided by the rules
// alone.
func (e *Engine) decideDecisive(ev *Evaluation) {
	if e.fit == nil || ev.Injection {
		return
	}
	var best *Finding
	verdict := threatmodel.Verdict("")
	for i := range ev.Findings {
		fd := &ev.Findings[i]
		if !e.fit.decisive[fd.RuleID] {
			continue
		}
		v, _ := e.tm.VerdictOf(fd.Category)
		if verdict != "" && v != verdict {
			return // decisive rules disagree: nothing is decided
		}
		verdict = v
		if best == nil || fd.Weight > best.Weight {
			best = fd
		}
	}
	if best == nil {
		return
	}
	if ev.Verdict != verdict {
		ev.Verdict, ev.Category, ev.Score = verdict, best.Category, best.Weight
	}
	ev.Decisive = true
}

// decideHand is the hand-written decision of a pack without fitted
// weights (see the package documentation).
func (e *Engine) decideHand(ev *Evaluation) {
	f := &ev.Facts
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
	minS := e.opt.MinScore
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
	// A pack that extracts no reproducers cannot ask for one.
	noRepro := !f.HasReproducer && e.seesReproducers
	set := func(v threatmodel.Verdict, c scored) {
		ev.Verdict, ev.Category, ev.Score = v, c.category, c.score
		ev.Confidence = confidence(c.score, positive-math.Max(c.score, 0))
	}
	switch {
	case inval.score >= minS && inval.score >= excl.score && inval.score >= bound.score:
		// The claim itself is wrong: nothing else matters.
		set(threatmodel.Invalid, inval)
	case excl.score >= minS:
		// The threat model's rule: an exclusion wins over boundary evidence.
		set(threatmodel.NotSecurity, excl)
	case unv.score >= minS && noRepro:
		set(threatmodel.NeedsInfo, unv)
	case bound.score >= minS && noRepro:
		// A boundary claim without a reproducer is not processed.
		ev.Verdict, ev.Category, ev.Score = threatmodel.NeedsInfo, e.known(catMissing), bound.score
		if aiStyle {
			ev.Category = e.known(catUnverified)
		}
		ev.Confidence = 0.5
	case bound.score >= minS:
		set(threatmodel.Security, bound)
	case (unv.score > 0 || aiStyle) && noRepro:
		ev.Verdict, ev.Category, ev.Score = threatmodel.NeedsInfo, e.known(catUnverified), math.Max(unv.score, 0)
		ev.Confidence = 0.4
	case info.score >= minS:
		set(threatmodel.NeedsInfo, info)
	case len(e.rules) == 0:
		// No pack: the rules have no opinion.
		ev.Verdict, ev.Category, ev.Score, ev.Confidence = threatmodel.NeedsInfo, e.known(catMissing), 0, 0
	default:
		// No category has enough evidence: ask for what is missing.
		ev.Verdict, ev.Category, ev.Score = threatmodel.NeedsInfo, e.known(catMissing), 0
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
