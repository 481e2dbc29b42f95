// Package docformat is the --format of the commands that write one
// document, a listing, a report or stats: text for a person, or JSON for
// tools. It parses the flag through internal/enum, as every enumeration
// is parsed, and writes the JSON the same way for all of them.
package docformat

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/enum"
)

// Format is text or JSON.
type Format string

// The formats.
const (
	Text Format = "text"
	JSON Format = "json"
)

var formats = enum.Set[Format]{What: "format", Values: []Format{Text, JSON}}

// Parse reads a format: "text" or "json".
func Parse(s string) (Format, error) { return formats.Parse(s) }

// Write writes v as indented JSON when f is JSON, else calls text.
func Write(w io.Writer, f Format, v any, text func(io.Writer) error) error {
	if f != JSON {
		return text(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// Flag is the --format of a command that writes text or JSON, text unless
// given.
var Flag = cliflag.Flag{Name: "format", Aliases: []string{"f"}, Default: string(Text), Usage: "`FORMAT`: text or json"}
