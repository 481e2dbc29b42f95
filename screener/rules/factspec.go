package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/secscreen/secscreen/screener/intake"
)

// FactRule is one fact extractor of a rule pack: where one of its Match
// patterns matches a report's text, it adds a value to the fact it names.
// Extractors are data, like rules, so that a pack belongs to a threat
// model: the kernel pack knows CAP_* names and KASAN, another project's pack
// knows its own build options. See the package documentation for the
// format.
type FactRule struct {
	// Fact names the fact the value is added to ("privileges",
	// "debug_features", or a name of the pack's own).
	Fact string `yaml:"fact" json:"fact"`
	// Value is the value added: a template where $0 is the matched text and
	// $1, ${name} its groups; default $0.
	Value string `yaml:"value,omitempty" json:"value,omitempty"`
	// Match lists the patterns, with the syntax of rule patterns.
	Match []string `yaml:"match" json:"match"`
	// CaseSensitive turns off case-insensitive matching.
	CaseSensitive bool `yaml:"case_sensitive,omitempty" json:"case_sensitive,omitempty"`
	// ExactSpaces keeps a pattern's spaces literal instead of letting them
	// match line breaks (for line-anchored patterns such as shell prompts).
	ExactSpaces bool `yaml:"exact_spaces,omitempty" json:"exact_spaces,omitempty"`
	// Negatable skips a match that a negation among the few words before it
	// denies ("without CAP_SYS_ADMIN", "not reachable by unprivileged users").
	Negatable bool `yaml:"negatable,omitempty" json:"negatable,omitempty"`
	// NotAfter skips a match when the 30 bytes before it match this pattern
	// ("gain root" names root as an outcome, not a requirement).
	NotAfter string `yaml:"not_after,omitempty" json:"not_after,omitempty"`
	// MinCount is how many matches one part must hold before any counts.
	MinCount int `yaml:"min_count,omitempty" json:"min_count,omitempty"`
	// Also lists patterns that must each match somewhere in the same part.
	Also []string `yaml:"also,omitempty" json:"also,omitempty"`
	// Map replaces a value by another (aliases: lockdep -> LOCKDEP).
	Map map[string]string `yaml:"map,omitempty" json:"map,omitempty"`
	// Replace lists pairs of strings replaced in the value (old, new, ...).
	Replace []string `yaml:"replace,omitempty" json:"replace,omitempty"`
	// Lower lowercases the value.
	Lower bool `yaml:"lower,omitempty" json:"lower,omitempty"`
	// MaxLen shortens the value to one line of at most this many runes.
	MaxLen int `yaml:"max_len,omitempty" json:"max_len,omitempty"`
	// Except lists values that are dropped (after Map, Replace and Lower).
	Except []string `yaml:"except,omitempty" json:"except,omitempty"`
	// WholePart runs the patterns over the whole part instead of paragraph
	// by paragraph, for patterns that must span a blank line.
	WholePart bool `yaml:"whole_part,omitempty" json:"whole_part,omitempty"`
	// Source is "text" (default: the report's parts) or "attachment-name"
	// (the names of its text attachments).
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
	// Section and MinWords, set together, keep a match only when the text
	// after it, up to the next match of Section, holds more than MinWords
	// words (a long "Impact" section).
	Section  string `yaml:"section,omitempty" json:"section,omitempty"`
	MinWords int    `yaml:"min_words,omitempty" json:"min_words,omitempty"`

	// Line is where the extractor was defined.
	Line int `yaml:"-" json:"line"`

	match  []*pattern
	also   []*pattern
	groups bool // the value needs a match's groups

	notAfter *auxRe
	section  *auxRe
	replacer *strings.Replacer
}

var factRuleKeys = []string{"fact", "value", "match", "case_sensitive", "exact_spaces", "negatable",
	"not_after", "min_count", "also", "map", "replace", "lower", "max_len", "except", "whole_part",
	"source", "section", "min_words"}

// Reserved fact names: their extraction is code, not pack data.
const (
	// FactVersions is filled from the pack's versions section.
	FactVersions = "versions"
	// FactInjection is filled by the built-in detector of text aimed at a
	// screening model, whatever the pack.
	FactInjection = "injection"
)

// patternSource returns the expression of a pattern of a rule or
// extractor: case-insensitive unless caseSensitive, spaces matching wrapped
// lines unless exactSpaces.
func patternSource(p string, caseSensitive, exactSpaces bool) string {
	if !exactSpaces {
		p = wrapSpaces(p)
	}
	if !caseSensitive {
		p = "(?i)" + p
	}
	return p
}

// compileAux parses a pattern of a rule or extractor (see patternSource)
// that runs on the short strings around matches.
func compileAux(p string, caseSensitive, exactSpaces bool) (*auxRe, error) {
	return newAuxRe(patternSource(p, caseSensitive, exactSpaces))
}

