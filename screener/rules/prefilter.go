package rules

import (
	"math/bits"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/secscreen/secscreen/internal/ascii"
	"github.com/secscreen/secscreen/internal/lazydfa"
)

// A pattern is one regular expression of a rule or extractor, parsed once
// and compiled only when some text may hold a match.
//
// A pattern runs as a DFA (see matcher and package lazydfa), a few nanoseconds a byte; what
// makes the engine fast is also not giving it text that cannot match. At
// parse time each pattern yields tokens, literals with the bytes allowed
// just before and after them ("as" between non-word bytes for
// `\bas an AI\b`, "." between digits for a version number), arranged as an
// AND of ORs that every match satisfies. A scanner (one Aho-Corasick pass
// per text over all the tokens of all the patterns of an engine) marks
// which paragraphs hold which tokens; a pattern runs only on paragraphs
// that satisfy its tokens. When the pattern is an alternation of branches
// (after an optional prefix), each branch has its own tokens: the pattern
// may match in a paragraph where one of its branches' tokens are, and runs
// around those only.
type pattern struct {
	src string // the expression handed to regexp.Compile

	// parsed guards tree, src parsed as regexp.Compile parses it (never
	// changed). A pattern whose analysis was generated parses src only
	// when it is first run.
	parsed     sync.Once
	parsedTree *syntax.Regexp

	once sync.Once
	re   *regexp.Regexp

	mOnce sync.Once
	m     *lazydfa.Finder
	// hand is the pattern's hand-written matcher, if it has one.
	hand handMatcher

	// common must hold for every match; branches, when not nil, hold per
	// branch of the pattern's top alternation (see splitPoint). Both are
	// shared by the patterns of one source: never changed. A pattern with
	// a generated analysis (gen) makes them when first asked (clauses):
	// the generated scanner needs only the tokens' numbers.
	gen      *genAnalysis
	tokens   sync.Once
	common   [][]token
	branches [][][]token
	// maxNL bounds the content line breaks a match can hold, with runs
	// the bytes of its runs (see maxNewlines), -1 when there is no bound:
	// a pattern with a bound runs on the lines around its tokens only.
	maxNL int
	runs  byteSet

	// lastNeed caches the pattern's clauses in the scanner that last
	// asked for them (scanner.need): an engine's evaluations ask for
	// them hundreds of times per report.
	lastNeed atomic.Pointer[scannerNeed]
}

// scannerNeed is a pattern's compiledNeed in one scanner.
type scannerNeed struct {
	sc   *scanner
	need *compiledNeed
}

// parsePattern parses expr as regexp.Compile would (so that a pattern
// that parses also compiles) and analyses its tokens; the regexp itself is
// compiled on first use.
func parsePattern(expr string) (*pattern, error) {
	if recordPattern != nil {
		recordPattern(expr)
	} else if g := lookupAnalysis(expr); g != nil {
		return &pattern{src: expr, gen: g, maxNL: g.maxNL, runs: g.runs, hand: handMatchers[expr]}, nil
	}
	tree, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	p := &pattern{src: expr, hand: handMatchers[expr]}
	p.parsed.Do(func() { p.parsedTree = tree })
	p.tokens.Do(func() {})
	p.maxNL, p.runs = maxNewlines(tree)
	an := &analyzer{memo: map[memoKey][][]token{}}
	p.common = worthSearching(slices.Clone(an.tokens(tree, anyEdge, anyEdge)))
	if alt, l, r := splitPoint(tree); alt != nil && len(alt.Sub) <= 64 {
		branches := make([][][]token, len(alt.Sub))
		useful := false
		for i, b := range alt.Sub {
			branches[i] = worthSearching(slices.Clone(an.tokens(b, l, r)))
			useful = useful || len(branches[i]) > 0
		}
		if useful {
			p.branches = branches
		}
	}
	return p, nil
}

// clauses returns the clauses every match satisfies, and those of each
// branch (nil: the pattern has no branches with clauses of their own).
func (p *pattern) clauses() (common [][]token, branches [][][]token) {
	p.tokens.Do(func() {
		p.common = genClauses(p.gen.need.common)
		if p.gen.need.branches != nil {
			p.branches = make([][][]token, len(p.gen.need.branches))
			for i, b := range p.gen.need.branches {
				p.branches[i] = genClauses(b)
			}
		}
	})
	return p.common, p.branches
}

// numBranches returns the number of the pattern's branches with clauses
// of their own (0: none).
func (p *pattern) numBranches() int {
	if p.gen != nil {
		return len(p.gen.need.branches)
	}
	return len(p.branches)
}

// recordPattern, when set (by the generator of analysis_gen.go), is told
// every expression parsePattern parses, and the generated analyses are
// not used.
var recordPattern func(expr string)

// tree returns the pattern's syntax tree, parsing it on first use.
func (p *pattern) tree() *syntax.Regexp {
	p.parsed.Do(func() {
		tree, err := syntax.Parse(p.src, syntax.Perl)
		if err != nil {
			// The generated analyses are of expressions that parsed.
			panic("rules: pattern with a generated analysis does not parse: " + err.Error())
		}
		p.parsedTree = tree
	})
	return p.parsedTree
}

// maxNewlines bounds the content line breaks a match of re can hold, or
// returns -1 when there is no bound; runs is the set of bytes of the
// runs it counts once. A run is a repetition of one class that holds a
// line break (\s+, as every space of a prose pattern becomes, or \W*): it
// may cross any number of lines made of its bytes, but only one line
// break of it can have a byte outside runs between it and the next one
// (the run's last), which makes it a content line break. So a run counts
// 1, a class that holds a line break 1, a literal its line breaks, a
// bounded repetition its count times its body's, and an unbounded
// repetition of anything else that can hold a line break makes the bound
// -1. Every match holds at most that many content line breaks: each is
// the last of a run's, or is held by a part of the pattern counted in
// full.
func maxNewlines(re *syntax.Regexp) (int, byteSet) {
	const unbounded = -1
	switch re.Op {
	case syntax.OpLiteral:
		return strings.Count(string(re.Rune), "\n"), byteSet{}
	case syntax.OpCharClass:
		if classHasNewline(re) {
			return 1, byteSet{}
		}
		return 0, byteSet{}
	case syntax.OpAnyChar:
		return 1, byteSet{}
	case syntax.OpCapture:
		return maxNewlines(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		sub := re.Sub[0]
		if sub.Op == syntax.OpCharClass && classHasNewline(sub) {
			set, _ := edgeBytes(sub, false)
			return 1, set
		}
		n, runs := maxNewlines(sub)
		switch {
		case n <= 0 || re.Op == syntax.OpQuest:
			return n, runs
		case re.Op == syntax.OpRepeat && re.Max >= 0:
			return n * re.Max, runs
		}
		return unbounded, runs
	case syntax.OpConcat, syntax.OpAlternate:
		total, runs := 0, byteSet{}
		for _, c := range re.Sub {
			n, r := maxNewlines(c)
			if n < 0 {
				return unbounded, runs
			}
			runs = runs.or(r)
			if re.Op == syntax.OpConcat {
				total += n
			} else {
				total = max(total, n)
			}
		}
		return total, runs
	}
	return 0, byteSet{} // empty-width assertions, empty match, no match, any char but a line break
}

func classHasNewline(re *syntax.Regexp) bool {
	for i := 0; i+1 < len(re.Rune); i += 2 {
		if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
			return true
		}
	}
	return false
}

// worthSearching keeps the clauses whose tokens are rare enough to be
// worth a hit at each occurrence.
func worthSearching(clauses [][]token) [][]token {
	return slices.DeleteFunc(clauses, func(c []token) bool { return clauseScore(c) < minScore })
}

// mustPattern is parsePattern for the built-in patterns.
func mustPattern(expr string) *pattern {
	p, err := parsePattern(expr)
	if err != nil {
		panic("rules: built-in pattern: " + err.Error())
	}
	return p
}

// regexp returns the pattern compiled. A pattern that parsed compiles:
// regexp.Compile only parses and then builds the program, which cannot
// fail.
func (p *pattern) regexp() *regexp.Regexp {
	p.once.Do(func() { p.re = regexp.MustCompile(p.src) })
	return p.re
}

// String returns the expression.
func (p *pattern) String() string { return p.src }

