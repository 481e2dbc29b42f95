package threatmodel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlDoc is the shape of a YAML threat model file.
type yamlDoc struct {
	Name    string   `yaml:"name"`
	Rules   string   `yaml:"rules"`
	Clauses []Clause `yaml:"clauses"`
}

// ParseYAML reads a threat model written as YAML: a name, optionally the
// rule pack that belongs to it ("rules": a file name relative to the
// model's file, or "none"), and a list of clauses, each with id, verdict,
// title, summary and optional section and text. source names the file in
// messages.
//
// Unknown fields are errors, and every error names the line it is about:
// syntax and type errors as the YAML decoder reports them, semantic errors
// (a missing or malformed id, an unknown verdict, a duplicate id) with the
// line of the clause concerned. A clause without a title gets its id as
// title; a model without a name is named after its source.
func ParseYAML(data []byte, source string) (*Model, error) {
	var doc yamlDoc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty threat model file", source)
		}
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	// Each clause's line is needed only for a semantic error: the YAML is
	// decoded a second time as a node tree to learn it then. The first
	// decode succeeded, so this one does too.
	var lines []int
	lineOf := func(i int) int {
		if lines == nil {
			var root yaml.Node
			if err := yaml.Unmarshal(data, &root); err == nil {
				lines = clauseLines(&root)
			}
			if lines == nil {
				lines = []int{}
			}
		}
		if i < len(lines) {
			return lines[i]
		}
		return 0
	}
	if len(doc.Clauses) == 0 {
		return nil, fmt.Errorf("%s: no clauses (want a top-level \"clauses:\" list)", source)
	}
	seen := make(map[string]int, len(doc.Clauses))
	for i := range doc.Clauses {
		c := &doc.Clauses[i]
		c.ID = strings.TrimSpace(c.ID)
		if err := checkID(c.ID); err != nil {
			return nil, fmt.Errorf("%s:%d: clause %d: %w", source, lineOf(i), i+1, err)
		}
		v, err := ParseVerdict(string(c.Verdict))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: clause %s: %w", source, lineOf(i), c.ID, err)
		}
		c.Verdict = v
		if first, dup := seen[c.ID]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate clause id %q (first defined at line %d)", source, lineOf(i), c.ID, lineOf(first))
		}
		seen[c.ID] = i
		if strings.TrimSpace(c.Title) == "" {
			c.Title = c.ID
		}
	}
	name := doc.Name
	if name == "" {
		name = nameFromSource(source)
	}
	m, err := New(name, source, doc.Clauses)
	if err != nil {
		return nil, err
	}
	m.RulePack = resolvePack(strings.TrimSpace(doc.Rules), source)
	return m, nil
}

// resolvePack resolves a model's rules key against the model file's
// directory.
func resolvePack(pack, source string) string {
	if pack == "" || pack == NoRulePack || filepath.IsAbs(pack) || source == "built-in" {
		return pack
	}
	return filepath.Join(filepath.Dir(source), pack)
}

// clauseLines returns the line of each item of the top-level "clauses"
// sequence, in order.
func clauseLines(root *yaml.Node) []int {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value != "clauses" {
			continue
		}
		seq := doc.Content[i+1]
		lines := make([]int, len(seq.Content))
		for j, item := range seq.Content {
			lines[j] = item.Line
		}
		return lines
	}
	return nil
}

// checkID reports whether id is usable as a category id: non-empty, no
// white space, and none of the characters that would break Markdown or
// prompt rendering.
func checkID(id string) error {
	if id == "" {
		return errors.New("missing id")
	}
	if strings.ContainsAny(id, " \t\r\n`|\"'") {
		return fmt.Errorf("id %q contains white space, a quote, a backtick or a pipe", id)
	}
	return nil
}
