package rules

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/secscreen/secscreen/internal/builtin"
)

//go:embed kernel.yaml
var kernelRulesYAML []byte

// packFS holds the built-in pack's companion files (its fitted weights).
//
//go:embed kernel*.yaml
var packFS embed.FS

// Rule is one declarative rule: when any of its Match patterns matches one
// of its Parts, none of its Unless patterns matches anywhere in the report,
// and its Requires conditions hold for the report's Facts, it fires and
// becomes a Finding.
type Rule struct {
	// ID names the rule; it is unique within a RuleSet and stable, so that
	// an override file can replace or disable it.
	ID string `yaml:"id" json:"id"`
	// Description says in a few words what the rule looks for.
	Description string `yaml:"description" json:"description"`
	// Category is the taxonomy id the rule is evidence for.
	Category string `yaml:"category" json:"category"`
	// Weight is how much one firing adds to Category's score; negative
	// weights count against it.
	Weight float64 `yaml:"weight" json:"weight"`
	// Match lists Go regular expressions; the rule matches where the first
	// of them matches (in list order, then in part order).
	Match []string `yaml:"match" json:"match"`
	// Parts restricts matching to "subject", "body" and/or "attachments";
	// empty means all parts.
	Parts []string `yaml:"parts,omitempty" json:"parts,omitempty"`
	// Unless lists regular expressions that veto the rule when any of them
	// matches any part of the report.
	Unless []string `yaml:"unless,omitempty" json:"unless,omitempty"`
	// Requires holds conditions on the extracted Facts.
	Requires Requires `yaml:"requires,omitempty" json:"requires,omitzero"`
	// CaseSensitive turns off the default case-insensitive matching of
	// Match and Unless.
	CaseSensitive bool `yaml:"case_sensitive,omitempty" json:"case_sensitive,omitempty"`
	// Signal marks a rule whose firing means more than its category:
	// "injection" (text aimed at a screening model) or "ai-style" (signs of
	// unverified tool or AI output).
	Signal string `yaml:"signal,omitempty" json:"signal,omitempty"`
	// Disabled, in an override file, removes the rule with the same ID.
	Disabled bool `yaml:"disabled,omitempty" json:"disabled,omitempty"`

	// Source and Line say where the rule was defined.
	Source string `yaml:"-" json:"source"`
	Line   int    `yaml:"-" json:"line"`

	match  []*pattern
	unless []*pattern
	// fingerprint is the rule's Fingerprint worked out ahead (by go
	// generate, for the built-in pack's rules), nil when there is none.
	fingerprint *knownFingerprint
}

// Requires holds a rule's conditions on Facts; every condition that is set
// must hold. The vocabulary is deliberately small:
//
//   - has_reproducer, has_stack_trace: the fact must equal the value;
//   - privileges_include: at least one listed privilege was extracted
//     ("root", "unprivileged", "userns", or a CAP_* name);
//   - privileges_exclude: none of the listed privileges was extracted;
//   - facts: each named fact is non-empty (true for booleans);
//   - no_facts: each named fact is empty (false for booleans);
//   - versions, about the versions the text names (see Version.Role: a
//     version the reporter ran, one where the bug was introduced, or a
//     release carrying the fix): "eol-only" (versions the reporter ran are
//     named, none of them maintained on the report's date, and no tree
//     such as mainline), "some-eol" (a version the reporter ran, vendor
//     ones included, belongs to a series that was not maintained),
//     "maintained" (a version the reporter ran, or a release carrying the
//     fix, is maintained, or a tree is named), "fixed" (a release carrying
//     the fix belongs to a maintained series) or "none" (no version or
//     tree named). Vendor versions such as "6.8.0-51-generic" count for
//     neither eol-only nor maintained.
//
// Fact names are listed by FactNames.
type Requires struct {
	// HasReproducer, when set, must equal Facts.HasReproducer.
	HasReproducer *bool `yaml:"has_reproducer,omitempty" json:"has_reproducer,omitempty"`
	// HasStackTrace, when set, must equal Facts.HasStackTrace.
	HasStackTrace *bool `yaml:"has_stack_trace,omitempty" json:"has_stack_trace,omitempty"`
	// PrivilegesInclude: at least one of these privileges was extracted.
	PrivilegesInclude []string `yaml:"privileges_include,omitempty" json:"privileges_include,omitempty"`
	// PrivilegesExclude: none of these privileges was extracted.
	PrivilegesExclude []string `yaml:"privileges_exclude,omitempty" json:"privileges_exclude,omitempty"`
	// Facts names facts that must be present.
	Facts []string `yaml:"facts,omitempty" json:"facts,omitempty"`
	// NoFacts names facts that must be absent.
	NoFacts []string `yaml:"no_facts,omitempty" json:"no_facts,omitempty"`
	// Versions is "", "eol-only", "some-eol", "maintained", "fixed" or
	// "none".
	Versions string `yaml:"versions,omitempty" json:"versions,omitempty"`
}