// parseRulePattern parses a pattern of a rule or extractor (see
// patternSource); it is compiled when a text first may hold a match.
func parseRulePattern(p string, caseSensitive, exactSpaces bool) (*pattern, error) {
	return parsePattern(patternSource(p, caseSensitive, exactSpaces))
}

func (x *FactRule) compile() error {
	if err := x.check(); err != nil {
		return err
	}
	x.match, x.also = nil, nil
	for _, p := range x.Match {
		m, err := parseRulePattern(p, x.CaseSensitive, x.ExactSpaces)
		if err != nil {
			return fmt.Errorf("match pattern %q: %w", p, err)
		}
		x.match = append(x.match, m)
	}
	for _, p := range x.Also {
		m, err := parseRulePattern(p, x.CaseSensitive, x.ExactSpaces)
		if err != nil {
			return fmt.Errorf("also pattern %q: %w", p, err)
		}
		x.also = append(x.also, m)
	}
	return x.compileRest()
}

// check checks the extractor's fields.
func (x *FactRule) check() error {
	if x.Fact == "" {
		return fmt.Errorf("missing fact name")
	}
	if x.Fact == FactVersions || x.Fact == FactInjection {
		return fmt.Errorf("fact %q is built in and cannot be extracted by patterns", x.Fact)
	}
	if len(x.Match) == 0 {
		return fmt.Errorf("needs at least one match pattern")
	}
	switch x.Source {
	case "", "text", "attachment-name":
	default:
		return fmt.Errorf("unknown source %q (want text or attachment-name)", x.Source)
	}
	if len(x.Replace)%2 != 0 {
		return fmt.Errorf("replace needs pairs of strings")
	}
	if (x.Section == "") != (x.MinWords == 0) {
		return fmt.Errorf("section and min_words go together")
	}
	return nil
}

// compileRest compiles what the extractor needs besides its match and
// also patterns.
func (x *FactRule) compileRest() error {
	var err error
	if x.NotAfter != "" {
		if x.notAfter, err = compileAux(x.NotAfter+`\s*$`, x.CaseSensitive, false); err != nil {
			return fmt.Errorf("not_after pattern: %w", err)
		}
	}
	if x.Section != "" {
		if x.section, err = compileAux(x.Section, x.CaseSensitive, x.ExactSpaces); err != nil {
			return fmt.Errorf("section pattern: %w", err)
		}
	}
	if len(x.Replace) > 0 {
		x.replacer = strings.NewReplacer(x.Replace...)
	}
	x.groups = strings.Contains(x.Value, "$") && x.Value != "$0"
	return nil
}

// maxFactValues bounds the values one fact collects from one report, and
// maxFactMatches the matches one extractor examines in one part: a hostile
// report must not make extraction quadratic.
const (
	maxFactValues  = 64
	maxFactMatches = 512
)

// value turns a match of re (offsets in t) into the fact's value; ok is
// false when the value is empty or excepted.
func (x *FactRule) value(m *pattern, t string, loc []int) (string, bool) {
	var v string
	switch tpl := x.Value; {
	case tpl == "" || tpl == "$0":
		v = t[loc[0]:loc[1]]
	case !strings.Contains(tpl, "$"):
		v = tpl
	default:
		var buf [64]byte // most values fit: one allocation, the string's
		v = string(expandTemplate(buf[:0], tpl, m.capNames(), t, loc))
	}
	if x.replacer != nil {
		v = x.replacer.Replace(v)
	}
	if m, ok := x.Map[v]; ok {
		v = m
	}
	if x.Lower {
		v = strings.ToLower(v)
	}
	if x.MaxLen > 0 {
		v = oneLine(v, x.MaxLen)
	}
	v = strings.TrimSpace(v)
	return v, v != "" && !slices.Contains(x.Except, v)
}

