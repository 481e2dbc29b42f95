package threatmodel

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// ParseYAML reads a threat model written as YAML: a name and a list of
// clauses, each with id, verdict, title, summary and optional section.
// source names the file for messages.
func ParseYAML(data []byte, source string) (*Model, error) {
	var doc struct {
		Name    string   `yaml:"name"`
		Clauses []Clause `yaml:"clauses"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return New(doc.Name, source, doc.Clauses)
}
