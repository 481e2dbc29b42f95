package threatmodel

import (
	"bytes"
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/secscreen/secscreen/internal/builtin"
	"github.com/secscreen/secscreen/internal/lazyre"
)

//go:embed rstmap.yaml
var rstMapYAML []byte

// docMapping is the embedded table that tells the document loaders which
// built-in category a passage states, and which verdict a section implies.
type docMapping struct {
	Verdicts []verdictRule `yaml:"verdicts"`
	Clauses  []mappingRow  `yaml:"clauses"`
}

// verdictRule gives the verdict of sections whose path contains one of
// Section.
type verdictRule struct {
	Verdict Verdict  `yaml:"verdict"`
	Section []string `yaml:"section"`
}

// mappingRow says that a passage under one of Section whose text contains
// some of Phrases states category ID.
type mappingRow struct {
	ID      string   `yaml:"id"`
	Section []string `yaml:"section"`
	Phrases []string `yaml:"phrases"`
}

// loadMapping decodes and checks a mapping table: every id must be a
// clause of the built-in model, every verdict valid, every row must have
// phrases.
func loadMapping(data []byte) (*docMapping, error) {
	var m docMapping
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("mapping table: %w", err)
	}
	k := Kernel()
	for _, r := range m.Verdicts {
		if _, err := ParseVerdict(string(r.Verdict)); err != nil {
			return nil, fmt.Errorf("mapping table: %w", err)
		}
	}
	for _, r := range m.Clauses {
		if _, ok := k.Clause(r.ID); !ok {
			return nil, fmt.Errorf("mapping table: id %q is not a built-in category", r.ID)
		}
		if len(r.Phrases) == 0 {
			return nil, fmt.Errorf("mapping table: row %q has no phrases", r.ID)
		}
	}
	return &m, nil
}

// builtinMapping is the embedded rstmap.yaml; it panics if the file does
// not load, as every loader of built-in data does (internal/builtin).
var builtinMapping = sync.OnceValue(func() *docMapping {
	m, err := loadMapping(rstMapYAML)
	return builtin.Must("threatmodel: rstmap.yaml", "", m, err)
})

// match returns the id of the row that best fits a passage, or "" when no
// row does. section and text must already be normalised (see normalise).
func (m *docMapping) match(section, text string) string {
	best, bestScore := "", 0
	for _, r := range m.Clauses {
		if len(r.Section) > 0 && !containsAny(section, r.Section) {
			continue
		}
		score := 0
		for _, p := range r.Phrases {
			if strings.Contains(text, p) {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = r.ID, score
		}
	}
	return best
}

// verdictFor returns the verdict a section path implies, if any.
func (m *docMapping) verdictFor(section string) (Verdict, bool) {
	for _, r := range m.Verdicts {
		if containsAny(section, r.Section) {
			return r.Verdict, true
		}
	}
	return "", false
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

var spaceRe = lazyre.New(`\s+`)

// normalise lower-cases s and collapses white space, for matching.
func normalise(s string) string {
	return strings.TrimSpace(spaceRe.ReplaceAllString(strings.ToLower(s), " "))
}

var slugRe = lazyre.New(`[^a-z0-9]+`)

// slug turns a title into a lower-case, dash-separated id part.
func slug(s string) string {
	s = strings.Trim(slugRe.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if s == "" {
		return "section"
	}
	return s
}

// shortTitle derives a title from a passage: its first words, at most
// about eight.
func shortTitle(text string) string {
	words := strings.Fields(text)
	const max = 8
	if len(words) <= max {
		return strings.TrimRight(strings.Join(words, " "), ".:;,")
	}
	return strings.TrimRight(strings.Join(words[:max], " "), ".:;,") + "..."
}
