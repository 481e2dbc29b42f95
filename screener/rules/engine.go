package rules

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// factTests maps the built-in fact names that Requires.Facts and
// Requires.NoFacts accept to a test of whether the fact is present. A
// pack's own facts (Facts.Other) are present when they hold a value.
var factTests = map[string]func(*Facts) bool{
	"versions":           func(f *Facts) bool { return len(f.Versions) > 0 },
	"trees":              func(f *Facts) bool { return len(f.Trees) > 0 },
	"privileges":         func(f *Facts) bool { return len(f.Privileges) > 0 },
	"config_options":     func(f *Facts) bool { return len(f.ConfigOptions) > 0 },
	"debug_features":     func(f *Facts) bool { return len(f.DebugFeatures) > 0 },
	"out_of_tree":        func(f *Facts) bool { return len(f.OutOfTree) > 0 },
	"crafted_image":      func(f *Facts) bool { return len(f.CraftedImage) > 0 },
	"hardware_emulation": func(f *Facts) bool { return len(f.HardwareEmulation) > 0 },
	"physical_access":    func(f *Facts) bool { return len(f.PhysicalAccess) > 0 },
	"reproducer":         func(f *Facts) bool { return f.HasReproducer },
	"stack_trace":        func(f *Facts) bool { return f.HasStackTrace },
	"files":              func(f *Facts) bool { return len(f.Files) > 0 },
	"functions":          func(f *Facts) bool { return len(f.Functions) > 0 },
	"cvss":               func(f *Facts) bool { return len(f.CVSS) > 0 },
	"ai_markers":         func(f *Facts) bool { return len(f.AIMarkers) > 0 },
	"injection":          func(f *Facts) bool { return len(f.Injection) > 0 },
}