// matcher returns the pattern's DFA matcher, built on first use (from
// the generated table when it holds the pattern, see progs.go). A
// pattern that parsed compiles.
func (p *pattern) matcher() *lazydfa.Finder {
	p.mOnce.Do(func() {
		if p.m = generatedFinder(p.src); p.m != nil {
			return
		}
		m, err := lazydfa.NewFinder(p.tree())
		if err != nil {
			panic("rules: pattern that parsed does not compile: " + err.Error())
		}
		p.m = m
	})
	return p.m
}

// fullMask is the mask of a pattern's branches that keeps them all.
func (p *pattern) fullMask() uint64 {
	if p.numBranches() == 0 {
		return 1
	}
	return 1<<p.numBranches() - 1
}

func captures(re *syntax.Regexp, out []*syntax.Regexp) []*syntax.Regexp {
	if re.Op == syntax.OpCapture {
		out = append(out, re)
	}
	for _, s := range re.Sub {
		out = captures(s, out)
	}
	return out
}

// capNames returns the names of the pattern's groups, by index ("" for
// the whole match and unnamed groups).
func (p *pattern) capNames() []string { return p.matcher().CapNames() }

// subexpIndex returns the index of the named group, or -1.
func (p *pattern) subexpIndex(name string) int {
	for _, g := range captures(p.tree(), nil) {
		if g.Name == name {
			return g.Cap
		}
	}
	return -1
}

// --- tokens ------------------------------------------------------------------

// byteSet is a set of byte values.
type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }
func (s byteSet) or(o byteSet) byteSet {
	return byteSet{s[0] | o[0], s[1] | o[1], s[2] | o[2], s[3] | o[3]}
}
func (s byteSet) and(o byteSet) byteSet {
	return byteSet{s[0] & o[0], s[1] & o[1], s[2] & o[2], s[3] & o[3]}
}
func (s byteSet) count() int {
	return bits.OnesCount64(s[0]) + bits.OnesCount64(s[1]) + bits.OnesCount64(s[2]) + bits.OnesCount64(s[3])
}

// addHigh adds every byte of a multi-byte UTF-8 sequence.
func (s *byteSet) addHigh() { s[2], s[3] = ^uint64(0), ^uint64(0) }

var (
	allBytes  = byteSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	wordBytes = func() byteSet {
		var s byteSet
		for c := 0; c < 256; c++ {
			if ascii.IsWordByte(byte(c)) {
				s.add(byte(c))
			}
		}
		return s
	}()
	nonWordBytes = byteSet{^wordBytes[0], ^wordBytes[1], ^wordBytes[2], ^wordBytes[3]}
)

// A token is a literal (ASCII-lowercased) that a match must contain, with
// the bytes that may stand right before and after it in the text the
// pattern runs on (the start and end of that text always qualify).
type token struct {
	lit         string
	left, right byteSet
}

// edge is what is known of the byte next to a node: any byte, or one of
// set; wb says that a \b stands right there.
type edge struct {
	set byteSet
	any bool
	wb  bool
	// inside says that the byte belongs to the match itself (it comes
	// from a part of the pattern that cannot be empty), so that a token
	// may take it in: "c" after `\.` becomes ".c".
	inside bool
}

var anyEdge = edge{any: true}

// resolve returns the bytes allowed next to a literal whose adjacent byte
// (its first or last) is, or is not, a word byte.
func (e edge) resolve(word bool) byteSet {
	s := allBytes
	if !e.any {
		s = e.set
	}
	if e.wb {
		if word {
			s = s.and(nonWordBytes)
		} else {
			s = s.and(wordBytes)
		}
	}
	return s
}

// runeBytes returns the bytes that may end (or start) an occurrence of r.
// Case folding maps 'k' and 's' to non-ASCII runes too (KELVIN SIGN, LONG
// S), whose bytes are all non-ASCII.
func runeBytes(r rune, fold bool) byteSet {
	var s byteSet
	if r >= utf8.RuneSelf {
		s.addHigh()
		return s
	}
	c := byte(r)
	s.add(c)
	if fold {
		switch {
		case c >= 'a' && c <= 'z':
			s.add(c - 'a' + 'A')
		case c >= 'A' && c <= 'Z':
			s.add(c - 'A' + 'a')
		}
		switch c | 0x20 {
		case 'k', 's':
			s.addHigh()
		}
	}
	return s
}

// edgeBytes returns the bytes a match of re may start with (or end with,
// when last) and whether re may match the empty string. Unknown nodes
// allow any byte.
func edgeBytes(re *syntax.Regexp, last bool) (byteSet, bool) {
	fold := re.Flags&syntax.FoldCase != 0
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return byteSet{}, true
		}
		r := re.Rune[0]
		if last {
			r = re.Rune[len(re.Rune)-1]
		}
		return runeBytes(r, fold), false
	case syntax.OpCharClass:
		var s byteSet
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			for c := lo; c <= hi && c < utf8.RuneSelf; c++ {
				s.add(byte(c))
			}
			if hi >= utf8.RuneSelf {
				s.addHigh()
			}
		}
		return s, false
	case syntax.OpAnyCharNotNL:
		s := allBytes
		s[0] &^= 1 << '\n'
		return s, false
	case syntax.OpAnyChar:
		return allBytes, false
	case syntax.OpNoMatch:
		return byteSet{}, false
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return byteSet{}, true
	case syntax.OpCapture, syntax.OpPlus:
		return edgeBytes(re.Sub[0], last)
	case syntax.OpStar, syntax.OpQuest:
		s, _ := edgeBytes(re.Sub[0], last)
		return s, true
	case syntax.OpRepeat:
		s, empty := edgeBytes(re.Sub[0], last)
		return s, empty || re.Min == 0
	case syntax.OpConcat:
		var acc byteSet
		for i := range re.Sub {
			c := re.Sub[i]
			if last {
				c = re.Sub[len(re.Sub)-1-i]
			}
			s, empty := edgeBytes(c, last)
			acc = acc.or(s)
			if !empty {
				return acc, false
			}
		}
		return acc, true
	case syntax.OpAlternate:
		var acc byteSet
		empty := false
		for _, c := range re.Sub {
			s, e := edgeBytes(c, last)
			acc, empty = acc.or(s), empty || e
		}
		return acc, empty
	}
	return allBytes, true
}

// concatEdges returns the edges of every child of a concatenation whose
// own edges are l and r (childEdges for each, in one pass each way).
func concatEdges(re *syntax.Regexp, l, r edge) ([]edge, []edge) {
	n := len(re.Sub)
	firsts, lasts := make([]byteSet, n), make([]byteSet, n)
	empties := make([]bool, n)
	for i, c := range re.Sub {
		lasts[i], empties[i] = edgeBytes(c, true)
		firsts[i], _ = edgeBytes(c, false)
	}
	ls, rs := make([]edge, n), make([]edge, n)
	cur := l
	cur.wb, cur.inside = l.wb, l.inside
	for i := range n {
		e := cur
		e.wb = (i > 0 && re.Sub[i-1].Op == syntax.OpWordBoundary) || (i == 0 && l.wb)
		ls[i] = e
		// The edge before child i+1: child i's last bytes, and if it can
		// be empty, what stood before it too.
		if empties[i] {
			cur = edge{set: cur.set.or(lasts[i]), any: cur.any, inside: cur.inside}
		} else {
			cur = edge{set: lasts[i], inside: true}
		}
	}
	cur = r
	for i := n - 1; i >= 0; i-- {
		e := cur
		e.wb = (i+1 < n && re.Sub[i+1].Op == syntax.OpWordBoundary) || (i == n-1 && r.wb)
		rs[i] = e
		if empties[i] {
			cur = edge{set: cur.set.or(firsts[i]), any: cur.any, inside: cur.inside}
		} else {
			cur = edge{set: firsts[i], inside: true}
		}
	}
	return ls, rs
}

// Limits of the token analysis: clauses kept per concatenation, tokens per
// clause, and the least score a clause needs to be worth searching for.
const (
	maxClauses   = 4
	maxClauseLen = 64
	minScore     = 4
)

