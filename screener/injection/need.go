package injection

import (
	"cmp"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
)

// A matcher's anchors say where it may match; its need says whether it
// can: literal text that every match contains, read from the pattern
// itself. A window that lacks it is not given to the regular expression
// (Go's regexp has no DFA: a pattern of a few thousand states costs
// microseconds per byte, and the anchors are common words such as "set",
// "file" or "be").

// need is a conjunction of clauses, each a set of strings one of which
// every match contains, in ASCII lower case. An empty need asks nothing.
type need [][]string

// maxNeedSet bounds a clause's strings: a larger set tests too slowly to
// be worth it.
const maxNeedSet = 64

// needOf reads re's need.
func needOf(re *regexp.Regexp) need {
	sre, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return nil
	}
	n := clauses(sre)
	// The most demanding clause first: it most often fails alone.
	slices.SortStableFunc(n, func(a, b []string) int { return cmp.Compare(shortest(b), shortest(a)) })
	return n
}

// clauses returns what every match of re contains.
func clauses(re *syntax.Regexp) need {
	switch re.Op {
	case syntax.OpLiteral:
		if s := literalNeed(re.Rune); s != "" {
			return need{{s}}
		}
	case syntax.OpCapture, syntax.OpPlus:
		return clauses(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return clauses(re.Sub[0])
		}
	case syntax.OpConcat:
		var n need
		for _, sub := range re.Sub {
			n = append(n, clauses(sub)...)
		}
		return n
	case syntax.OpAlternate:
		var set []string
		for _, sub := range re.Sub {
			best := bestClause(clauses(sub))
			if best == nil {
				return nil // a branch needs nothing
			}
			for _, s := range best {
				if !slices.Contains(set, s) {
					set = append(set, s)
				}
			}
		}
		if len(set) > maxNeedSet {
			return nil
		}
		return need{set}
	}
	return nil
}

// bestClause picks the clause whose shortest string is longest: the one
// that most often fails.
func bestClause(n need) []string {
	var best []string
	for _, c := range n {
		if best == nil || shortest(c) > shortest(best) || shortest(c) == shortest(best) && len(c) < len(best) {
			best = c
		}
	}
	return best
}

func shortest(set []string) int {
	m := -1
	for _, s := range set {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// literalNeed is the longest run of a literal's runes that a match holds
// byte for byte once ASCII letters are lowered: ASCII, and not k or s,
// whose case folding reaches outside ASCII (the Kelvin sign, the long s).
// A literal under (?i) matches them in any case; a literal without it
// only in its own, which the lowered text holds too.
func literalNeed(runes []rune) string {
	best, cur := "", []byte{}
	flush := func() {
		if len(cur) > len(best) {
			best = string(cur)
		}
		cur = cur[:0]
	}
	for _, r := range runes {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if r >= 0x80 || r == 'k' || r == 's' {
			flush()
			continue
		}
		cur = append(cur, byte(r))
	}
	flush()
	return best
}

// met reports whether text, in ASCII lower case, meets the need.
func (n need) met(lower string) bool {
	for _, c := range n {
		ok := false
		for _, s := range c {
			if strings.Contains(lower, s) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
