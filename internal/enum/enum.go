// Package enum parses the string enumerations secscreen reads from users,
// files and models (verdicts, decisions, input and output formats) in one
// way, with one error message: "unknown input format "pdf" (want one of
// auto, email, ...)".
package enum

import (
	"fmt"
	"strings"
)

// Set is an enumeration of string values of type E.
type Set[E ~string] struct {
	// What names the enumeration in errors, e.g. "verdict".
	What string
	// Values are the accepted values, in the order errors list them.
	Values []E
	// Aliases maps other accepted spellings to their value.
	Aliases map[string]E
	// FoldCase accepts any letter case (aliases are then matched in
	// lower case); otherwise values must match exactly.
	FoldCase bool
}

// Parse returns the value s names, after trimming surrounding white space:
// one of Values, or the value of an alias. Anything else is an error that
// lists the accepted values.
func (set Set[E]) Parse(s string) (E, error) {
	key := strings.TrimSpace(s)
	if set.FoldCase {
		key = strings.ToLower(key)
	}
	for _, v := range set.Values {
		if string(v) == key || set.FoldCase && strings.ToLower(string(v)) == key {
			return v, nil
		}
	}
	if v, ok := set.Aliases[key]; ok {
		return v, nil
	}
	var zero E
	return zero, fmt.Errorf("unknown %s %q (want one of %s)", set.What, s, set.List())
}

// List joins the values with commas, for errors and help texts.
func (set Set[E]) List() string {
	names := make([]string, len(set.Values))
	for i, v := range set.Values {
		names[i] = string(v)
	}
	return strings.Join(names, ", ")
}