// tokenScore rates how rarely a token occurs: longer literals, and
// literals with constrained edges, are rarer. A lone letter, digit or
// space occurs everywhere and costs a hit at every occurrence: it scores
// below minScore unless a few bytes only, and no space, may stand next to
// it ("b" after [EP] in "PB" and "EB"). So does a frequent pair ("er",
// "on", "e ") or a common word ("the", " of "), which prose holds every
// few dozen bytes.
func tokenScore(t token) int {
	if len(t.lit) == 1 && t.lit[0] == ' ' {
		return 1
	}
	if len(t.lit) == 1 && isAlnum(t.lit[0]) || len(t.lit) == 2 && commonPair(t.lit) || commonWord(t.lit) {
		s := 1
		if narrow(t.left) {
			s += 4
		}
		if narrow(t.right) {
			s += 4
		}
		return s
	}
	s := 2 * len(t.lit)
	if t.lit[0] >= utf8.RuneSelf {
		s += 4 // a UTF-8 lead byte: rare in mostly ASCII text
	}
	if t.left.count() <= 200 {
		s += 3
	}
	if t.right.count() <= 200 {
		s += 3
	}
	return s
}

// commonPairs are the most frequent letter pairs of English text.
const commonPairs = "th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io le ve co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur"

// commonWords are the words that make up much of English prose.
// (A literal, not strings.Fields of a sentence: it costs nothing at start.)
var commonWords = []string{
	"the", "of", "and", "to", "a", "an", "in", "is", "it", "that", "was", "for", "on", "are", "with", "as",
	"be", "at", "this", "from", "or", "by", "not", "but", "all", "were", "can", "if", "has", "have", "had",
	"its", "no", "so", "do", "does", "did", "than", "then", "there", "which", "who", "into", "when", "what",
	"will", "would", "may", "also", "only", "any", "each", "been", "being", "out", "up", "we", "they", "he",
	"she", "you", "i",
}

// commonWord reports whether lit, but for white space around it, is one of
// commonWords: prose holds one every few dozen bytes.
func commonWord(lit string) bool {
	return slices.Contains(commonWords, strings.TrimSpace(lit))
}

// commonPair reports whether the two bytes of p (ASCII-lowercased) occur
// every few dozen bytes of prose: a frequent letter pair, or a letter or
// digit next to white space.
func commonPair(p string) bool {
	space := func(c byte) bool { return c == ' ' || c == '\n' || c == '\t' }
	switch {
	case space(p[0]) && (space(p[1]) || isAlnum(p[1])), isAlnum(p[0]) && space(p[1]):
		return true
	}
	return strings.Contains(commonPairs, p)
}

// narrow reports whether a few bytes only, and no space, are in side.
func narrow(side byteSet) bool {
	return side.count() <= 16 && !side.has(' ') && !side.has('\n')
}

func clauseScore(c []token) int {
	n := -1
	for _, t := range c {
		if s := tokenScore(t); n < 0 || s < n {
			n = s
		}
	}
	return n
}

// analyzer derives a pattern's tokens; it remembers the clauses of each
// alternation and concatenation with its edges, which the whole pattern's
// analysis and its branches' share.
type analyzer struct {
	memo map[memoKey][][]token
}

type memoKey struct {
	re   *syntax.Regexp
	l, r edge
}

// tokens returns clauses (an AND of ORs of tokens) that every match of
// re, with edges l and r, satisfies; nil when nothing is known. Callers
// must not change them.
func (an *analyzer) tokens(re *syntax.Regexp, l, r edge) [][]token {
	if re.Op == syntax.OpAlternate || re.Op == syntax.OpConcat {
		key := memoKey{re, l, r}
		if res, ok := an.memo[key]; ok {
			return res
		}
		res := an.compute(re, l, r)
		an.memo[key] = res
		return res
	}
	return an.compute(re, l, r)
}

func (an *analyzer) compute(re *syntax.Regexp, l, r edge) [][]token {
	fold := re.Flags&syntax.FoldCase != 0
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return nil
		}
		for _, c := range re.Rune {
			if c >= utf8.RuneSelf && fold {
				return nil // non-ASCII case folding: not filtered
			}
		}
		lit := ascii.Lower(string(re.Rune))
		t := token{lit: lit, left: l.resolve(ascii.IsWordByte(lit[0])), right: r.resolve(ascii.IsWordByte(lit[len(lit)-1]))}
		return [][]token{widen(t, l.inside && !l.any, r.inside && !r.any)}
	case syntax.OpCapture:
		return an.tokens(re.Sub[0], l, r)
	case syntax.OpPlus:
		if re.Sub[0].Op == syntax.OpLiteral {
			return an.tokens(re.Sub[0], l, anyEdge)
		}
		return an.tokens(re.Sub[0], anyEdge, anyEdge)
	case syntax.OpRepeat:
		if re.Min < 1 {
			return nil
		}
		sub := re.Sub[0]
		if sub.Op == syntax.OpLiteral {
			// x{3,} needs "xxx".
			c := *sub
			c.Rune = slices.Repeat(sub.Rune, min(re.Min, 8))
			return an.tokens(&c, l, anyEdge)
		}
		return an.tokens(sub, anyEdge, anyEdge)
	case syntax.OpCharClass:
		// A class of non-ASCII runes only (emoji, say) needs one of their
		// UTF-8 lead bytes, which plain ASCII text never holds.
		var clause []token
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo < utf8.RuneSelf {
				return nil
			}
			a, b := string(lo)[0], string(hi)[0]
			for c := a; ; c++ {
				t := token{lit: string([]byte{c}), left: allBytes, right: allBytes}
				if !slices.Contains(clause, t) {
					clause = append(clause, t)
				}
				if c == b {
					break
				}
			}
		}
		if len(clause) == 0 {
			return nil
		}
		return [][]token{clause}
	case syntax.OpConcat:
		type scored struct {
			cl    []token
			score int
		}
		var all []scored
		ls, rs := concatEdges(re, l, r)
		for i, c := range re.Sub {
			for _, cl := range an.tokens(c, ls[i], rs[i]) {
				if sc := clauseScore(cl); sc >= minScore {
					all = append(all, scored{cl, sc})
				}
			}
		}
		slices.SortStableFunc(all, func(a, b scored) int { return b.score - a.score })
		out := make([][]token, 0, min(len(all), maxClauses))
		for i, a := range all[:min(len(all), maxClauses)] {
			// A clause beyond the best one narrows the paragraphs a little
			// more; one with a single byte costs a hit at each of its
			// occurrences in every text, more than it saves.
			if i > 0 && slices.ContainsFunc(a.cl, func(t token) bool { return len(t.lit) == 1 }) {
				continue
			}
			out = append(out, a.cl)
		}
		return out
	case syntax.OpAlternate:
		var clause []token
		for _, b := range re.Sub {
			cls := an.tokens(b, l, r)
			if len(cls) == 0 {
				return nil
			}
			best := cls[0]
			for _, c := range cls[1:] {
				if clauseScore(c) > clauseScore(best) {
					best = c
				}
			}
			for _, t := range best {
				if !slices.Contains(clause, t) {
					clause = append(clause, t)
				}
			}
			if len(clause) > maxClauseLen {
				return nil
			}
		}
		if clauseScore(clause) < minScore {
			return nil
		}
		return [][]token{clause}
	}
	return nil
}

// maxWiden bounds the literals a short token becomes when it takes in the
// byte next to it.
const maxWiden = 10

// widen returns the tokens a short token becomes when it takes in the byte
// before it (when left, a byte of the match itself) or after it: one per
// byte allowed there, ASCII-lowercased. Each occurrence of the token with
// such a byte next to it is an occurrence of one of them, and a longer
// literal is rarer: the scan stops at every occurrence of "c", far less
// often at ".c".
func widen(t token, left, right bool) []token {
	out := []token{t}
	small := func(set byteSet) bool { return set.count() <= 2*maxWiden && set[2] == 0 && set[3] == 0 }
	if len(t.lit) > 3 || !(left && small(t.left) || right && small(t.right)) {
		return out
	}
	for _, side := range []bool{false, true} {
		if side && !right || !side && !left {
			continue
		}
		var next []token
		for _, u := range out {
			set := u.left
			if side {
				set = u.right
			}
			// Both cases of up to maxWiden letters, and no byte of a
			// multi-byte rune; every white space byte is one (the
			// automaton reads them alike).
			var bs []byte
			if small(set) {
				for c := 0; c < utf8.RuneSelf && len(bs) <= maxWiden; c++ {
					if !set.has(byte(c)) {
						continue
					}
					b := scanByte(byte(c))
					if !slices.Contains(bs, b) {
						bs = append(bs, b)
					}
				}
			}
			if len(bs) == 0 || len(bs) > maxWiden {
				next = append(next, u)
				continue
			}
			for _, b := range bs {
				w := u
				if side {
					w.lit, w.right = u.lit+string(b), allBytes
				} else {
					w.lit, w.left = string(b)+u.lit, allBytes
				}
				next = append(next, w)
			}
		}
		out = next
	}
	return out
}