// IsZero reports whether no condition is set.
func (q Requires) IsZero() bool {
	return q.HasReproducer == nil && q.HasStackTrace == nil && len(q.PrivilegesInclude) == 0 &&
		len(q.PrivilegesExclude) == 0 && len(q.Facts) == 0 && len(q.NoFacts) == 0 && q.Versions == ""
}

// RuleSet is a rule pack: an ordered list of rules with unique ids, the
// fact extractors they rely on, and optionally the weights fitted for them
// on a labeled corpus. A pack belongs to a threat model: its categories are
// the model's ids.
type RuleSet struct {
	// Source names where the set came from: "built-in" or a file path.
	Source string
	// Name names the pack, e.g. "kernel".
	Name string
	// Rules are the rules in definition order.
	Rules []Rule
	// Facts are the pack's fact extractors, in order.
	Facts []FactRule
	// Versions says how the project's versions are written; nil means the
	// pack extracts no versions.
	Versions *VersionSpec
	// Features names the facts that the fitted scorer weighs besides the
	// rules (see Weights); empty means none.
	Features []string
	// WeightsFile is the file the pack names for its fitted weights,
	// relative to the pack; LoadFile and KernelRules read it into Weights.
	WeightsFile string
	// Weights are the weights fitted on a labeled corpus (see Fit); nil
	// means the rules' own weights and the hand-written decision apply.
	Weights *Weights
}

// KernelRules returns the built-in rule pack for the Linux kernel's threat
// model (kernel.yaml in this package) with its fitted weights
// (kernel.weights.yaml). Like every loader of built-in data it panics if
// the pack does not load, rather than return an error: see
// internal/builtin for why.
func KernelRules() *RuleSet { return kernelPack().clone() }

var kernelPack = sync.OnceValue(func() *RuleSet {
	set, err := loadKernelPack()
	return builtin.Must("rules: kernel.yaml", "go generate ./screener/rules", set, err)
})

// loadKernelPack returns the built-in pack from kernel_gen.go, or decoded
// from its YAML files when kernel_gen.go is stale.
func loadKernelPack() (*RuleSet, error) {
	if set, ok, err := kernelFromGenerated(); ok || err != nil {
		return set, err
	}
	return parseKernelYAML()
}