// FactNames lists the built-in fact names a rule's requires.facts and
// requires.no_facts accept, sorted. A pack's extractors may add others.
func FactNames() []string {
	names := make([]string, 0, len(factTests))
	for n := range factTests {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// has reports whether the fact called name is present.
func (f *Facts) has(name string) bool {
	if t, ok := factTests[name]; ok {
		return t(f)
	}
	return len(f.Other[name]) > 0
}

// Holds reports whether the facts satisfy every condition that is set.
func (q Requires) Holds(f *Facts) bool {
	if q.HasReproducer != nil && *q.HasReproducer != f.HasReproducer {
		return false
	}
	if q.HasStackTrace != nil && *q.HasStackTrace != f.HasStackTrace {
		return false
	}
	if len(q.PrivilegesInclude) > 0 && !slices.ContainsFunc(q.PrivilegesInclude, func(p string) bool { return slices.Contains(f.Privileges, p) }) {
		return false
	}
	if slices.ContainsFunc(q.PrivilegesExclude, func(p string) bool { return slices.Contains(f.Privileges, p) }) {
		return false
	}
	for _, n := range q.Facts {
		if !f.has(n) {
			return false
		}
	}
	for _, n := range q.NoFacts {
		if f.has(n) {
			return false
		}
	}
	if q.Versions != "" {
		return versionsHold(q.Versions, f)
	}
	return true
}

// versionsHold tests a versions condition. Only versions the reporter ran
// (Role "") say whether the setup is outdated: the version where a bug was
// introduced is history, and releases that carry a fix show the bug was
// real in maintained trees (they count for "maintained" and "fixed", and
// do not make an end-of-life kernel the reporter ran any less so). Vendor versions (5.14.0-503.el9,
// 6.8.0-51-generic) say nothing about upstream maintenance: their vendor
// maintains them.
func versionsHold(cond string, f *Facts) bool {
	ran := func(v Version) bool { return v.Role == "" && !v.Vendor }
	ranMaintained := func(v Version) bool { return ran(v) && v.Maintained }
	fixedMaintained := func(v Version) bool { return v.Role == RoleFixed && !v.Vendor && v.Maintained }
	switch cond {
	case "eol-only":
		return slices.ContainsFunc(f.Versions, ran) && len(f.Trees) == 0 && !slices.ContainsFunc(f.Versions, ranMaintained)
	case "maintained":
		return len(f.Trees) > 0 || slices.ContainsFunc(f.Versions, ranMaintained) || slices.ContainsFunc(f.Versions, fixedMaintained)
	case "some-eol":
		return slices.ContainsFunc(f.Versions, func(v Version) bool { return v.Role == "" && !v.Maintained })
	case "fixed":
		return slices.ContainsFunc(f.Versions, fixedMaintained)
	case "none":
		return len(f.Versions) == 0 && len(f.Trees) == 0
	}
	return false
}

// Options tunes an Engine. The zero value uses the built-in series list and
// the default thresholds and limits.
type Options struct {
	// Series says which kernel series are maintained; nil means
	// KernelSeries().
	Series *SeriesList
	// MinScore is the summed weight a category needs before the
	// hand-written decision (a pack without fitted weights) acts on it; 0
	// means DefaultMinScore.
	MinScore float64
	// MaxPartBytes is the most bytes of one part (subject, body, an
	// attachment) that the rules and extractors read; 0 means
	// DefaultMaxPartBytes. The rest is not read, and the Evaluation says
	// so in Truncated.
	MaxPartBytes int
	// MaxTotalBytes is the most bytes of all parts together that they
	// read; 0 means DefaultMaxTotalBytes.
	MaxTotalBytes int
}

// Defaults of Options.
const (
	// DefaultMinScore is the weight a category needs to be acted on.
	DefaultMinScore = 2.0
	// DefaultMaxPartBytes bounds the text read per part: 256 KiB holds
	// any report's prose, traces and reproducer; longer parts are logs.
	DefaultMaxPartBytes = 256 << 10
	// DefaultMaxTotalBytes bounds the text read per report.
	DefaultMaxTotalBytes = 1 << 20
)

// Engine evaluates reports against a validated rule pack. It is safe for
// concurrent use.
type Engine struct {
	tm     *threatmodel.Model
	pack   *RuleSet
	rules  []Rule
	opt    Options
	series *SeriesList
	fit    *scorer
	// seesReproducers is true when the pack extracts the reproducer fact.
	seesReproducers bool
	// scanner finds the tokens of every pattern of the engine in one pass
	// over a text; built on first use.
	scanner func() *scanner
}

// NewEngine checks every rule of set against the threat model (each
// category must exist in tm, each fact a rule requires must be one the
// engine extracts) and returns an Engine. Regular expressions were
// compiled when the set was parsed; rules built in code are compiled here.
// When set carries fitted weights, they decide (see the package
// documentation); weights for categories tm does not know are left out.
func NewEngine(tm *threatmodel.Model, set *RuleSet, opt Options) (*Engine, error) {
	if tm == nil {
		return nil, fmt.Errorf("rules engine: no threat model")
	}
	if set == nil {
		return nil, fmt.Errorf("rules engine: no rule set")
	}
	// The rules are copied once: appending them one by one copied the
	// slice of these large structs over and over at every start.
	e := &Engine{tm: tm, opt: opt, series: opt.Series, pack: set, rules: make([]Rule, 0, len(set.Rules))}
	if e.series == nil {
		e.series = KernelSeries()
	}
	if e.opt.MinScore == 0 {
		e.opt.MinScore = DefaultMinScore
	}
	if e.opt.MaxPartBytes <= 0 {
		e.opt.MaxPartBytes = DefaultMaxPartBytes
	}
	if e.opt.MaxTotalBytes <= 0 {
		e.opt.MaxTotalBytes = DefaultMaxTotalBytes
	}
	packFacts := map[string]bool{}
	for _, x := range set.Facts {
		packFacts[x.Fact] = true
	}
	e.seesReproducers = packFacts["reproducer"]
	known := func(name string) bool { _, ok := factTests[name]; return ok || packFacts[name] }
	seen := map[string]bool{}
	for _, r := range set.Rules {
		where := fmt.Sprintf("%s:%d: rule %s", r.Source, r.Line, r.ID)
		if r.Source == "" {
			where = "rule " + r.ID
		}
		if r.Disabled {
			continue
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("%s: duplicate id", where)
		}
		seen[r.ID] = true
		if _, ok := tm.Clause(r.Category); !ok {
			return nil, fmt.Errorf("%s: category %q is not in threat model %s", where, r.Category, tm.Name)
		}
		if err := r.Requires.checkFacts(known); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if len(r.match) != len(r.Match) || len(r.unless) != len(r.Unless) {
			if err := r.compile(); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
		e.rules = append(e.rules, r)
	}
	for _, f := range set.Features {
		if !featureKnown(f, known) {
			return nil, fmt.Errorf("%s: feature %q is no fact the engine extracts", set.Source, f)
		}
	}
	if set.Weights != nil {
		e.fit = newScorer(tm, set.Weights, e.rules, set.Features)
	}
	rules := e.rules
	e.scanner = sync.OnceValue(func() *scanner { return scannerOf(packPatterns(set, rules)) })
	return e, nil
}

// packPatterns lists the patterns an evaluation with pack and rules runs
// through text.findAt: the rules' match and unless patterns, the pack's
// extractors and versions, and the built-in injection pattern.
func packPatterns(pack *RuleSet, rules []Rule) []*pattern {
	pats := []*pattern{patInjection}
	for _, r := range rules {
		pats = append(pats, r.match...)
		pats = append(pats, r.unless...)
	}
	for _, x := range pack.Facts {
		if x.Source != "attachment-name" {
			pats = append(pats, x.match...)
			pats = append(pats, x.also...)
		}
	}
	if pack.Versions != nil {
		pats = append(pats, pack.Versions.m)
	}
	return pats
}

// Rules returns the engine's active rules, in evaluation order.
func (e *Engine) Rules() []Rule { return slices.Clone(e.rules) }

// Series returns the series list the engine judges versions with.
func (e *Engine) Series() *SeriesList { return e.series }

// ThreatModel returns the threat model the engine's categories belong to.
func (e *Engine) ThreatModel() *threatmodel.Model { return e.tm }

// Evaluate extracts the report's facts, runs every rule and derives the
// rules-only label (see the package documentation for the decision). It
// is EvaluateContext without cancellation.
func (e *Engine) Evaluate(r *intake.Report) Evaluation {
	ev, _ := e.EvaluateContext(context.Background(), r)
	return ev
}

// EvaluateContext is Evaluate that stops early when ctx is done: it checks
// ctx between parts while extracting and between rules, and returns
// ctx.Err() with whatever was evaluated so far (not a usable label). Each
// part is read up to Options.MaxPartBytes and all parts up to
// Options.MaxTotalBytes; what was left unread is listed in
// Evaluation.Truncated. The work is linear in the bytes read.
func (e *Engine) EvaluateContext(ctx context.Context, r *intake.Report) (Evaluation, error) {
	ev, _, err := e.evaluate(ctx, r, false, e.scanner())
	return ev, err
}

// evaluateReference is Evaluate without the token filter: every pattern
// runs, whole, on every paragraph. It defines what Evaluate must return,
// and the tests compare the two.
func (e *Engine) evaluateReference(r *intake.Report) Evaluation {
	ev, _, _ := e.evaluate(context.Background(), r, false, nil)
	return ev
}

// Truncation says that the rules read only the first Scanned bytes of a
// part of Size bytes.
type Truncation struct {
	Part    string `json:"part"`
	Scanned int    `json:"scanned"`
	Size    int    `json:"size"`
}

// evaluate runs the engine; with alts it also returns, per rule, which of
// its match alternatives alone would have fired it (for lint). sc filters
// the paragraphs each pattern runs on; nil runs every pattern everywhere.
func (e *Engine) evaluate(ctx context.Context, r *intake.Report, alts bool, sc *scanner) (Evaluation, [][]bool, error) {
	parts := r.Parts()
	texts, trunc := prepare(parts, Limits{Part: e.opt.MaxPartBytes, Total: e.opt.MaxTotalBytes}, sc)
	defer func() {
		for _, x := range texts {
			x.release()
		}
	}()
	ev := Evaluation{Findings: []Finding{}, Truncated: trunc}
	if err := ctx.Err(); err != nil {
		return ev, nil, err
	}
	facts := extract(r, parts, texts, e.pack, e.series)
	ev.Facts = facts
	var hits [][]bool
	if alts {
		hits = make([][]bool, len(e.rules))
	}
	for i := range e.rules {
		if err := ctx.Err(); err != nil {
			return ev, hits, err
		}
		if f, ok := e.fire(&e.rules[i], parts, texts, &facts, -1); ok {
			ev.Findings = append(ev.Findings, f)
		}
		if alts {
			hits[i] = make([]bool, len(e.rules[i].match))
			for j := range hits[i] {
				_, hits[i][j] = e.fire(&e.rules[i], parts, texts, &facts, j)
			}
		}
	}
	e.decide(&ev)
	return ev, hits, nil
}

// Limits bound the text the engine reads of one report.
type Limits struct {
	// Part is the most bytes read per part, Total for all parts; 0 means
	// no bound.
	Part, Total int
}

// prepare cuts each part to the limits (at a rune boundary) and prepares
// it for matching with sc; a part cut short is listed in the truncations.
func prepare(parts []intake.Part, lim Limits, sc *scanner) ([]*text, []Truncation) {
	texts := make([]*text, len(parts))
	var trunc []Truncation
	budget := lim.Total
	for i, p := range parts {
		n := len(p.Text)
		if lim.Part > 0 {
			n = min(n, lim.Part)
		}
		if lim.Total > 0 {
			n = min(n, max(budget, 0))
		}
		for n > 0 && n < len(p.Text) && !utf8.RuneStart(p.Text[n]) {
			n--
		}
		budget -= n
		if n < len(p.Text) {
			trunc = append(trunc, Truncation{Part: p.Name, Scanned: n, Size: len(p.Text)})
		}
		texts[i] = newText(p.Text[:n], sc)
	}
	return texts, trunc
}

func partAllowed(r *Rule, name string) bool {
	if len(r.Parts) == 0 {
		return true
	}
	for _, p := range r.Parts {
		if p == name || (p == "attachments" && strings.HasPrefix(name, "attachment:")) {
			return true
		}
	}
	return false
}

// fire runs rule r over the report; only >= 0 restricts it to that one
// match alternative.
func (e *Engine) fire(r *Rule, parts []intake.Part, texts []*text, facts *Facts, only int) (Finding, bool) {
	if !r.Requires.Holds(facts) {
		return Finding{}, false
	}
	for i, p := range parts {
		ts := texts[i]
		if !partAllowed(r, p.Name) || ts.t == "" {
			continue
		}
		for j, m := range r.match {
			if only >= 0 && j != only {
				continue
			}
			var loc []int
			// The first match is most often not negated: look further only
			// when it is.
			locs := ts.spans(m, 1)
			if len(locs) == 1 && negatedBefore(ts, locs[0][0]) {
				locs = ts.spans(m, maxFactMatches)
			}
			for _, l := range locs {
				if !negatedBefore(ts, l[0]) {
					loc = l[:2]
					break
				}
			}
			if loc == nil {
				continue
			}
			for _, q := range texts {
				for _, u := range r.unless {
					if q.has(u) {
						return Finding{}, false
					}
				}
			}
			return Finding{
				RuleID:      r.ID,
				Description: r.Description,
				Category:    r.Category,
				Weight:      r.Weight,
				Span:        spanOf(p, loc[0], loc[1]),
				Excerpt:     oneLine(p.Text[loc[0]:loc[1]], 120),
			}, true
		}
	}
	return Finding{}, false
}

func spanOf(p intake.Part, start, end int) Span {
	line := 1 + strings.Count(p.Text[:start], "\n")
	col := start - strings.LastIndexByte(p.Text[:start], '\n')
	return Span{Part: p.Name, Line: line, Column: col, Start: start, End: end}
}

// signal reports whether a fired rule of the engine carries the signal.
func (e *Engine) signal(ev *Evaluation, sig string) bool {
	for _, f := range ev.Findings {
		for i := range e.rules {
			if e.rules[i].ID == f.RuleID && e.rules[i].Signal == sig {
				return true
			}
		}
	}
	return false
}

// reRuleNegation finds a negation among the last words before a match.
var reRuleNegation = mustAuxRe(`(?i)(?:\b(?:not|no|never|without|cannot|nor|neither)|n't)(?:\W+\w+){0,3}\W*$`)

// negatedBefore reports whether one of the (up to) four words before
// offset i, in the same clause, is a negation: "does not require
// CAP_SYS_ADMIN" must not fire a rule that looks for "require CAP_SYS_ADMIN",
// nor "no hardware modification" one that looks for hardware modification.
func negatedBefore(ts *text, i int) bool {
	t := ts.t
	s := max(0, i-48)
	for s > 0 && s < i && !utf8.RuneStart(t[s]) {
		s++
	}
	w := t[s:i]
	if c := strings.LastIndexAny(w, ".;:!?,()"); c >= 0 {
		w = w[c+1:]
	}
	if c := strings.LastIndex(w, "\n\n"); c >= 0 {
		w = w[c+2:]
	}
	return ts.aux(reRuleNegation).MatchString(ts.aux(reNoPrivilege).ReplaceAllString(w, " "))
}

// reNoPrivilege finds "without root", "no privileges" and the like: they
// say what the attacker lacks, and do not negate the action that follows
// ("a user without root can read the file").
var reNoPrivilege = mustAuxRe(`(?i)\b(?:without|with no|no) (?:any )?(?:special )?(?:root|privileges?|capabilit(?:y|ies)|sudo|permissions?|credentials)\b`)
