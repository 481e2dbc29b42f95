package rules

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// factTests maps the fact names that Requires.Facts and Requires.NoFacts
// accept to a test of whether the fact is present.
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

// FactNames lists the fact names a rule's requires.facts and
// requires.no_facts accept, sorted.
func FactNames() []string {
	names := make([]string, 0, len(factTests))
	for n := range factTests {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
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
		if !factTests[n](f) {
			return false
		}
	}
	for _, n := range q.NoFacts {
		if factTests[n](f) {
			return false
		}
	}
	// Vendor versions (5.14.0-503.el9, 6.8.0-51-generic) say nothing about
	// upstream maintenance: their vendor maintains them.
	upstream := func(v Version) bool { return !v.Vendor }
	maintained := func(v Version) bool { return !v.Vendor && v.Maintained }
	switch q.Versions {
	case "eol-only":
		return slices.ContainsFunc(f.Versions, upstream) && len(f.Trees) == 0 && !slices.ContainsFunc(f.Versions, maintained)
	case "maintained":
		return len(f.Trees) > 0 || slices.ContainsFunc(f.Versions, maintained)
	case "some-eol":
		return slices.ContainsFunc(f.Versions, func(v Version) bool { return !v.Maintained })
	case "none":
		return len(f.Versions) == 0 && len(f.Trees) == 0
	}
	return true
}

// Options tunes an Engine. The zero value uses the built-in series list and
// the default thresholds.
type Options struct {
	// Series says which kernel series are maintained; nil means
	// KernelSeries().
	Series *SeriesList
	// MinScore is the summed weight a category needs before the rules-only
	// decision acts on it; 0 means DefaultMinScore.
	MinScore float64
	// DecisiveScore is the summed weight above which a hard exclusion or a
	// hard boundary makes the evaluation Decisive; 0 means
	// DefaultDecisiveScore.
	DecisiveScore float64
}

// Default thresholds of the rules-only decision.
const (
	// DefaultMinScore is the weight a category needs to be acted on.
	DefaultMinScore = 2.0
	// DefaultDecisiveScore is the weight that makes a decision Decisive.
	DefaultDecisiveScore = 4.0
)

// Engine evaluates reports against a validated rule set. It is safe for
// concurrent use.
type Engine struct {
	tm     *threatmodel.Model
	rules  []Rule
	opt    Options
	series *SeriesList
}

// NewEngine checks every rule of set against the threat model (each
// category must exist in tm) and returns an Engine. Regular expressions were
// compiled when the set was parsed; rules built in code are compiled here.
func NewEngine(tm *threatmodel.Model, set *RuleSet, opt Options) (*Engine, error) {
	if tm == nil {
		return nil, fmt.Errorf("rules engine: no threat model")
	}
	if set == nil {
		return nil, fmt.Errorf("rules engine: no rule set")
	}
	e := &Engine{tm: tm, opt: opt, series: opt.Series}
	if e.series == nil {
		s, err := KernelSeries()
		if err != nil {
			return nil, fmt.Errorf("rules engine: %w", err)
		}
		e.series = s
	}
	if e.opt.MinScore == 0 {
		e.opt.MinScore = DefaultMinScore
	}
	if e.opt.DecisiveScore == 0 {
		e.opt.DecisiveScore = DefaultDecisiveScore
	}
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
		if len(r.match) != len(r.Match) || len(r.unless) != len(r.Unless) {
			if err := r.compile(); err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
		}
		e.rules = append(e.rules, r)
	}
	return e, nil
}

// Rules returns the engine's active rules, in evaluation order.
func (e *Engine) Rules() []Rule { return slices.Clone(e.rules) }

// Series returns the series list the engine judges versions with.
func (e *Engine) Series() *SeriesList { return e.series }

// Evaluate extracts the report's facts, runs every rule and derives the
// rules-only label (see the package documentation for the decision).
func (e *Engine) Evaluate(r *intake.Report) Evaluation {
	parts := r.Parts()
	texts := prepare(parts)
	facts := extract(r, parts, texts, e.series)
	ev := Evaluation{Facts: facts, Findings: []Finding{}}
	for i := range e.rules {
		if f, ok := e.fire(&e.rules[i], parts, texts, &facts); ok {
			ev.Findings = append(ev.Findings, f)
		}
	}
	e.decide(&ev)
	return ev
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

func (e *Engine) fire(r *Rule, parts []intake.Part, texts []*text, facts *Facts) (Finding, bool) {
	if !r.Requires.Holds(facts) {
		return Finding{}, false
	}
	for i, p := range parts {
		if !partAllowed(r, p.Name) || p.Text == "" {
			continue
		}
		for _, m := range r.match {
			var loc []int
			for _, l := range texts[i].findAt(m, -1) {
				if !negatedBefore(p.Text, l[0]) {
					loc = l[:2]
					break
				}
			}
			if loc == nil {
				continue
			}
			for _, q := range texts {
				for _, u := range r.unless {
					if q.first(u) != nil {
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
var reRuleNegation = regexp.MustCompile(`(?i)(?:\b(?:not|no|never|without|cannot|nor|neither)|n't)(?:\W+\w+){0,3}\W*$`)

// negatedBefore reports whether one of the (up to) four words before
// offset i, in the same clause, is a negation: "does not require
// CAP_SYS_ADMIN" must not fire a rule that looks for "require CAP_SYS_ADMIN",
// nor "no hardware modification" one that looks for hardware modification.
func negatedBefore(t string, i int) bool {
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
	return reRuleNegation.MatchString(reNoPrivilege.ReplaceAllString(w, " "))
}

// reNoPrivilege finds "without root", "no privileges" and the like: they
// say what the attacker lacks, and do not negate the action that follows
// ("a user without root can read the file").
var reNoPrivilege = regexp.MustCompile(`(?i)\b(?:without|with no|no) (?:any )?(?:special )?(?:root|privileges?|capabilit(?:y|ies)|sudo|permissions?|credentials)\b`)
