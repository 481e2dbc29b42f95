// Package threatmodel holds the vocabulary of verdicts and categories that
// every other part of secscreen speaks, and the clauses of a project's threat
// model that give each category its meaning.
//
// A Model is a list of Clauses. Each Clause has a stable category id (such as
// "privilege.root"), the Verdict that id implies, a short summary in
// secscreen's own words, and the section of the source document it comes
// from. The Linux kernel's model is built in (see Kernel); other models load
// from the kernel's RST document, from Markdown, or from a YAML file (see
// Load).
//
// This package is the only place that decides whether an id exists and which
// verdict it belongs to: rules, prompts, answers and corpora all validate
// through a Model.
package threatmodel

import (
	"fmt"
	"slices"
	"strings"

	"github.com/secscreen/secscreen/internal/enum"
)

// Verdict is the top-level decision about a report.
type Verdict string

// The four verdicts of the taxonomy.
const (
	// Security: crosses a trust boundary on a correctly configured,
	// maintained system and is realistically exploitable.
	Security Verdict = "security"
	// NotSecurity: a real bug of a class the threat model excludes.
	NotSecurity Verdict = "not-security"
	// NeedsInfo: cannot be decided from what the report says.
	NeedsInfo Verdict = "needs-info"
	// Invalid: not a bug at all.
	Invalid Verdict = "invalid"
)

// Verdicts lists every verdict in a fixed order (used for tables and
// confusion matrices).
var Verdicts = []Verdict{Security, NotSecurity, NeedsInfo, Invalid}

// verdicts parses verdict names, exactly as written (a model that answers
// "Security" is asked to repair its answer).
var verdicts = enum.Set[Verdict]{What: "verdict", Values: Verdicts}

// ParseVerdict returns the Verdict named by s, or an error naming the
// accepted values.
func ParseVerdict(s string) (Verdict, error) { return verdicts.Parse(s) }

// Label is a verdict and a category id of the threat model: what every
// classifier, the decision and the corpus say about a report. On the wire
// it is the two fields "verdict" and "category".
type Label struct {
	// Verdict is the top-level decision.
	Verdict Verdict `json:"verdict"`
	// Category is a category id that belongs to Verdict in the threat
	// model, e.g. "privilege.root".
	Category string `json:"category"`
}

// String writes the label as "verdict/category".
func (l Label) String() string { return string(l.Verdict) + "/" + l.Category }

// Clause is one item of a threat model: a category id, the verdict it
// implies, and what it means.
type Clause struct {
	// ID is the stable category id, e.g. "capability.sys-admin".
	ID string `json:"id" yaml:"id"`
	// Verdict is the verdict a report in this category gets.
	Verdict Verdict `json:"verdict" yaml:"verdict"`
	// Title is a few words naming the clause.
	Title string `json:"title" yaml:"title"`
	// Summary says in one or two sentences what the clause covers.
	Summary string `json:"summary" yaml:"summary"`
	// Section names the part of the source document the clause comes from.
	Section string `json:"section,omitempty" yaml:"section,omitempty"`
	// Text is the clause's wording in the source document, when the model was
	// loaded from one (RST or Markdown); empty for the built-in model.
	Text string `json:"text,omitempty" yaml:"text,omitempty"`
}

// Model is a threat model: an ordered list of clauses with unique ids.
type Model struct {
	// Name names the model, e.g. "linux-kernel".
	Name string `json:"name" yaml:"name"`
	// Source says where the model came from: "built-in" or a file path.
	Source string `json:"source" yaml:"-"`
	// Clauses are the model's clauses in document order.
	Clauses []Clause `json:"clauses" yaml:"clauses"`
	// RulePack is the rule pack the model names (a YAML model's "rules"
	// key): a file path, resolved against the model file's directory, or
	// NoRulePack. Empty means the model names none (see rules.PackFor for
	// what is used then).
	RulePack string `json:"rule_pack,omitempty" yaml:"rules,omitempty"`

	index map[string]int
}

// NoRulePack, as a model's rules key, says that the model has no rule
// pack: reports are screened by the model (and the baseline) alone.
const NoRulePack = "none"

// New builds a Model from clauses, checking that every id is non-empty and
// unique and that every verdict is one of Verdicts.
func New(name, source string, clauses []Clause) (*Model, error) {
	m := &Model{Name: name, Source: source, Clauses: clauses, index: make(map[string]int, len(clauses))}
	for i, c := range clauses {
		if strings.TrimSpace(c.ID) == "" {
			return nil, fmt.Errorf("threat model %s: clause %d has no id", name, i+1)
		}
		if _, err := ParseVerdict(string(c.Verdict)); err != nil {
			return nil, fmt.Errorf("threat model %s: clause %s: %w", name, c.ID, err)
		}
		if _, dup := m.index[c.ID]; dup {
			return nil, fmt.Errorf("threat model %s: duplicate clause id %q", name, c.ID)
		}
		m.index[c.ID] = i
	}
	return m, nil
}

// Clause returns the clause with the given id.
func (m *Model) Clause(id string) (Clause, bool) {
	i, ok := m.index[id]
	if !ok {
		return Clause{}, false
	}
	return m.Clauses[i], true
}

// VerdictOf returns the verdict implied by a category id.
func (m *Model) VerdictOf(id string) (Verdict, bool) {
	c, ok := m.Clause(id)
	return c.Verdict, ok
}

// Check reports whether category exists in the model and belongs to verdict.
func (m *Model) Check(verdict Verdict, category string) error {
	if _, err := ParseVerdict(string(verdict)); err != nil {
		return err
	}
	c, ok := m.Clause(category)
	if !ok {
		return fmt.Errorf("unknown category %q", category)
	}
	if c.Verdict != verdict {
		return fmt.Errorf("category %q belongs to verdict %q, not %q", category, c.Verdict, verdict)
	}
	return nil
}

// IDs returns the ids of the clauses, in document order, restricted to the
// given verdicts when any are named.
func (m *Model) IDs(verdicts ...Verdict) []string {
	var ids []string
	for _, c := range m.Clauses {
		if len(verdicts) == 0 || slices.Contains(verdicts, c.Verdict) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}