// splitPoint returns the alternation whose branches a pattern prunes: the
// pattern itself, or the first alternation in its top concatenation (Go's
// parser factors a common prefix such as `\b` out of the branches), with
// its edges.
func splitPoint(re *syntax.Regexp) (*syntax.Regexp, edge, edge) {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	switch re.Op {
	case syntax.OpAlternate:
		return re, anyEdge, anyEdge
	case syntax.OpConcat:
		for i, c := range re.Sub {
			for c.Op == syntax.OpCapture {
				c = c.Sub[0]
			}
			if c.Op == syntax.OpAlternate {
				ls, rs := concatEdges(re, anyEdge, anyEdge)
				return c, ls[i], rs[i]
			}
		}
	}
	return nil, anyEdge, anyEdge
}

// --- scanner -------------------------------------------------------------------

// scanner finds, in one pass over a text, the tokens of a set of patterns.
// It is built once per engine and shared by its evaluations.
type scanner struct {
	ac   *automaton
	lits []string // the automaton's literals
	// sets are the byte sets of the tokens' edges (tokenVariant's left
	// and right index them).
	sets []byteSet
	ntok int
	// found[foundAt[k]:foundAt[k+1]] are the tokens of the literals that
	// end at the automaton's kth reporting state (automaton.literalsAt),
	// in the order of the literals and of their tokens, each with its
	// literal's length: what a scan marks there, without going through
	// the literals.
	found   []foundToken
	foundAt []int32
	// anchors marks the tokens whose places windows are cut around (see
	// text.windows): a scan records only their hits.
	anchors []uint64
	needs   map[*pattern]*compiledNeed
}

// litInfo is a literal's length and tokens, from which foundTokens
// makes what a scan reads.
type litInfo struct {
	len         int32
	more, nmore int32 // its tokens after the first: more[more:more+nmore]
	tok         tokenVariant
}

// foundToken is a token a scan marks where its literal, len bytes long,
// ends.
type foundToken struct {
	len int32
	v   tokenVariant
}

// foundTokens returns the scanner's found and foundAt (see scanner) for
// its automaton and literal records.
func foundTokens(a *automaton, info []litInfo, more []tokenVariant) ([]foundToken, []int32) {
	reporting := len(a.outStart) - 1
	at := make([]int32, reporting+1)
	var found []foundToken
	for k := range reporting {
		at[k] = int32(len(found))
		for _, lit := range a.outs[a.outStart[k]:a.outStart[k+1]] {
			li := &info[lit]
			found = append(found, foundToken{len: li.len, v: li.tok})
			for _, v := range more[li.more : li.more+li.nmore] {
				found = append(found, foundToken{len: li.len, v: v})
			}
		}
	}
	at[reporting] = int32(len(found))
	return found, at
}

// tokenVariant is a token of a literal: its id and the bytes allowed
// before and after it (indices into the scanner's sets).
type tokenVariant struct {
	id, left, right uint16
}

// newLitInfo returns the literal records of lits whose tokens are
// variants[i] (each literal has at least one).
func newLitInfo(lits []string, variants [][]tokenVariant) ([]litInfo, []tokenVariant) {
	info := make([]litInfo, len(lits))
	var more []tokenVariant
	for i, vs := range variants {
		info[i] = litInfo{len: int32(len(lits[i])), more: int32(len(more)), nmore: int32(len(vs) - 1), tok: vs[0]}
		more = append(more, vs[1:]...)
	}
	return info, more
}

// markAnchors sets sc.anchors from sc.needs: the tokens of the first
// clause of each pattern, or of each branch's, whose matches windows
// can hold (see text.windows).
func (sc *scanner) markAnchors() {
	sc.anchors = make([]uint64, (sc.ntok+63)/64)
	mark := func(cls [][]uint16) {
		if len(cls) > 0 {
			for _, id := range cls[0] {
				sc.anchors[id/64] |= 1 << (id % 64)
			}
		}
	}
	for p, n := range sc.needs {
		if p.maxNL < 0 {
			continue
		}
		mark(n.common)
		for _, b := range n.branches {
			mark(b)
		}
	}
}

// need returns p's clauses as token ids, nil when the scanner has none
// for p (p then runs everywhere). It is sc.needs[p], cached in p for the
// last scanner that asked: a process most often has one engine.
func (sc *scanner) need(p *pattern) *compiledNeed {
	if c := p.lastNeed.Load(); c != nil && c.sc == sc {
		return c.need
	}
	n := sc.needs[p]
	p.lastNeed.Store(&scannerNeed{sc: sc, need: n})
	return n
}

// compiledNeed is a pattern's clauses as token ids.
type compiledNeed struct {
	common   [][]uint16
	branches [][][]uint16
	// byLength are common and each branch's clauses, shortest first: the
	// order in which plan tests whether a text holds them at all (most
	// patterns fail a clause, and a short one fails soonest; the first
	// clause of common and of each branch keeps its place there, where
	// windows finds its anchors).
	byLength         [][]uint16
	branchesByLength [][][]uint16
}

// newCompiledNeed returns the need of the clauses common and branches.
func newCompiledNeed(common [][]uint16, branches [][][]uint16) *compiledNeed {
	byLength := func(cls [][]uint16) [][]uint16 {
		out := slices.Clone(cls)
		slices.SortStableFunc(out, func(a, b []uint16) int { return len(a) - len(b) })
		return out
	}
	n := &compiledNeed{common: common, branches: branches, byLength: byLength(common)}
	for _, b := range branches {
		n.branchesByLength = append(n.branchesByLength, byLength(b))
	}
	return n
}

// maxTokens bounds the tokens of a scanner (ids are 16 bits); a clause
// with a token past it is left out, which only lets its pattern run on
// more paragraphs.
const maxTokens = 1 << 16

// newScanner builds the scanner of a set of patterns.
func newScanner(pats []*pattern) *scanner {
	sc := &scanner{needs: make(map[*pattern]*compiledNeed, len(pats))}
	// A token is found by its literal, then among the literal's few
	// variants (hashing whole tokens, byte sets and all, cost a third of
	// building the kernel pack's scanner).
	litID := map[string]int{}
	setID := map[byteSet]uint16{}
	var lits []string
	var variants [][]tokenVariant
	set := func(b byteSet) uint16 {
		id, ok := setID[b]
		if !ok {
			id = uint16(len(sc.sets))
			setID[b] = id
			sc.sets = append(sc.sets, b)
		}
		return id
	}
	tokenID := func(t token) int {
		left, right := set(t.left), set(t.right)
		li, ok := litID[t.lit]
		if ok {
			for _, v := range variants[li] {
				if v.left == left && v.right == right {
					return int(v.id)
				}
			}
		}
		if sc.ntok == maxTokens {
			return -1
		}
		if !ok {
			li = len(lits)
			litID[t.lit] = li
			lits = append(lits, t.lit)
			variants = append(variants, nil)
		}
		variants[li] = append(variants[li], tokenVariant{id: uint16(sc.ntok), left: left, right: right})
		sc.ntok++
		return sc.ntok - 1
	}
	ids := func(cls [][]token) [][]uint16 {
		out := make([][]uint16, 0, len(cls))
	clauses:
		for _, cl := range cls {
			c := make([]uint16, 0, len(cl))
			for _, t := range cl {
				id := tokenID(t)
				if id < 0 {
					continue clauses
				}
				c = append(c, uint16(id))
			}
			out = append(out, c)
		}
		return out
	}
	for _, p := range pats {
		if p == nil || sc.needs[p] != nil {
			continue
		}
		common, branches := p.clauses()
		var bs [][][]uint16
		for _, b := range branches {
			bs = append(bs, ids(b))
		}
		sc.needs[p] = newCompiledNeed(ids(common), bs)
	}
	sc.ac, sc.lits = newAutomaton(lits), lits
	info, more := newLitInfo(lits, variants)
	sc.found, sc.foundAt = foundTokens(sc.ac, info, more)
	sc.markAnchors()
	return sc
}

// scanByte returns the byte the automaton reads for c: ASCII letters
// lowercased, and white space (\t, \n, \v, \f, \r) as a space. A literal
// that holds white space thus stands for all its spellings with other
// white space, which only finds it in more places.
func scanByte(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c + 'a' - 'A'
	case c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r':
		return ' '
	}
	return c
}