// run applies the extractor to one part's text and adds what it finds.
func (x *FactRule) run(ts *text, f *Facts) {
	t := ts.t
	// Without a possible match there is nothing to add, whatever the also
	// patterns say: skip them.
	if !slices.ContainsFunc(x.match, func(m *pattern) bool { return ts.mayMatch(m, x.WholePart) }) {
		return
	}
	for _, a := range x.also {
		if !ts.has(a) {
			return
		}
	}
	var vals []string
	count, need := 0, max(1, x.MinCount)
	// An extractor whose value is the same for every match (a constant, or
	// a fact that only records that it was seen) is done once it has
	// counted enough matches: more would add nothing. It asks for that many
	// first, and for the rest only when some were skipped (the first n
	// matches are the first n of all).
	enough := x.Fact == "stack_trace" || x.Value != "" && !strings.Contains(x.Value, "$")
	find := func(m *pattern, n int) [][]int {
		if x.WholePart {
			return ts.findWhole(m, n, x.groups)
		}
		return ts.find(m, n, x.groups)
	}
	for _, m := range x.match {
		if enough && count >= need {
			break
		}
		limit, done := maxFactMatches, 0
		if enough {
			limit = need - count
		}
		for {
			locs := find(m, limit)
			for _, loc := range locs[done:] {
				if x.Negatable && negated(ts, loc[0]) {
					continue
				}
				if x.notAfter != nil && ts.aux(x.notAfter).MatchString(t[max(0, loc[0]-30):loc[0]]) {
					continue
				}
				if x.section != nil && !longSection(ts, loc[1], x.section, x.MinWords) {
					continue
				}
				count++
				if v, ok := x.value(m, t, loc); ok {
					vals = append(vals, v)
				}
				if x.section != nil && count >= need {
					break // one long section is enough; each costs a scan
				}
			}
			if !enough || count >= need || len(locs) < limit || limit == maxFactMatches {
				break
			}
			limit, done = maxFactMatches, len(locs)
		}
	}
	if count < need {
		return
	}
	for _, v := range vals {
		f.add(x.Fact, v)
	}
}

// expandTemplate appends tpl to dst with its references to the groups of
// the match loc in src replaced, as regexp.Regexp.Expand does: $name or
// ${name}, where name is a run of letters, digits and underscores, taken
// as long as it goes ($1x is the group "1x"); a number names a group by
// index (without leading zeros), anything else by name (names[i] is group
// i's); a group that is not there, or did not take part, is empty; $$ is
// a $, and a $ not followed by a name is itself.
func expandTemplate(dst []byte, tpl string, names []string, src string, loc []int) []byte {
	for {
		before, after, ok := strings.Cut(tpl, "$")
		if !ok {
			return append(dst, tpl...)
		}
		dst = append(dst, before...)
		tpl = after
		if strings.HasPrefix(tpl, "$") {
			dst = append(dst, '$')
			tpl = tpl[1:]
			continue
		}
		name, rest, ok := templateName(tpl)
		if !ok {
			dst = append(dst, '$')
			continue
		}
		tpl = rest
		took := func(g int) bool { return 2*g+1 < len(loc) && loc[2*g] >= 0 }
		if n, err := strconv.Atoi(name); err == nil && len(name) <= 9 && (name[0] != '0' || len(name) == 1) {
			if took(n) {
				dst = append(dst, src[loc[2*n]:loc[2*n+1]]...)
			}
			continue
		}
		// Names may repeat: the first group of the name that took part.
		for g, gn := range names {
			if gn == name && took(g) {
				dst = append(dst, src[loc[2*g]:loc[2*g+1]]...)
				break
			}
		}
	}
}

// templateName reads the name at the start of s (after a $): the name,
// what follows it, and whether there was one.
func templateName(s string) (name, rest string, ok bool) {
	brace := strings.HasPrefix(s, "{")
	if brace {
		s = s[1:]
	}
	i := 0
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		i += w
	}
	if i == 0 {
		return "", "", false
	}
	name, rest = s[:i], s[i:]
	if brace {
		if !strings.HasPrefix(rest, "}") {
			return "", "", false
		}
		rest = rest[1:]
	}
	return name, rest, true
}

// longSection reports whether the text after offset i, up to the next
// match of section (at most 64 KiB on), holds more than n words.
func longSection(ts *text, i int, section *auxRe, n int) bool {
	t := ts.t
	rest := t[i:min(len(t), i+64<<10)]
	if loc := ts.aux(section).FindStringIndex(rest); loc != nil && loc[0] > 0 {
		rest = rest[:loc[0]]
	}
	return countFields(rest) > n
}

// runNames applies an attachment-name extractor to a report.
func (x *FactRule) runNames(r *intake.Report, f *Facts) {
	for _, a := range r.Attachments {
		if a.Binary || a.Text == "" {
			continue
		}
		for _, m := range x.match {
			if loc := m.regexp().FindStringSubmatchIndex(a.Name); loc != nil {
				if v, ok := x.value(m, a.Name, loc); ok {
					f.add(x.Fact, v)
				}
				break
			}
		}
	}
}