// parseKernelYAML decodes the built-in pack from its YAML files.
func parseKernelYAML() (*RuleSet, error) {
	set, err := Parse(kernelRulesYAML, "built-in kernel.yaml")
	if err != nil {
		return nil, err
	}
	if set.WeightsFile != "" {
		// A missing file leaves the hand weights (so that `rules fit` can
		// write it afresh); a broken one is an error.
		data, err := packFS.ReadFile(set.WeightsFile)
		if errors.Is(err, fs.ErrNotExist) {
			return set, nil
		}
		if err != nil {
			return nil, fmt.Errorf("built-in kernel.yaml: weights: %w", err)
		}
		if set.Weights, err = ParseWeights(data, "built-in "+set.WeightsFile); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// clone returns a copy of s whose slices may be changed without changing s.
func (s *RuleSet) clone() *RuleSet {
	c := *s
	c.Rules = slices.Clone(s.Rules)
	c.Facts = slices.Clone(s.Facts)
	c.Features = slices.Clone(s.Features)
	return &c
}

// WithoutWeights returns a copy of s without fitted weights: the rules'
// own weights and the hand-written decision apply, and no rule is
// decisive.
func (s *RuleSet) WithoutWeights() *RuleSet {
	c := s.clone()
	c.Weights, c.WeightsFile = nil, ""
	return c
}

// LoadFile reads a rule pack file, and the weights file it names (relative
// to the pack's directory). Its rules are merged over another set with
// Merge, or used alone as a threat model's pack.
func LoadFile(path string) (*RuleSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	set, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	if set.WeightsFile != "" {
		wp := set.WeightsFile
		if !filepath.IsAbs(wp) {
			wp = filepath.Join(filepath.Dir(path), wp)
		}
		data, err := os.ReadFile(wp)
		if err != nil {
			return nil, fmt.Errorf("%s: weights: %w", path, err)
		}
		if set.Weights, err = ParseWeights(data, wp); err != nil {
			return nil, err
		}
	}
	return set, nil
}

var ruleKeys = []string{"id", "description", "category", "weight", "match", "parts", "unless",
	"requires", "case_sensitive", "signal", "disabled"}

var requiresKeys = []string{"has_reproducer", "has_stack_trace", "privileges_include",
	"privileges_exclude", "facts", "no_facts", "versions"}

// Parse reads a rule pack's content: a mapping with a "rules" list and
// optionally name, description, version, facts, versions, features and
// weights (a file name, or the fitted data inline). source names the file
// in error messages, which also give the rule id and line. Regular
// expressions are compiled here; categories and fact names are checked
// later, against a threat model and the merged pack, by NewEngine. A
// weights file named by the pack is not read here (see LoadFile).
func Parse(data []byte, source string) (*RuleSet, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	set := &RuleSet{Source: source}
	if len(doc.Content) == 0 {
		return set, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping with a \"rules\" list", source, root.Line)
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		v := root.Content[i+1]
		switch k := root.Content[i].Value; k {
		case "rules":
			list = v
		case "name":
			set.Name = v.Value
		case "version", "description":
		case "facts":
			facts, err := decodeFactRules(v, source)
			if err != nil {
				return nil, err
			}
			set.Facts = facts
		case "versions":
			spec, err := decodeVersionSpec(v, source)
			if err != nil {
				return nil, err
			}
			set.Versions = spec
		case "features":
			if err := v.Decode(&set.Features); err != nil {
				return nil, fmt.Errorf("%s:%d: features: %w", source, v.Line, err)
			}
		case "weights":
			switch v.Kind {
			case yaml.ScalarNode:
				set.WeightsFile = v.Value
			case yaml.MappingNode:
				w, err := decodeWeights(v, source)
				if err != nil {
					return nil, err
				}
				set.Weights = w
			default:
				return nil, fmt.Errorf("%s:%d: weights: want a file name or the fitted weights", source, v.Line)
			}
		default:
			return nil, fmt.Errorf("%s:%d: unknown key %q (want rules, facts, versions, features, weights, name, version or description)", source, root.Content[i].Line, k)
		}
	}
	if list == nil {
		return set, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: \"rules\" must be a list", source, list.Line)
	}
	seen := map[string]int{}
	for _, n := range list.Content {
		r, err := parseRule(n, source)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[r.ID]; dup {
			return nil, fmt.Errorf("%s:%d: rule %s: duplicate id (first at line %d)", source, r.Line, r.ID, prev)
		}
		seen[r.ID] = r.Line
		set.Rules = append(set.Rules, r)
	}
	return set, nil
}