// byteFrequencyOrder lists bytes about in the order of their frequency in
// English prose and in reports: space, letters, digits, then punctuation.
const byteFrequencyOrder = " etaoinsrhldcumfpgwybvkxjqz0123456789_.,-:/()'\"=+*#<>[]{};!?$%&@|~`^\\"

// automaton is an Aho-Corasick automaton over ASCII-lowercased bytes, as a
// dense table over the byte classes that occur in its literals. A scan
// reads one table entry per byte: the entries are the offsets of the next
// state's row (no multiplication on the path from one byte to the next),
// the rows are in breadth-first order (the states near the root, where a
// scan of prose spends its time, share few cache lines), and the states
// where a literal ends come last, so that one comparison tells that there
// is nothing to report.
//
// The built-in pack's table (about 1.2 MB) is generated whole (see
// genScanner) and read in place. Any other pack's is filled as scans need
// it: an entry is 0 until first read (row 0 is no state's), then computed
// from the trie (a child, or the failure's entry) and stored. Entries are
// read and written atomically; two scans that fill one entry store the
// same value. A process that screens one report touches a small part of
// the table, and a batch soon has the part prose reaches.
type automaton struct {
	class [256]uint8
	n     int // classes: the width of a row
	// delta holds a row of n entries per state from offset n on: the
	// offset of the next state's row per class, 0 while not computed.
	// The generated automaton's is read-only memory, every entry
	// computed.
	delta []uint32
	root  uint32 // the offset of the root's row
	// outFrom is the offset of the first row of a state where literals
	// end; outs[outStart[k]:outStart[k+1]] are the literals that end at
	// the kth such state (its own and those of its failure chain).
	outFrom  uint32
	outStart []int32
	outs     []int32
	lens     []int32 // per literal
	// The trie, to compute entries: stateAt[off/n] is the state of the row
	// at off, and t its tables; first and nChild give a state's children.
	// nil for a complete delta.
	t             *acTables
	stateAt       []int32
	first, nChild []int32
	// div divides an offset by n (see exactDivisor).
	div exactDivisor
}

// exactDivisor divides by d numbers that are multiples of d, with a shift
// and a multiplication: d = 2^shift * odd, and inv is the inverse of odd
// modulo 2^32.
type exactDivisor struct {
	shift uint
	inv   uint32
}

func newExactDivisor(d uint32) exactDivisor {
	shift := uint(bits.TrailingZeros32(d))
	odd := d >> shift
	inv := odd // Newton's iteration doubles the correct low bits: 3, 6, 12, 24, 48
	for range 4 {
		inv *= 2 - odd*inv
	}
	return exactDivisor{shift: shift, inv: inv}
}

// of returns x/d for x a multiple of d.
func (e exactDivisor) of(x uint32) uint32 { return (x >> e.shift) * e.inv }

func newAutomaton(lits []string) *automaton { return newACTables(lits).automaton() }

// acTables is an automaton but for its table of transitions, which it
// fills as scans need it: what go generate writes for the built-in pack
// (scanner_gen.go). Its states are in breadth-first order: state i (0 is
// the root) is the child of parent[i] by the class via[i], its failure is
// fail[i], and its row is at row[i] in the table.
type acTables struct {
	class    [256]uint8
	n        int
	parent   []int32
	via      []uint8
	fail     []int32
	row      []uint32
	outFrom  uint32
	outStart []int32
	outs     []int32
	lens     []int32
}

// newACTables builds the tables of the automaton of lits.
func newACTables(lits []string) *acTables {
	// The literals are ASCII-lowercased: they hold at most 230 distinct
	// byte values, so the classes (0 for bytes no literal holds) fit a
	// byte.
	t := &acTables{n: 1, lens: make([]int32, len(lits))}
	canon := make([]string, len(lits))
	var used [256]bool
	for i, l := range lits {
		t.lens[i] = int32(len(l))
		b := []byte(l)
		for j, c := range b {
			b[j] = scanByte(c)
			used[b[j]] = true
		}
		canon[i] = string(b)
	}
	// Classes in order of how often prose holds their bytes, so that the
	// entries a scan of prose reads share the first cache lines of a row.
	for _, c := range []byte(byteFrequencyOrder) {
		if used[c] && t.class[c] == 0 {
			t.class[c] = uint8(t.n)
			t.n++
		}
	}
	for c := range 256 {
		if used[c] && t.class[c] == 0 {
			t.class[c] = uint8(t.n)
			t.n++
		}
	}
	for c := range 256 {
		t.class[c] = t.class[scanByte(byte(c))]
	}
	lits = canon
	// The trie, built in sorted order of the literals (a literal shares
	// its path with the one before up to their common prefix), then
	// numbered breadth-first.
	order := make([]int, len(lits))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(lits[a], lits[b]) })
	type node struct {
		children []int32
		via      uint8
		ends     []int32
	}
	nodes := []node{{}}
	path := []int32{0} // the nodes of the previous literal's prefixes
	prev := ""
	for _, id := range order {
		l := lits[id]
		common := 0
		for common < len(prev) && common < len(l) && prev[common] == l[common] {
			common++
		}
		path = path[:common+1]
		for i := common; i < len(l); i++ {
			nd := int32(len(nodes))
			nodes = append(nodes, node{via: t.class[l[i]]})
			p := path[len(path)-1]
			nodes[p].children = append(nodes[p].children, nd)
			path = append(path, nd)
		}
		last := path[len(l)]
		nodes[last].ends = append(nodes[last].ends, int32(id))
		prev = l
	}
	states := len(nodes)
	t.parent = append(make([]int32, 0, states), -1)
	t.via = append(make([]uint8, 0, states), 0)
	ends := append(make([][]int32, 0, states), nil)
	queue := []int32{0}
	newID := make([]int32, states)
	for q := 0; q < len(queue); q++ {
		old := queue[q]
		for _, c := range nodes[old].children {
			newID[c] = int32(len(t.parent))
			t.parent = append(t.parent, newID[old])
			t.via = append(t.via, nodes[c].via)
			ends = append(ends, nodes[c].ends)
			queue = append(queue, c)
		}
	}
	// Failures, in breadth-first order (a state's failure is shallower).
	first, nChild := t.children()
	t.fail = make([]int32, states)
	for i := 1; i < states; i++ {
		p, c := t.parent[i], t.via[i]
		f := int32(0)
		if p != 0 {
			for f = t.fail[p]; ; f = t.fail[f] {
				if ch := t.child(first, nChild, f, c); ch >= 0 {
					f = ch
					break
				}
				if f == 0 {
					break
				}
			}
		}
		t.fail[i] = f
	}
	// The literals a state reports: its own, then its failure's.
	count := make([]int32, states)
	for i := 1; i < states; i++ {
		count[i] = int32(len(ends[i])) + count[t.fail[i]]
	}
	// Rows from offset n on (row 0 is no state's): the states that report
	// nothing (the root first), then the others, in breadth-first order
	// each.
	w := uint32(t.n)
	t.row = make([]uint32, states)
	next := uint32(1)
	for pass := range 2 {
		if pass == 1 {
			t.outFrom = next * w
		}
		for i := range states {
			if (count[i] > 0) == (pass == 1) {
				t.row[i] = next * w
				next++
			}
		}
	}
	// Reporting state k (in row order) reports outs[outStart[k]:outStart[k+1]].
	reporting := int(next - t.outFrom/w)
	t.outStart = make([]int32, reporting+1)
	for i := range states {
		if count[i] > 0 {
			t.outStart[(t.row[i]-t.outFrom)/w+1] = count[i]
		}
	}
	for k := 1; k <= reporting; k++ {
		t.outStart[k] += t.outStart[k-1]
	}
	t.outs = make([]int32, t.outStart[reporting])
	for i := range states { // a failure's list is written before its states'
		if count[i] == 0 {
			continue
		}
		at := t.outStart[(t.row[i]-t.outFrom)/w]
		n := copy(t.outs[at:], ends[i])
		if f := t.fail[i]; count[f] > 0 {
			fa := t.outStart[(t.row[f]-t.outFrom)/w]
			copy(t.outs[at+int32(n):], t.outs[fa:fa+count[f]])
		}
	}
	return t
}

// children returns, per state, its first child and the number of its
// children (a state's children are numbered together).
func (t *acTables) children() (first, n []int32) {
	first = make([]int32, len(t.parent))
	n = make([]int32, len(t.parent))
	for i := len(t.parent) - 1; i >= 1; i-- {
		p := t.parent[i]
		first[p] = int32(i)
		n[p]++
	}
	return first, n
}

