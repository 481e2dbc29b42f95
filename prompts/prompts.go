// Package prompts holds secscreen's versioned prompt templates and the
// schema of the answer a model must give, and validates that answer.
//
// A Template is a pair of text/template files, NAME/VERSION.system.tmpl and
// NAME/VERSION.user.tmpl, embedded from templates/ (see List) or read from
// disk (see LoadFile). Render applies a template to one report:
//
//   - the system message holds the threat model (every clause), the
//     decision rules and the answer's JSON Schema. It depends only on the
//     template and the threat model, never on the report, so it is
//     byte-identical across reports and providers' prompt caches apply;
//   - the user message holds optional labelled examples (Shot) and the
//     report, each fenced between marker lines that carry a random token,
//     so that text inside a report cannot pass for instructions or close
//     the fence early.
//
// ParseAnswer checks a model's reply against the schema and the threat
// model and lists every problem it finds; RepairInstruction turns those
// problems into a message asking the model for a corrected answer.
package prompts

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/secscreen/secscreen/internal/catalog"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// DefaultName is the template family Load("") chooses from.
const DefaultName = "screen"

//go:embed templates
var embedded embed.FS

// Answer is a model's validated answer about one report.
type Answer struct {
	// Label is one of the threat model's verdicts and a category id of
	// the threat model that belongs to it.
	threatmodel.Label
	// Confidence is the model's probability, in [0, 1], that Verdict is right.
	Confidence float64 `json:"confidence"`
	// AttackerPrivileges is the attacker's starting privileges, as the
	// report establishes them ("unknown" when it does not say).
	AttackerPrivileges string `json:"attacker_privileges"`
	// BoundaryCrossed is the trust boundary the report shows crossed
	// ("none" when none).
	BoundaryCrossed string `json:"boundary_crossed"`
	// MissingInformation lists facts the reporter must supply.
	MissingInformation []string `json:"missing_information"`
	// AIGeneratedSigns lists signs of an unverified tool or AI report.
	AIGeneratedSigns []string `json:"ai_generated_signs"`
	// Rationale explains the decision in a few sentences.
	Rationale string `json:"rationale"`
	// CitedClauses are the category ids the decision rests on.
	CitedClauses []string `json:"cited_clauses"`
}

// Template is one version of a prompt: a system and a user message
// template.
type Template struct {
	// Name is the template family, e.g. "screen".
	Name string
	// Version is the version within the family, e.g. "v1". Templates read
	// from disk get "+" and the first 8 hex digits of Hash appended, so a
	// user's edited copy never shares a cache key with a built-in version.
	Version string
	// Source is where the template came from: "built-in" or a file path.
	Source string
	// Hash is the hex SHA-256 of the two template texts.
	Hash string

	system *template.Template
	user   *template.Template
}

// ID returns "name@version".
func (t *Template) ID() string { return t.Name + "@" + t.Version }

// Shot is one labeled example shown to the model before the report.
type Shot struct {
	// Report is the example report.
	Report *intake.Report
	// Label is its label.
	threatmodel.Label
	// Note says briefly why the label applies (may be empty).
	Note string
}

// Options tune rendering.
type Options struct {
	// MaxBodyChars bounds the characters (runes) of body plus text
	// attachments shown for each report; 0 means no limit. Cut text ends
	// with a visible marker.
	MaxBodyChars int
	// Shots are examples rendered before the report.
	Shots []Shot
	// Boundary is the fence token; empty means a fresh random one. A token
	// that occurs in the report or an example is replaced by a random one.
	Boundary string
}

// Rendered is a template applied to one report.
type Rendered struct {
	// System is the system message: the same for every report.
	System string
	// User is the user message with the fenced report.
	User string
	// Schema is the JSON Schema of the answer.
	Schema json.RawMessage
	// SchemaName names the schema for APIs that want one.
	SchemaName string
	// Truncated is true when the report's text was cut to MaxBodyChars.
	Truncated bool
	// Boundary is the fence token actually used.
	Boundary string
}

