package threatmodel

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// Format names the notation a threat model file is written in.
type Format string

// The formats Load and Parse understand.
const (
	// FormatAuto guesses the format from the file name, then the content.
	FormatAuto Format = "auto"
	// FormatYAML is secscreen's own clause list (see ParseYAML).
	FormatYAML Format = "yaml"
	// FormatRST is a reStructuredText document such as the kernel's
	// Documentation/process/threat-model.rst (see ParseRST).
	FormatRST Format = "rst"
	// FormatMarkdown is a Markdown document listing clauses as bullets or
	// table rows (see ParseMarkdown).
	FormatMarkdown Format = "markdown"
)

// Load reads a threat model file, guessing its format (see Parse).
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read threat model: %w", err)
	}
	return Parse(data, FormatAuto, path)
}

// Parse reads a threat model in the given format. source names the input in
// messages and in Model.Source; with FormatAuto its extension (.yaml, .yml,
// .rst, .md, .markdown) picks the format, and when it has none of those the
// content decides (see DetectFormat).
func Parse(data []byte, format Format, source string) (*Model, error) {
	if format == "" || format == FormatAuto {
		f, err := DetectFormat(data, source)
		if err != nil {
			return nil, err
		}
		format = f
	}
	switch format {
	case FormatYAML:
		return ParseYAML(data, source)
	case FormatRST:
		return ParseRST(data, source)
	case FormatMarkdown:
		return ParseMarkdown(data, source)
	}
	return nil, fmt.Errorf("%s: unknown threat model format %q", source, format)
}

var (
	yamlKeyRe       = lazyre.New(`(?m)^clauses:\s*$`)
	markdownMarksRe = lazyre.New("(?m)^(#{1,6} \\S|\\s*[-*] `[^`]+`|\\|\\s*`[^`]+`\\s*\\|)")
)

// DetectFormat guesses the format of a threat model: first from the
// extension of source, then from the content (a top-level "clauses:" key
// means YAML, a title underlined with punctuation means RST, an ATX heading
// or a backticked bullet or table cell means Markdown).
func DetectFormat(data []byte, source string) (Format, error) {
	switch strings.ToLower(filepath.Ext(source)) {
	case ".yaml", ".yml":
		return FormatYAML, nil
	case ".rst", ".rest":
		return FormatRST, nil
	case ".md", ".markdown":
		return FormatMarkdown, nil
	}
	text := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	switch {
	case yamlKeyRe.Match(text):
		return FormatYAML, nil
	case hasRSTTitle(string(text)):
		return FormatRST, nil
	case markdownMarksRe.Match(text):
		return FormatMarkdown, nil
	}
	return "", fmt.Errorf("%s: cannot tell the threat model's format (name it .yaml, .rst or .md, or give the format)", source)
}

// hasRSTTitle reports whether text holds a line of text at the left margin
// followed by an adornment line at least three characters long.
func hasRSTTitle(text string) bool {
	lines := strings.Split(text, "\n")
	for i := 0; i+1 < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || l[0] == ' ' || isAdornment(l) {
			continue
		}
		if u := strings.TrimRight(lines[i+1], " \t"); len(u) >= 3 && isAdornment(u) {
			return true
		}
	}
	return false
}

// nameFromSource derives a model name from a file path: its base name
// without extension, or "threat-model" when there is none.
func nameFromSource(source string) string {
	base := filepath.Base(source)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	if base == "" || base == "." || base == "/" || base == "-" {
		return "threat-model"
	}
	return base
}

// reportQualityIDs are the categories that describe reports rather than
// systems; RST and Markdown models get them from the built-in model when
// they do not define them.
var reportQualityIDs = []string{"info.missing", "info.unverified-tool", "invalid.nonexistent", "invalid.intended"}

// withReportQuality appends the built-in report-quality clauses that
// clauses lacks.
func withReportQuality(clauses []Clause) []Clause {
	have := make(map[string]bool, len(clauses))
	for _, c := range clauses {
		have[c.ID] = true
	}
	k := Kernel()
	for _, id := range reportQualityIDs {
		if have[id] {
			continue
		}
		if c, ok := k.Clause(id); ok {
			clauses = append(clauses, c)
		}
	}
	return clauses
}