// rowStates returns, by row (its offset over n), the state whose row it
// is; row 0 is no state's.
func (t *acTables) rowStates() []int32 {
	stateAt := make([]int32, len(t.parent)+1)
	for i, off := range t.row {
		stateAt[off/uint32(t.n)] = int32(i)
	}
	return stateAt
}

// child returns the child of state s by class c, or -1.
func (t *acTables) child(first, n []int32, s int32, c uint8) int32 {
	for k := first[s]; k < first[s]+n[s]; k++ {
		if t.via[k] == c {
			return k
		}
	}
	return -1
}

// automaton returns the automaton of the tables, with the root's row
// filled and the rest to be filled by scans.
func (t *acTables) automaton() *automaton {
	w := uint32(t.n)
	states := len(t.parent)
	root := t.row[0]
	a := &automaton{class: t.class, n: t.n, delta: make([]uint32, uint32(states+1)*w), root: root, outFrom: t.outFrom,
		outStart: t.outStart, outs: t.outs, lens: t.lens, t: t, div: newExactDivisor(w), stateAt: t.rowStates()}
	a.first, a.nChild = t.children()
	for c := range uint8(t.n) {
		v := root
		if k := t.child(a.first, a.nChild, 0, c); k >= 0 {
			v = t.row[k]
		}
		a.delta[root+uint32(c)] = v
	}
	return a
}

// fill computes, stores and returns the entry of the row at off for class
// c: the child by c, or else the failure's entry (the root's are filled).
func (a *automaton) fill(off uint32, c uint8) uint32 {
	s := a.stateAt[a.div.of(off)]
	v := uint32(0)
	if k := a.t.child(a.first, a.nChild, s, c); k >= 0 {
		v = a.t.row[k]
	} else {
		f := a.t.row[a.t.fail[s]]
		if v = atomic.LoadUint32(&a.delta[f+uint32(c)]); v == 0 {
			v = a.fill(f, c)
		}
	}
	atomic.StoreUint32(&a.delta[off+uint32(c)], v)
	return v
}

// step returns the offset of the row after the row at off reads byte b.
func (a *automaton) step(off uint32, b byte) uint32 {
	c := a.class[b]
	if v := atomic.LoadUint32(&a.delta[off+uint32(c)]); v != 0 {
		return v
	}
	return a.fill(off, c)
}

// start is the offset of the root's row.
func (a *automaton) start() uint32 { return a.root }

// literalsAt returns the literals that end at the state whose row is at
// off (off >= a.outFrom).
func (a *automaton) literalsAt(off uint32) []int32 {
	k := a.div.of(off - a.outFrom)
	return a.outs[a.outStart[k]:a.outStart[k+1]]
}

// scan calls hit with each literal id and the end offset of its
// occurrence in t, in order of end offset.
func (a *automaton) scan(t string, hit func(lit, end int)) {
	off := a.start()
	for i := 0; i < len(t); i++ {
		if off = a.step(off, t[i]); off < a.outFrom {
			continue
		}
		for _, lit := range a.literalsAt(off) {
			hit(int(lit), i+1)
		}
	}
}

// --- texts ---------------------------------------------------------------------

// text is one part's text prepared for matching: its paragraphs and,
// with a scanner, which of the scanner's tokens each paragraph holds.
// Patterns run paragraph by paragraph (a blank line ends a paragraph), and
// only on paragraphs that hold their tokens. Short inputs let Go's regexp
// use its backtracking engine, many times faster than its NFA on a whole
// report; the price is that a match never spans a blank line.
type text struct {
	t     string
	paras [][2]int
	sc    *scanner // nil: every pattern runs on every paragraph
	// fast: the patterns run as DFAs (see matcher), which needs valid
	// UTF-8; else Go's regexp runs them.
	fast bool
	// w is the number of words of a paragraph bit set; bits holds one
	// such set per token (the paragraphs holding the token), whole one
	// bit per token (the token occurs with the text's own edges).
	w     int
	bits  []uint64
	whole []uint64
	// inSome has one bit per token: it is in some paragraph.
	inSome []uint64
	buf    *buffers // where bits, whole, inSome and hits live
	// hits lists the tokens found in paragraphs, in order of their end;
	// paraHits[k] is the first of paragraph k's.
	hits     []hit
	paraHits []int32
	// scratch for plan and windows (in buf); planned is the pattern
	// whose plan masks holds, nil when none.
	acc, tmp, common []uint64
	masks            []uint64
	planned          *pattern
	anchors          []uint64
	wins             [][2]int
	// para holds the one window of a paragraph run whole (eachWindow).
	para [1][2]int
}

// hit is a token found at [start, end), with the edges of its paragraph
// (inPara) or of the whole text (inWhole).
type hit struct {
	tok, start, end int32
	inPara, inWhole bool
}

// foldOutsideASCII are the UTF-8 forms of the runes that case-fold to
// ASCII letters (KELVIN SIGN to k, LONG S to s): a text holding one is
// matched without the token filter, which reads ASCII-lowercased bytes.
var foldOutsideASCII = []string{"\u212a", "\u017f"}

func newText(t string, sc *scanner) *text {
	x := &text{t: t}
	start := 0
	for start < len(t) {
		end := strings.Index(t[start:], "\n\n")
		if end < 0 {
			end = len(t)
		} else {
			end += start + 1 // keep the first newline in the paragraph
		}
		x.addParagraph(start, end)
		start = end + 1
	}
	if sc == nil {
		return x
	}
	x.fast = utf8.ValidString(t)
	if slices.ContainsFunc(foldOutsideASCII, func(s string) bool { return strings.Contains(t, s) }) {
		return x
	}
	x.sc = sc
	x.w = (len(x.paras) + 63) / 64
	b, _ := textBuffers.Get().(*buffers)
	if b == nil {
		b = &buffers{}
	}
	x.buf = b
	words := (sc.ntok + 63) / 64
	x.bits = b.zeroed(sc.ntok * x.w)
	x.whole = b.take(&b.whole, words)
	x.inSome = b.take(&b.inSome, words)
	x.paraHits = make([]int32, len(x.paras)+1)
	x.hits = b.hits[:0]
	x.acc, x.tmp, x.common = b.take(&b.acc, x.w), b.take(&b.tmp, x.w), b.take(&b.common, x.w)
	x.masks = b.take(&b.masks, len(x.paras))
	x.anchors = b.take(&b.anchors, words)
	x.wins = b.wins[:0]
	k := 0
	ac := sc.ac
	delta, class, outFrom := ac.delta, &ac.class, ac.outFrom
	off := ac.start()
	for i := 0; i < len(t); i++ {
		c := class[t[i]]
		next := atomic.LoadUint32(&delta[off+uint32(c)])
		if next == 0 {
			next = ac.fill(off, c)
		}
		if off = next; off < outFrom {
			continue
		}
		end := i + 1
		for k < len(x.paras) && x.paras[k][1] < end {
			k++
			x.paraHits[k] = int32(len(x.hits))
		}
		r := ac.div.of(off - outFrom)
		for _, ft := range sc.found[sc.foundAt[r]:sc.foundAt[r+1]] {
			s := end - int(ft.len)
			x.mark(ft.v, s, end, k, k < len(x.paras) && x.paras[k][0] <= s)
		}
	}
	for k < len(x.paras) {
		k++
		x.paraHits[k] = int32(len(x.hits))
	}
	return x
}

// mark records token v found at [s, end) of the text, in paragraph k
// when in: in the token sets, and in the hits when it is an anchor.
func (x *text) mark(v tokenVariant, s, end, k int, in bool) {
	sc, t, id := x.sc, x.t, int(v.id)
	lt := s == 0 || sc.sets[v.left].has(t[s-1])
	rt := end == len(t) || sc.sets[v.right].has(t[end])
	h := hit{tok: int32(id), start: int32(s), end: int32(end)}
	if lt && rt {
		x.whole[id/64] |= 1 << (id % 64)
		h.inWhole = true
	}
	if in && (lt || s == x.paras[k][0]) && (rt || end == x.paras[k][1]) {
		x.bits[id*x.w+k/64] |= 1 << (k % 64)
		x.inSome[id/64] |= 1 << (id % 64)
		h.inPara = true
	}
	if (h.inPara || h.inWhole) && sc.anchors[id/64]&(1<<(id%64)) != 0 {
		x.hits = append(x.hits, h)
	}
}

