package rules

import (
	"strings"

	"github.com/secscreen/secscreen/internal/ascii"
	"github.com/secscreen/secscreen/internal/lazydfa"
)

// A few patterns of the built-in pack match so often (every frame of a
// stack trace) that even a DFA search, the reverse search for the start
// and the backtracking for the groups cost more per report than the rest
// of their extractor: for those, a hand-written matcher finds the same
// matches, with the same groups, in one pass. One is used only for the
// exact expression it was written for (handMatchers is keyed by the
// expression as parsePattern gets it); an edited pattern is matched by its
// DFA. TestHandMatchersEqualRegexp and FuzzHandMatchers compare each with
// Go's regexp.

// A handMatcher returns up to n matches of s (n < 0: all), each with its
// groups' offsets (-1 for a group that did not take part), as
// regexp.FindAllStringSubmatchIndex does.
type handMatcher func(s string, n int) [][]int

// handMatchers are the hand-written matchers, by expression.
var handMatchers = map[string]handMatcher{
	exprFunctions: findFunctions,
	exprVersions:  findVersions,
}

// exprFunctions is the functions extractor's pattern (case-sensitive):
// a function named with a call, `name()`, or in a stack frame,
// `name+0x1f/0x80`.
const exprFunctions = `\b([a-z_][a-z0-9_]{2,})\(\)|\b([a-z_][a-z0-9_]{2,})\+0x[0-9a-f]+/0x[0-9a-f]+`

func isLowerIdent(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' }
func isLowerHex(c byte) bool   { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

// findFunctions matches exprFunctions. At a word boundary before a letter
// or underscore, the name is the longest run of [a-z0-9_] (a shorter one
// is followed by a name byte, never by "(" or "+"), and it needs three
// bytes; then "()" makes the first branch, or "+0x", hex digits, "/0x"
// and hex digits (each run as long as it goes, for the same reason) the
// second. Bytes from utf8.RuneSelf up are no word characters for \b, in
// a rune or not.
func findFunctions(s string, n int) [][]int {
	const width = 6 // offsets per match
	// Every match holds "()" or "+0x": their count bounds the matches,
	// and the offsets, one match after the other, need one allocation.
	most := strings.Count(s, "()") + strings.Count(s, "+0x")
	if n >= 0 {
		most = min(most, n)
	}
	if most == 0 {
		return nil
	}
	flat := make([]int, 0, most*width)
	for i := 0; i < len(s) && (n < 0 || len(flat) < n*width); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c == '_') || i > 0 && ascii.IsWordByte(s[i-1]) {
			continue
		}
		j := i + 1
		for j < len(s) && isLowerIdent(s[j]) {
			j++
		}
		if j-i < 3 {
			i = j - 1
			continue
		}
		rest := s[j:]
		switch {
		case len(rest) >= 2 && rest[0] == '(' && rest[1] == ')':
			flat = append(flat, i, j+2, i, j, -1, -1)
			i = j + 1
		case len(rest) >= 3 && rest[:3] == "+0x":
			e := hexRun(s, j+3)
			if e == j+3 || len(s)-e < 3 || s[e:e+3] != "/0x" {
				i = j - 1
				continue
			}
			end := hexRun(s, e+3)
			if end == e+3 {
				i = j - 1
				continue
			}
			flat = append(flat, i, end, -1, -1, i, j)
			i = end - 1
		default:
			i = j - 1
		}
	}
	return lazydfa.Split(flat, width)
}

// hexRun returns the end of the run of [0-9a-f] at offset i of s.
func hexRun(s string, i int) int {
	for i < len(s) && isLowerHex(s[i]) {
		i++
	}
	return i
}

// exprVersions is the built-in pack's version pattern (case-insensitive,
// spaces exact): major.minor with an optional "v" or "linux-" before it,
// then optionally a patch level, a release candidate and a suffix.
const exprVersions = `(?i)(?:\b(?P<prefix>linux-|v)|\b)(?P<major>\d{1,2})\.(?P<minor>\d{1,2})(?:\.(?P<patch>\d{1,3}))?(?P<rc>-rc\d{1,2})?(?P<suffix>(?:[-.+~][0-9A-Za-z_]+)*\+?)`

// findVersions matches exprVersions. A match starts after a byte that is
// no word character (or at the start), with "linux-" or "v" (any case)
// and then the numbers, or with the numbers; the first of those that
// works at the leftmost start wins. Everything after major.minor may be
// empty, so each part takes the most it can, as the regexp's greedy first
// choice does: a minor of two digits, a patch of up to three, "-rc" with
// up to two digits, then each separator followed by a run of suffix
// characters (ASCII letters, digits and _, and the two runes that fold to
// k and s), then a "+".
func findVersions(s string, n int) [][]int {
	var out [][]int
	for i := 0; i < len(s) && (n < 0 || len(out) < n); i++ {
		if i > 0 && ascii.IsWordByte(s[i-1]) {
			continue
		}
		var loc []int
		switch c := s[i] | 0x20; {
		case c == 'l' && len(s)-i >= 6 && strings.EqualFold(s[i:i+6], "linux-"):
			loc = versionAt(s, i+6)
		case c == 'v':
			loc = versionAt(s, i+1)
		case s[i] >= '0' && s[i] <= '9':
			loc = versionAt(s, i)
			if loc != nil {
				loc[2], loc[3] = -1, -1
			}
		}
		if loc == nil {
			continue
		}
		loc[0] = i
		if loc[2] >= 0 {
			loc[2], loc[3] = i, loc[4]
		}
		out = append(out, loc)
		i = loc[1] - 1
	}
	return out
}

// versionAt matches the numbers and what follows them at offset p: the
// match's group offsets (the whole match and the prefix left for the
// caller, the prefix set to end at p), or nil.
func versionAt(s string, p int) []int {
	d := digitRun(s, p)
	if d < 1 || d > 2 || p+d >= len(s) || s[p+d] != '.' {
		return nil
	}
	minor := p + d + 1
	md := min(digitRun(s, minor), 2)
	if md == 0 {
		return nil
	}
	q := minor + md
	loc := []int{p, 0, p, p, p, p + d, minor, q, -1, -1, -1, -1, 0, 0}
	if q+1 < len(s) && s[q] == '.' && isDigit(s[q+1]) {
		loc[8], loc[9] = q+1, q+1+min(digitRun(s, q+1), 3)
		q = loc[9]
	}
	if len(s)-q >= 4 && s[q] == '-' && strings.EqualFold(s[q+1:q+3], "rc") && isDigit(s[q+3]) {
		loc[10], loc[11] = q, q+3+min(digitRun(s, q+3), 2)
		q = loc[11]
	}
	loc[12] = q
	for q < len(s) && strings.IndexByte("-.+~", s[q]) >= 0 {
		w := suffixRun(s, q+1)
		if w == 0 {
			break
		}
		q += 1 + w
	}
	if q < len(s) && s[q] == '+' {
		q++
	}
	loc[1], loc[13] = q, q
	return loc
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digitRun returns the length of the run of ASCII digits at offset i.
func digitRun(s string, i int) int {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j - i
}

// suffixRun returns the length in bytes of the run of suffix characters
// at offset i: [0-9A-Za-z_] with case folding, which adds LONG S and
// KELVIN SIGN.
func suffixRun(s string, i int) int {
	j := i
	for j < len(s) {
		switch {
		case ascii.IsWordByte(s[j]):
			j++
		case strings.HasPrefix(s[j:], "\u017f"):
			j += len("\u017f")
		case strings.HasPrefix(s[j:], "\u212a"):
			j += len("\u212a")
		default:
			return j - i
		}
	}
	return j - i
}
