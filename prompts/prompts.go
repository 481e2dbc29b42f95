// Package prompts holds secscreen's versioned prompt templates and the
// schema of the answer a model must give, and validates that answer.
package prompts

import (
	"encoding/json"
	"errors"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Answer is a model's validated answer about one report.
type Answer struct {
	Verdict            string   `json:"verdict"`
	Category           string   `json:"category"`
	Confidence         float64  `json:"confidence"`
	AttackerPrivileges string   `json:"attacker_privileges"`
	BoundaryCrossed    string   `json:"boundary_crossed"`
	MissingInformation []string `json:"missing_information"`
	AIGeneratedSigns   []string `json:"ai_generated_signs"`
	Rationale          string   `json:"rationale"`
	CitedClauses       []string `json:"cited_clauses"`
}

// Template is one version of a prompt.
type Template struct {
	Name    string
	Version string
}

// ID returns "name@version".
func (t *Template) ID() string { return t.Name + "@" + t.Version }

// Shot is one labeled example shown to the model before the report.
type Shot struct {
	Report   *intake.Report
	Verdict  string
	Category string
	Note     string
}

// Options tune rendering.
type Options struct {
	MaxBodyChars int
	Shots        []Shot
	Boundary     string
}

// Rendered is a template applied to one report.
type Rendered struct {
	System     string
	User       string
	Schema     json.RawMessage
	SchemaName string
	Truncated  bool
}

var errTODO = errors.New("prompts: not implemented yet")

// Load returns the template named by spec ("name@version"; "" is the default).
func Load(spec string) (*Template, error) { return nil, errTODO }

// Render applies the template to a report.
func (t *Template) Render(tm *threatmodel.Model, r *intake.Report, opt Options) (Rendered, error) {
	return Rendered{}, errTODO
}

// ParseAnswer parses and validates a model's reply.
func ParseAnswer(content string, tm *threatmodel.Model) (Answer, error) { return Answer{}, errTODO }

// RepairInstruction is the user message asking the model to fix an answer.
func RepairInstruction(err error) string { return "" }