// buffers are a text's token sets and hits, kept for the next text once
// an evaluation is done with it: they are a few dozen KiB per text, and
// allocating them for every part of every report cost more than clearing.
// bits is kept all zero between texts: a text clears the rows of the
// tokens it found (a few out of thousands) when it is done.
type buffers struct {
	bits, whole, inSome []uint64
	hits                []hit
	// scratch of plan and windows, kept to save their allocations.
	acc, tmp, common, masks, anchors []uint64
	wins                             [][2]int
}

var textBuffers sync.Pool // of *buffers

// zeroed returns b.bits[:n], all zero, growing it when needed.
func (b *buffers) zeroed(n int) []uint64 {
	if cap(b.bits) < n {
		b.bits = make([]uint64, n)
	}
	return b.bits[:n]
}

// take returns (*buf)[:n] cleared, growing *buf when needed.
func (b *buffers) take(buf *[]uint64, n int) []uint64 {
	if cap(*buf) < n {
		*buf = make([]uint64, n)
	}
	s := (*buf)[:n]
	clear(s)
	return s
}

// release gives the text's buffers back for another text; the text must
// not be used after.
func (x *text) release() {
	if x.buf == nil {
		return
	}
	for j, word := range x.inSome {
		for ; word != 0; word &= word - 1 {
			id := j*64 + bits.TrailingZeros64(word)
			clear(x.bits[id*x.w : (id+1)*x.w])
		}
	}
	x.buf.hits = x.hits[:0]
	x.buf.wins = x.wins[:0]
	textBuffers.Put(x.buf)
	x.buf, x.bits, x.whole, x.inSome, x.hits, x.sc = nil, nil, nil, nil, nil, nil
	x.acc, x.tmp, x.common, x.masks, x.anchors, x.wins, x.planned = nil, nil, nil, nil, nil, nil, nil
}

// maxParagraph bounds the text one pattern run sees. Prose paragraphs are
// far shorter; longer ones are logs, traces or code, cut at a line break
// (or, in a line longer than this, at a rune boundary), so that matching
// stays linear in the text and Go's fast backtracking engine applies.
const maxParagraph = 4 << 10

func (x *text) addParagraph(start, end int) {
	for end-start > maxParagraph {
		cut := start + maxParagraph
		if nl := strings.LastIndexByte(x.t[start+maxParagraph/2:cut], '\n'); nl >= 0 {
			cut = start + maxParagraph/2 + nl + 1
		} else {
			for cut > start && !utf8.RuneStart(x.t[cut]) {
				cut--
			}
		}
		x.paras = append(x.paras, [2]int{start, cut})
		start = cut
	}
	if start < end {
		x.paras = append(x.paras, [2]int{start, end})
	}
}

// paraSet returns into dst the paragraphs where every clause holds.
func (x *text) paraSet(dst []uint64, clauses [][]uint16) {
	for i := range dst {
		dst[i] = ^uint64(0)
	}
	for _, cl := range clauses {
		clear(x.tmp)
		for _, id := range cl {
			row := x.bits[int(id)*x.w : (int(id)+1)*x.w]
			for i := range x.tmp {
				x.tmp[i] |= row[i]
			}
		}
		for i := range dst {
			dst[i] &= x.tmp[i]
		}
	}
}

// plan returns, per paragraph, the mask of m's branches that may match in
// it (0: m cannot match there), or nil when m runs whole everywhere.
func (x *text) plan(m *pattern) []uint64 {
	if x.sc == nil {
		return nil
	}
	need := x.sc.need(m)
	if need == nil {
		return nil
	}
	if x.planned == m {
		return x.masks
	}
	x.planned = m
	clear(x.masks)
	// Most patterns have a clause no paragraph holds: done.
	if !holdsIn(x.inSome, need.byLength) || len(need.branches) > 0 && !slices.ContainsFunc(need.branchesByLength, func(cls [][]uint16) bool { return holdsIn(x.inSome, cls) }) {
		return x.masks
	}
	x.paraSet(x.acc, need.common)
	if len(need.branches) == 0 {
		for i := range x.masks {
			if x.acc[i/64]&(1<<(i%64)) != 0 {
				x.masks[i] = 1
			}
		}
		return x.masks
	}
	common := x.common
	copy(common, x.acc)
	for b, cls := range need.branches {
		x.paraSet(x.acc, cls)
		for j := range x.acc {
			for v := x.acc[j] & common[j]; v != 0; v &= v - 1 {
				i := j*64 + bits.TrailingZeros64(v)
				if i < len(x.masks) {
					x.masks[i] |= 1 << b
				}
			}
		}
	}
	return x.masks
}

// wholeHolds reports whether every clause holds somewhere in the text.
func (x *text) wholeHolds(clauses [][]uint16) bool { return holdsIn(x.whole, clauses) }

