package injection

import (
	"cmp"
	"regexp/syntax"
	"slices"
	"strings"
)

// A matcher's anchors say where it may match; its need says whether it
// can: literal text that every match contains, read from the pattern
// itself. The reference detector (detectReference) does not give a window
// that lacks it to the regular expression (Go's regexp has no DFA: a
// pattern of a few thousand states costs microseconds per byte, and the
// anchors are common words such as "set", "file" or "be"); the detector
// asks its automata (package lazydfa) instead, which answer in less time than the
// need takes to test.

// need is a conjunction of clauses, each a set of strings one of which
// every match contains, in ASCII lower case. An empty need asks nothing.
type need [][]string

// maxNeedSet bounds a clause's strings: a larger set tests too slowly to
// be worth it.
const maxNeedSet = 64

// needOf reads the need of the pattern src: for any text, or (ascii) for
// ASCII text, where k and s match only themselves in either case.
func needOf(src string, ascii bool) need {
	sre, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil
	}
	n := slices.DeleteFunc(clauses(sre, ascii), func(c []string) bool {
		// One of several single characters (white space, punctuation)
		// is in most texts: not worth testing.
		return len(c) > 2 && longest(c) == 1
	})
	for i, c := range n {
		n[i] = minimal(c)
	}
	// The most demanding clause first: it most often fails alone.
	slices.SortStableFunc(n, func(a, b []string) int { return cmp.Compare(shortest(b), shortest(a)) })
	return n
}

// clauses returns what every match of re contains.
func clauses(re *syntax.Regexp, ascii bool) need {
	if set := exact(re, ascii); len(set) > 0 && !slices.Contains(set, "") {
		return need{set}
	}
	switch re.Op {
	case syntax.OpLiteral:
		if s := literalNeed(re.Rune, ascii); s != "" {
			return need{{s}}
		}
	case syntax.OpCapture, syntax.OpPlus:
		return clauses(re.Sub[0], ascii)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return clauses(re.Sub[0], ascii)
		}
	case syntax.OpConcat:
		// A run of parts with few strings each is one clause of their
		// products ("a" then "i" or ".i." is "ai" or "a.i."); the other
		// parts give their own clauses.
		var n need
		var run []string
		flush := func() {
			if len(run) > 0 && !slices.Contains(run, "") {
				n = append(n, run)
			}
			run = nil
		}
		for _, sub := range re.Sub {
			set := exact(sub, ascii)
			if set != nil {
				if run == nil {
					run = []string{""}
				}
				if prod := product(run, set); prod != nil {
					run = prod
					continue
				}
				flush()
				run = set
				continue
			}
			flush()
			n = append(n, clauses(sub, ascii)...)
		}
		flush()
		return n
	case syntax.OpAlternate:
		var set []string
		for _, sub := range re.Sub {
			best := bestClause(clauses(sub, ascii))
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

// minimal drops the strings that hold another of the set: a text that
// holds them holds that one too.
func minimal(set []string) []string {
	var out []string
	for i, s := range set {
		redundant := false
		for j, t := range set {
			if i != j && strings.Contains(s, t) && (len(s) > len(t) || j < i) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, s)
		}
	}
	return out
}

func longest(set []string) int {
	m := 0
	for _, s := range set {
		m = max(m, len(s))
	}
	return m
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
// byte for byte once ASCII letters are lowered: ASCII, and, unless the
// text is ASCII, not k or s, whose case folding reaches outside ASCII
// (the Kelvin sign, the long s). A literal under (?i) matches them in any
// case; a literal without it only in its own, which the lowered text holds
// too.
func literalNeed(runes []rune, ascii bool) string {
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
		if r >= 0x80 || !ascii && (r == 'k' || r == 's') {
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

// maxExact bounds the strings exact lists.
const maxExact = 64

// exact returns every string re can match, in ASCII lower case, when they
// are few (nil otherwise). Empty-width assertions match "". In ASCII text
// (ascii), a character that is not ASCII never matches; otherwise a
// character that case folding takes outside ASCII leaves it unknown.
func exact(re *syntax.Regexp, ascii bool) []string {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}
	case syntax.OpLiteral:
		b := make([]byte, 0, len(re.Rune))
		for _, r := range re.Rune {
			c, ok := lowerASCII(r, ascii)
			if !ok {
				return nil
			}
			b = append(b, c)
		}
		return []string{string(b)}
	case syntax.OpCharClass:
		var set []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] > maxExact {
				return nil
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				c, ok := lowerASCII(r, ascii)
				switch {
				case !ok && ascii && r >= 0x80:
					continue // never in ASCII text
				case !ok:
					return nil
				}
				if s := string(c); !slices.Contains(set, s) {
					set = append(set, s)
				}
			}
		}
		if len(set) == 0 || len(set) > 10 {
			return nil
		}
		return set
	case syntax.OpCapture:
		return exact(re.Sub[0], ascii)
	case syntax.OpQuest:
		set := exact(re.Sub[0], ascii)
		if set == nil {
			return nil
		}
		return union(set, []string{""})
	case syntax.OpAlternate:
		var set []string
		for _, sub := range re.Sub {
			s := exact(sub, ascii)
			if s == nil {
				return nil
			}
			if set = union(set, s); len(set) > maxExact {
				return nil
			}
		}
		return set
	case syntax.OpConcat:
		set := []string{""}
		for _, sub := range re.Sub {
			s := exact(sub, ascii)
			if s == nil {
				return nil
			}
			if set = product(set, s); set == nil {
				return nil
			}
		}
		return set
	case syntax.OpRepeat:
		if re.Min != re.Max || re.Max > 4 {
			return nil
		}
		sub := exact(re.Sub[0], ascii)
		set := []string{""}
		for range re.Min {
			if sub == nil {
				return nil
			}
			if set = product(set, sub); set == nil {
				return nil
			}
		}
		return set
	}
	return nil
}

// lowerASCII is r in ASCII lower case, ok false when r is not ASCII, or
// is k or s and the text may not be ASCII.
func lowerASCII(r rune, ascii bool) (byte, bool) {
	if r >= 'A' && r <= 'Z' {
		r += 'a' - 'A'
	}
	if r >= 0x80 || !ascii && (r == 'k' || r == 's') {
		return 0, false
	}
	return byte(r), true
}

// union is a and b without repeats.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// product is every string of a followed by one of b, nil past maxExact.
func product(a, b []string) []string {
	if len(a)*len(b) > maxExact {
		return nil
	}
	var out []string
	for _, x := range a {
		for _, y := range b {
			if s := x + y; !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