// builtins lists the embedded templates' versions, oldest first.
func builtins() catalog.Catalog { return catalog.Read(embedded, "templates", ".system.tmpl") }

// List returns the ids ("name@version") of the built-in templates, sorted
// by name and then version.
func List() []string { return builtins().List() }

// Load returns the built-in template named by spec: "name@version",
// "name" (its latest version), or "" (the latest version of DefaultName).
func Load(spec string) (*Template, error) {
	name, version, ok := builtins().Resolve(spec, DefaultName)
	if !ok {
		return nil, fmt.Errorf("unknown prompt template %q (built-in: %s)", spec, strings.Join(List(), ", "))
	}
	dir := "templates/" + name + "/"
	sys, err := fs.ReadFile(embedded, dir+version+".system.tmpl")
	if err != nil {
		return nil, fmt.Errorf("prompt template %s@%s: %w", name, version, err)
	}
	usr, err := fs.ReadFile(embedded, dir+version+".user.tmpl")
	if err != nil {
		return nil, fmt.Errorf("prompt template %s@%s: %w", name, version, err)
	}
	t, err := newTemplate(name, version, "built-in", string(sys), string(usr))
	if err != nil {
		return nil, fmt.Errorf("built-in %s%s.{system,user}.tmpl: %w", dir, version, err)
	}
	return t, nil
}

// LoadFile reads a template from disk. path names either file of the pair
// (".../NAME/VERSION.system.tmpl" or ".user.tmpl") or their common prefix
// (".../NAME/VERSION"); both files must exist. The template's name is the
// directory's base name and its version the prefix's base name plus "+"
// and a content hash.
func LoadFile(p string) (*Template, error) {
	prefix := p
	for _, suf := range []string{".system.tmpl", ".user.tmpl"} {
		if s, ok := strings.CutSuffix(prefix, suf); ok {
			prefix = s
			break
		}
	}
	sys, err := os.ReadFile(prefix + ".system.tmpl")
	if err != nil {
		return nil, fmt.Errorf("read prompt template: %w", err)
	}
	usr, err := os.ReadFile(prefix + ".user.tmpl")
	if err != nil {
		return nil, fmt.Errorf("read prompt template: %w", err)
	}
	name := filepath.Base(filepath.Dir(prefix))
	if name == "." || name == string(filepath.Separator) {
		name = "custom"
	}
	t, err := newTemplate(name, filepath.Base(prefix), prefix, string(sys), string(usr))
	if err != nil {
		return nil, err
	}
	t.Version += "+" + t.Hash[:8]
	return t, nil
}

// Resolve returns the template a --prompt flag names: a path (anything
// with a path separator or a ".tmpl" suffix) is read with LoadFile, any
// other spec with Load.
func Resolve(spec string) (*Template, error) {
	if strings.ContainsRune(spec, '/') || strings.ContainsRune(spec, filepath.Separator) || strings.HasSuffix(spec, ".tmpl") {
		return LoadFile(spec)
	}
	return Load(spec)
}

// funcs are the functions templates may call besides the built-ins.
func funcs() template.FuncMap {
	return template.FuncMap{
		"inc": func(i int) int { return i + 1 },
	}
}

func newTemplate(name, version, source, sys, usr string) (*Template, error) {
	h := sha256.Sum256([]byte(sys + "\x00" + usr))
	t := &Template{Name: name, Version: version, Source: source, Hash: hex.EncodeToString(h[:])}
	var err error
	where := source
	if source == "built-in" {
		where = path.Join("built-in", name, version)
	}
	t.system, err = template.New("system").Funcs(funcs()).Option("missingkey=error").Parse(sys)
	if err != nil {
		return nil, fmt.Errorf("prompt template %s (system): %w", where, err)
	}
	t.user, err = template.New("user").Funcs(funcs()).Option("missingkey=error").Parse(usr)
	if err != nil {
		return nil, fmt.Errorf("prompt template %s (user): %w", where, err)
	}
	return t, nil
}