// holdsIn reports whether every clause has a token in the bit set found.
func holdsIn(found []uint64, clauses [][]uint16) bool {
	for _, cl := range clauses {
		ok := false
		for _, id := range cl {
			if found[id/64]&(1<<(id%64)) != 0 {
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

// mayMatch reports whether m may match in some paragraph of the text (or,
// with whole, over the whole text): false means it cannot.
func (x *text) mayMatch(m *pattern, whole bool) bool {
	if x.sc == nil || x.sc.need(m) == nil {
		return true
	}
	need := x.sc.need(m)
	if whole {
		return x.wholeHolds(need.byLength) && (len(need.branches) == 0 || slices.ContainsFunc(need.branchesByLength, x.wholeHolds))
	}
	return slices.ContainsFunc(x.plan(m), func(mask uint64) bool { return mask != 0 })
}

// findAt returns up to n matches of m (submatch index pairs, offsets in the
// whole text), paragraph by paragraph; n < 0 means all.
func (x *text) findAt(m *pattern, n int) [][]int { return x.find(m, n, true) }

// spans is findAt without the groups: each match's start and end only.
func (x *text) spans(m *pattern, n int) [][]int { return x.find(m, n, false) }

// find is findAt, spans without groups.
func (x *text) find(m *pattern, n int, groups bool) [][]int {
	var out [][]int
	x.eachWindow(m, func(wins [][2]int) bool {
		out = findIn(out, m, x.fast, x.t, wins, n, groups)
		return n >= 0 && len(out) >= n
	})
	return out
}

// has reports whether m matches in some paragraph.
func (x *text) has(m *pattern) bool {
	found := false
	x.eachWindow(m, func(wins [][2]int) bool {
		found = slices.ContainsFunc(wins, func(w [2]int) bool { return matchIn(m, x.fast, x.t[w[0]:w[1]]) })
		return found
	})
	return found
}

// eachWindow calls f with the windows of each paragraph m may match in, in
// order, until f returns true. The windows are the text's scratch: f does
// not keep them.
func (x *text) eachWindow(m *pattern, f func(wins [][2]int) bool) {
	plan := x.plan(m)
	for i, p := range x.paras {
		if plan != nil && plan[i] == 0 {
			continue
		}
		x.para[0] = p
		wins := x.para[:]
		if plan != nil && m.maxNL >= 0 && p[1]-p[0] > minWindowed {
			if w := x.windows(m, plan[i], i); w != nil {
				wins = w
			}
		}
		if f(wins) {
			return
		}
	}
}

// minWindowed is the shortest paragraph worth cutting into windows.
const minWindowed = 256

// windows returns the parts of paragraph k (or, with k < 0, of the whole
// text) that m, with the branches of mask, runs on: around each of its
// anchor tokens (those of one clause every match satisfies), from the
// (maxNL+1)th content line break before it to the (maxNL+1)th after it
// (see maxNewlines), merged where they overlap; nil when m has no anchor.
// A match holds an anchor token and at most maxNL content line breaks, so
// it lies inside a window, and it cannot reach a window's first or last
// byte (a line break it would have to hold): the assertions it evaluates
// (^, $, \b, \A, \z) see the same bytes as in the paragraph. The windows
// hold every match of the paragraph, in order, and nothing else.
func (x *text) windows(m *pattern, mask uint64, k int) [][2]int {
	need := x.sc.need(m)
	anchors := x.anchors
	clear(anchors)
	switch {
	case len(need.common) > 0:
		for _, id := range need.common[0] {
			anchors[id/64] |= 1 << (id % 64)
		}
	case len(need.branches) > 0:
		for b, cls := range need.branches {
			if mask&(1<<b) == 0 {
				continue
			}
			if len(cls) == 0 {
				return nil
			}
			for _, id := range cls[0] {
				anchors[id/64] |= 1 << (id % 64)
			}
		}
	default:
		return nil
	}
	ps, pe, hits := 0, len(x.t), x.hits
	if k >= 0 {
		ps, pe, hits = x.paras[k][0], x.paras[k][1], x.hits[x.paraHits[k]:x.paraHits[k+1]]
	}
	wins := x.wins[:0]
	for _, h := range hits {
		if anchors[h.tok/64]&(1<<(h.tok%64)) == 0 || (k >= 0 && !h.inPara) || (k < 0 && !h.inWhole) {
			continue
		}
		wins = append(wins, around(x.t, ps, pe, h, m))
	}
	x.wins = mergeWindows(wins)
	return x.wins
}

// around returns the window of [ps, pe) in t around hit h for m (see
// windows).
func around(t string, ps, pe int, h hit, m *pattern) [2]int {
	lo := max(ps, ps+contentBreak(t[ps:h.start], m.maxNL+1, true, &m.runs))
	hi := contentBreak(t[h.end:pe], m.maxNL+1, false, &m.runs)
	if hi < 0 {
		hi = pe
	} else {
		hi += int(h.end) + 1
	}
	return [2]int{lo, hi}
}

// mergeWindows sorts windows and merges those that overlap; nil when there
// are none.
func mergeWindows(wins [][2]int) [][2]int {
	if len(wins) == 0 {
		return nil
	}
	slices.SortFunc(wins, func(a, b [2]int) int { return a[0] - b[0] })
	merged := wins[:1]
	for _, w := range wins[1:] {
		if last := &merged[len(merged)-1]; w[0] < last[1] {
			last[1] = max(last[1], w[1])
		} else {
			merged = append(merged, w)
		}
	}
	return merged
}

// contentBreak returns the offset in s of its nth content line break
// counted from its end (back) or its start: a line break with a byte not
// in runs between it and the previous one counted (or the end of s it is
// counted from). It returns -1 when s holds fewer.
func contentBreak(s string, n int, back bool, runs *byteSet) int {
	j, end, step := 0, len(s), 1
	if back {
		j, end, step = len(s)-1, -1, -1
	}
	content := false
	for ; j != end; j += step {
		switch c := s[j]; {
		case c == '\n':
			if content {
				if n--; n == 0 {
					return j
				}
			}
			content = false
		case !runs.has(c):
			content = true
		}
	}
	return -1
}

// findWhole returns up to n matches of m over the whole text at once, for
// patterns that must span a blank line; the token filter still applies.
func (x *text) findWhole(m *pattern, n int, groups bool) [][]int {
	need := (*compiledNeed)(nil)
	if x.sc != nil {
		need = x.sc.need(m)
	}
	if need == nil {
		return findIn(nil, m, x.fast, x.t, [][2]int{{0, len(x.t)}}, n, groups)
	}
	if !x.wholeHolds(need.common) {
		return nil
	}
	mask := m.fullMask()
	if len(need.branches) > 0 {
		mask = 0
		for b, cls := range need.branches {
			if x.wholeHolds(cls) {
				mask |= 1 << b
			}
		}
		if mask == 0 {
			return nil
		}
	}
	if m.maxNL >= 0 && len(x.t) > minWindowed {
		if wins := x.windows(m, mask, -1); wins != nil {
			return findIn(nil, m, x.fast, x.t, wins, n, groups)
		}
	}
	return findIn(nil, m, x.fast, x.t, [][2]int{{0, len(x.t)}}, n, groups)
}

// findIn appends to out the matches of m in the windows of t, offsets in
// t, until out holds n (n < 0: all), with their groups or (without
// groups) start and end alone. With fast (t is then valid UTF-8) m's
// matcher runs, else Go's regexp; they find the same.
func findIn(out [][]int, m *pattern, fast bool, t string, wins [][2]int, n int, groups bool) [][]int {
	for _, w := range wins {
		s := t[w[0]:w[1]]
		var locs [][]int
		ok := false
		switch {
		case fast && m.hand != nil:
			locs, ok = m.hand(s, n-len(out)), true
		case fast:
			locs, ok = m.matcher().FindAll(s, n-len(out), groups)
		}
		if !ok && groups {
			locs = m.regexp().FindAllStringSubmatchIndex(s, n-len(out))
		} else if !ok {
			locs = m.regexp().FindAllStringIndex(s, n-len(out))
		}
		for _, loc := range locs {
			for i := range loc {
				if loc[i] >= 0 {
					loc[i] += w[0]
				}
			}
		}
		if len(out) == 0 {
			out = locs // the first window's matches need no copy
		} else {
			out = append(out, locs...)
		}
		if n >= 0 && len(out) >= n {
			break
		}
	}
	return out
}

// matchIn reports whether m matches s, with its matcher when fast (s is
// then valid UTF-8), else with Go's regexp.
func matchIn(m *pattern, fast bool, s string) bool {
	if fast && m.hand != nil {
		return len(m.hand(s, 1)) > 0
	}
	if fast {
		if found, ok := m.matcher().MatchString(s); ok {
			return found
		}
	}
	return m.regexp().MatchString(s)
}

// findAll returns the text of up to n matches of m.
func (x *text) findAll(m *pattern, n int) []string {
	var out []string
	for _, l := range x.spans(m, n) {
		out = append(out, x.t[l[0]:l[1]])
	}
	return out
}

// --- short strings ---------------------------------------------------------------

// An auxRe is a regular expression that runs on short strings around a
// match (the words before a version, its line, the clause before a rule's
// match), many times per report. It runs as a DFA (see matcher), compiled
// on first use.
type auxRe struct {
	p *pattern
}

// newAuxRe parses expr as regexp.Compile would.
func newAuxRe(expr string) (*auxRe, error) {
	p, err := parsePattern(expr)
	if err != nil {
		return nil, err
	}
	return &auxRe{p: p}, nil
}

// mustAuxRe is newAuxRe for the built-in expressions.
func mustAuxRe(expr string) *auxRe {
	a, err := newAuxRe(expr)
	if err != nil {
		panic("rules: built-in pattern: " + err.Error())
	}
	return a
}

// String returns the expression.
func (a *auxRe) String() string { return a.p.src }

// auxView is an auxRe as a text uses it: as a DFA, or plain (Go's regexp)
// for the reference evaluation.
type auxView struct {
	a     *auxRe
	plain bool
}

// aux returns a as the text uses it: plain for the reference evaluation.
func (x *text) aux(a *auxRe) auxView { return auxView{a: a, plain: x.sc == nil && !x.fast} }

// matcher returns the DFA matcher for s, or nil when Go's regexp must run
// (plain, or s is not valid UTF-8).
func (v auxView) matcher(s string) *lazydfa.Finder {
	if v.plain || !utf8.ValidString(s) {
		return nil
	}
	return v.a.p.matcher()
}

// MatchString reports whether s holds a match.
func (v auxView) MatchString(s string) bool {
	if m := v.matcher(s); m != nil {
		if found, ok := m.MatchString(s); ok {
			return found
		}
	}
	return v.a.p.regexp().MatchString(s)
}

// FindStringIndex returns the leftmost match in s, or nil.
func (v auxView) FindStringIndex(s string) []int {
	if locs := v.FindAllStringIndex(s, 1); len(locs) > 0 {
		return locs[0]
	}
	return nil
}

// FindAllStringIndex returns up to n matches in s (n < 0: all).
func (v auxView) FindAllStringIndex(s string, n int) [][]int {
	if m := v.matcher(s); m != nil {
		if locs, ok := m.FindAll(s, n, false); ok {
			return locs
		}
	}
	return v.a.p.regexp().FindAllStringIndex(s, n)
}

// LastEnd returns the end of the last match in s (of those
// FindAllStringIndex returns), or -1.
func (v auxView) LastEnd(s string) int {
	if m := v.matcher(s); m != nil {
		if end, ok := m.LastEnd(s); ok {
			return end
		}
	}
	if locs := v.a.p.regexp().FindAllStringIndex(s, -1); len(locs) > 0 {
		return locs[len(locs)-1][1]
	}
	return -1
}

// ReplaceAllString replaces every match in s by repl.
func (v auxView) ReplaceAllString(s, repl string) string {
	if m := v.matcher(s); m != nil && !strings.Contains(repl, "$") {
		if out, ok := m.ReplaceAll(s, repl); ok {
			return out
		}
	}
	return v.a.p.regexp().ReplaceAllString(s, repl)
}