// VersionSpec is a pack's description of how its project's version numbers
// are written and what the words around them mean. Its patterns are data;
// the judgement (is the series maintained on the report's date) is code,
// against a SeriesList. See the package documentation.
type VersionSpec struct {
	// Pattern finds a version; it must have the named groups major and
	// minor, and may have prefix, patch, rc and suffix.
	Pattern string `yaml:"pattern" json:"pattern"`
	// MaxMinor bounds the minor number per major; a major not listed is no
	// version of the project.
	MaxMinor map[int]int `yaml:"max_minor" json:"max_minor"`
	// Context must match on the version's line or the two before it, unless
	// the version has a prefix or is a release candidate.
	Context string `yaml:"context" json:"context"`
	// NotAfter rejects a version right after another program's name on the
	// same line ("gcc 12.2").
	NotAfter string `yaml:"not_after,omitempty" json:"not_after,omitempty"`
	// SkipLine rejects every version on a line it matches (a CVSS line).
	SkipLine string `yaml:"skip_line,omitempty" json:"skip_line,omitempty"`
	// VendorSuffix marks a version whose suffix names a distribution.
	VendorSuffix string `yaml:"vendor_suffix,omitempty" json:"vendor_suffix,omitempty"`
	// Introduced, Fixed and Running are the words that give a version its
	// Role: the nearest of them before the version, in the same sentence,
	// decides ("introduced in 4.14 and fixed in 6.1.92, 6.6.32": 4.14 is
	// where the bug came in, the others are releases with the fix). No
	// such word, or a Running word, means a version the reporter ran.
	Introduced string `yaml:"introduced,omitempty" json:"introduced,omitempty"`
	Fixed      string `yaml:"fixed,omitempty" json:"fixed,omitempty"`
	Running    string `yaml:"running,omitempty" json:"running,omitempty"`

	context, notAfter, skipLine, vendor, introduced, fixed, running *auxRe
	groups                                                          map[string]int
	m                                                               *pattern
}

func (v *VersionSpec) compile() error {
	var err error
	if v.Pattern == "" {
		return fmt.Errorf("versions: missing pattern")
	}
	if v.m, err = parseRulePattern(v.Pattern, false, true); err != nil {
		return fmt.Errorf("versions: pattern: %w", err)
	}
	v.groups = map[string]int{}
	for _, g := range []string{"prefix", "major", "minor", "patch", "rc", "suffix"} {
		v.groups[g] = v.m.subexpIndex(g)
	}
	if v.groups["major"] < 0 || v.groups["minor"] < 0 {
		return fmt.Errorf("versions: pattern needs the named groups major and minor")
	}
	if len(v.MaxMinor) == 0 {
		return fmt.Errorf("versions: max_minor is missing")
	}
	for name, p := range map[string]struct {
		src string
		dst **auxRe
	}{
		"context": {v.Context, &v.context}, "not_after": {v.NotAfter, &v.notAfter},
		"skip_line": {v.SkipLine, &v.skipLine}, "vendor_suffix": {v.VendorSuffix, &v.vendor},
		"introduced": {v.Introduced, &v.introduced}, "fixed": {v.Fixed, &v.fixed}, "running": {v.Running, &v.running},
	} {
		if p.src == "" {
			*p.dst = nil
			continue
		}
		src := p.src
		if name == "not_after" {
			src = "(?:" + src + `)[\s:/=v-]*$`
		}
		if *p.dst, err = compileAux(src, false, false); err != nil {
			return fmt.Errorf("versions: %s: %w", name, err)
		}
	}
	return nil
}

// group returns the text of a named group of a match, "" when it did not
// take part.
func (v *VersionSpec) group(t string, m []int, name string) (string, int) {
	i := v.groups[name]
	if i < 0 || m[2*i] < 0 {
		return "", -1
	}
	return t[m[2*i]:m[2*i+1]], m[2*i]
}

// decodeFactRules reads a pack's facts list.
func decodeFactRules(list *yaml.Node, source string) ([]FactRule, error) {
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: \"facts\" must be a list", source, list.Line)
	}
	var out []FactRule
	for _, n := range list.Content {
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s:%d: a fact extractor must be a mapping", source, n.Line)
		}
		name := ""
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "fact" {
				name = n.Content[i+1].Value
			}
		}
		where := fmt.Sprintf("%s:%d: fact extractor %s", source, n.Line, name)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; !slices.Contains(factRuleKeys, k.Value) {
				return nil, fmt.Errorf("%s: line %d: unknown key %q", where, k.Line, k.Value)
			}
		}
		var x FactRule
		if err := n.Decode(&x); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		x.Line = n.Line
		if err := x.compile(); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// decodeVersionSpec reads a pack's versions section.
func decodeVersionSpec(n *yaml.Node, source string) (*VersionSpec, error) {
	var v VersionSpec
	dec := n
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: \"versions\" must be a mapping", source, n.Line)
	}
	known := []string{"pattern", "max_minor", "context", "not_after", "skip_line", "vendor_suffix", "introduced", "fixed", "running"}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(known, k.Value) {
			return nil, fmt.Errorf("%s:%d: versions: unknown key %q", source, k.Line, k.Value)
		}
	}
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s:%d: versions: %w", source, n.Line, err)
	}
	if err := v.compile(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", source, n.Line, err)
	}
	return &v, nil
}

// atoi is strconv.Atoi without the error: the pattern's groups are digits.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
