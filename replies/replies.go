// Package replies drafts the answers a security team sends to reports that
// are not security bugs: a reply email per report, threaded under it
// (In-Reply-To, References, "Re:" subject), whose short body names the
// clause of the threat model that applies, where the report should go
// instead, and, for a report that needs more information, what is missing.
//
// The wording is data: versioned text/template files under templates/
// (reply@v1, ...), embedded, and overridable with a file of the same shape
// (see Resolve), so that a team can adapt its voice.
//
// Nothing from a report reaches a header unescaped: the subject and the
// reporter's name are stripped of control characters (CR and LF
// included), encoded as RFC 2047 words when they are not ASCII, and folded;
// addresses and message ids are parsed and written back only when valid.
package replies

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/secscreen/secscreen/internal/catalog"
)

// DefaultName is the template family Load("") chooses from.
const DefaultName = "reply"

//go:embed templates
var embedded embed.FS

// Template is one version of the reply wording.
type Template struct {
	// Name and Version identify it: "reply" and "v1"; a file's version is
	// its base name plus "+" and a content hash.
	Name, Version string
	// Source is "built-in" or the file's path.
	Source string
	t      *template.Template
}

// ID is "name@version".
func (t *Template) ID() string { return t.Name + "@" + t.Version }

// builtins lists the embedded templates' versions, oldest first.
func builtins() catalog.Catalog { return catalog.Read(embedded, "templates", ".tmpl") }

// List returns the ids of the built-in templates.
func List() []string { return builtins().List() }

// Load returns a built-in template: "name@version", "name" (its latest
// version) or "" (the latest of DefaultName).
func Load(spec string) (*Template, error) {
	name, version, ok := builtins().Resolve(spec, DefaultName)
	if !ok {
		return nil, fmt.Errorf("unknown reply template %q (built-in: %s)", spec, strings.Join(List(), ", "))
	}
	file := "templates/" + name + "/" + version + ".tmpl"
	data, err := fs.ReadFile(embedded, file)
	if err != nil {
		return nil, fmt.Errorf("reply template %s@%s: %w", name, version, err)
	}
	t, err := parse(name, version, "built-in", string(data))
	if err != nil {
		return nil, fmt.Errorf("built-in %s: %w", file, err)
	}
	return t, nil
}

// LoadFile reads a template from a file; its name is its directory's base
// name (or "custom"), its version the file's base name without ".tmpl",
// plus "+" and a hash of its content.
func LoadFile(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read reply template: %w", err)
	}
	name := filepath.Base(filepath.Dir(path))
	if name == "." || name == string(filepath.Separator) {
		name = "custom"
	}
	sum := sha256.Sum256(data)
	version := strings.TrimSuffix(filepath.Base(path), ".tmpl") + "+" + hex.EncodeToString(sum[:4])
	return parse(name, version, path, string(data))
}

// Resolve returns the template a --reply-template flag names: a path
// (with a separator or a ".tmpl" suffix) is read with LoadFile, anything
// else with Load.
func Resolve(spec string) (*Template, error) {
	if strings.ContainsRune(spec, '/') || strings.ContainsRune(spec, filepath.Separator) || strings.HasSuffix(spec, ".tmpl") {
		return LoadFile(spec)
	}
	return Load(spec)
}

// requiredBlocks must be defined by every template.
var requiredBlocks = []string{"from", "not-security", "needs-info", "invalid"}

func parse(name, version, source, text string) (*Template, error) {
	t, err := template.New(name).Funcs(template.FuncMap{"join": strings.Join}).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("reply template %s: %w", source, err)
	}
	for _, b := range requiredBlocks {
		if t.Lookup(b) == nil {
			return nil, fmt.Errorf("reply template %s: no {{define %q}} block", source, b)
		}
	}
	return &Template{Name: name, Version: version, Source: source, t: t}, nil
}

// block renders the named block, or reports false when it is not defined.
func (t *Template) block(name string, data any) (string, bool, error) {
	if t.t.Lookup(name) == nil {
		return "", false, nil
	}
	var b bytes.Buffer
	if err := t.t.ExecuteTemplate(&b, name, data); err != nil {
		return "", true, fmt.Errorf("reply template %s: %w", t.ID(), err)
	}
	return b.String(), true, nil
}
