package output

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/secscreen/secscreen/screener"
)

// handleWidth is the width of the text table's REPORT column.
const handleWidth = 28

// handles names the rows of one run in the text table: each name at most
// handleWidth runes and different from every name given before it in the
// run, so that a person can tell two rows apart and find each input again.
// A long name is cut in the middle, keeping its start and its end (where
// Maildir flags, a file's extension and an mbox position are); when that
// cut is already taken, the cut moves along the name, then the parent
// directories are added, and as a last resort a row number is appended.
type handles struct {
	seen map[string]bool
}

// next returns r's name in the table.
func (h *handles) next(r screener.Result) string {
	if h.seen == nil {
		h.seen = map[string]bool{}
	}
	names := longerNames(r)
	for _, name := range names {
		for _, c := range cuts(name, handleWidth) {
			if !h.seen[c] {
				h.seen[c] = true
				return c
			}
		}
	}
	for i := 2; ; i++ {
		tag := fmt.Sprintf("~%d", i)
		c := clipMiddle(names[0], handleWidth-len(tag)) + tag
		if !h.seen[c] {
			h.seen[c] = true
			return c
		}
	}
}

// longerNames are r's Handle and then its source with more and more of
// its directories, cleaned for a terminal.
func longerNames(r screener.Result) []string {
	names := []string{Clean(Handle(r))}
	if r.Source == "" || r.Source == "-" {
		return names
	}
	parts := strings.Split(filepath.ToSlash(filepath.Clean(r.Source)), "/")
	for k := 2; k <= len(parts); k++ {
		if n := Clean(strings.Join(parts[len(parts)-k:], "/")); n != "" && n != names[len(names)-1] {
			names = append(names, n)
		}
	}
	return names
}

// cuts are the ways to show s in n runes: s itself when it fits, else s
// cut in the middle, then with the cut moved towards the end and the start
// in turn (each keeps a different stretch of s).
func cuts(s string, n int) []string {
	if utf8.RuneCountInString(s) <= n {
		return []string{s}
	}
	r := []rune(s)
	keep := n - 1 // runes kept around the "…"
	mid := keep / 2
	var out []string
	for d := 0; d <= keep; d++ {
		for _, head := range []int{mid + d, mid - d} {
			if head < 0 || head > keep || (d == 0 && head != mid+d) {
				continue
			}
			out = append(out, string(r[:head])+"…"+string(r[len(r)-(keep-head):]))
		}
	}
	return out
}

// clipMiddle shortens s to n runes by cutting its middle.
func clipMiddle(s string, n int) string { return cuts(s, n)[0] }