func parseRule(n *yaml.Node, source string) (Rule, error) {
	r := Rule{Source: source, Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return r, fmt.Errorf("%s:%d: a rule must be a mapping", source, n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "id" {
			r.ID = n.Content[i+1].Value
		}
	}
	where := fmt.Sprintf("%s:%d: rule %s", source, n.Line, r.ID)
	if r.ID == "" {
		where = fmt.Sprintf("%s:%d: rule without id", source, n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(ruleKeys, k.Value) {
			return r, fmt.Errorf("%s: line %d: unknown key %q", where, k.Line, k.Value)
		}
		if k.Value == "requires" {
			v := n.Content[i+1]
			for j := 0; j+1 < len(v.Content); j += 2 {
				if !slices.Contains(requiresKeys, v.Content[j].Value) {
					return r, fmt.Errorf("%s: line %d: unknown condition %q", where, v.Content[j].Line, v.Content[j].Value)
				}
			}
		}
	}
	if err := n.Decode(&r); err != nil {
		return r, fmt.Errorf("%s: %w", where, err)
	}
	r.Source, r.Line = source, n.Line
	if r.ID == "" {
		return r, fmt.Errorf("%s: missing id", where)
	}
	if r.Disabled {
		return r, nil
	}
	if err := r.compile(); err != nil {
		return r, fmt.Errorf("%s: %w", where, err)
	}
	return r, nil
}

// compile checks the rule's fields other than its category and compiles its
// patterns.
func (r *Rule) compile() error {
	if r.Category == "" {
		return fmt.Errorf("missing category")
	}
	if len(r.Match) == 0 {
		return fmt.Errorf("needs at least one match pattern")
	}
	for _, p := range r.Parts {
		if p != "subject" && p != "body" && p != "attachments" {
			return fmt.Errorf("unknown part %q (want subject, body or attachments)", p)
		}
	}
	if r.Signal != "" && r.Signal != SignalInjection && r.Signal != SignalAIStyle {
		return fmt.Errorf("unknown signal %q (want %s or %s)", r.Signal, SignalInjection, SignalAIStyle)
	}
	if err := r.Requires.check(); err != nil {
		return err
	}
	r.match, r.unless = nil, nil
	for _, p := range r.Match {
		m, err := parseRulePattern(p, r.CaseSensitive, false)
		if err != nil {
			return fmt.Errorf("match pattern %q: %w", p, err)
		}
		r.match = append(r.match, m)
	}
	for _, p := range r.Unless {
		m, err := parseRulePattern(p, r.CaseSensitive, false)
		if err != nil {
			return fmt.Errorf("unless pattern %q: %w", p, err)
		}
		r.unless = append(r.unless, m)
	}
	return nil
}

// check checks the conditions' values; fact names are checked by
// NewEngine, which knows the pack's own facts.
func (q Requires) check() error {
	switch q.Versions {
	case "", "eol-only", "some-eol", "maintained", "fixed", "none":
	default:
		return fmt.Errorf("unknown versions condition %q (want eol-only, some-eol, maintained, fixed or none)", q.Versions)
	}
	return nil
}

// checkFacts reports a fact name that neither the built-in facts nor the
// pack's extractors provide.
func (q Requires) checkFacts(known func(string) bool) error {
	for _, f := range slices.Concat(q.Facts, q.NoFacts) {
		if !known(f) {
			return fmt.Errorf("unknown fact %q (want one of %s, or a fact of the pack's extractors)", f, strings.Join(FactNames(), ", "))
		}
	}
	return nil
}

// Signals a rule may carry (see Rule.Signal).
const (
	// SignalInjection marks text addressed to a screening model.
	SignalInjection = "injection"
	// SignalAIStyle marks signs of unverified tool or AI-written output.
	SignalAIStyle = "ai-style"
)

// Merge returns a new set: s's rules, with each of o's rules replacing the
// rule of the same id in place, or removing it when o's rule is Disabled,
// or appended when the id is new. o's fact extractors are appended to s's;
// o's versions section and features, when given, replace s's. Fitted
// weights merge by rule id: a rule o replaces keeps no fitted record of s's
// (its patterns changed) unless o's weights give one. Neither input is
// changed.
func (s *RuleSet) Merge(o *RuleSet) *RuleSet {
	out := s.clone()
	if o == nil {
		return out
	}
	if o.Source != "" {
		out.Source = s.Source + " + " + o.Source
	}
	if o.Name != "" {
		out.Name = o.Name
	}
	out.Facts = append(out.Facts, o.Facts...)
	if o.Versions != nil {
		out.Versions = o.Versions
	}
	if len(o.Features) > 0 {
		out.Features = slices.Clone(o.Features)
	}
	var replaced []string
	for _, r := range o.Rules {
		i := slices.IndexFunc(out.Rules, func(x Rule) bool { return x.ID == r.ID })
		switch {
		case r.Disabled && i >= 0:
			out.Rules = slices.Delete(out.Rules, i, i+1)
		case r.Disabled:
		case i >= 0:
			out.Rules[i] = r
			replaced = append(replaced, r.ID)
		default:
			out.Rules = append(out.Rules, r)
		}
	}
	out.Weights = s.Weights.merge(o.Weights, replaced)
	return out
}

// wrapSpaces rewrites each literal space outside a character class so that
// it matches any run of whitespace, line breaks included: reports are wrapped
// text, and "gives root in\nthe initial namespace" must match like the
// unwrapped sentence. " ?" and " *" become \s*, " +" becomes \s+.
func wrapSpaces(p string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
			// A ']' right after '[' or '[^' is a literal member.
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(p) && p[i+1] == ']' {
				b.WriteByte(']')
				i++
			}
		case c == ' ':
			next := byte(0)
			if i+1 < len(p) {
				next = p[i+1]
			}
			switch next {
			case '?', '*':
				b.WriteString(`\s*`)
				i++
			case '+':
				b.WriteString(`\s+`)
				i++
			default:
				b.WriteString(`\s+`)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
