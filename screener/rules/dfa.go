package rules

import (
	mathbits "math/bits"
	"regexp/syntax"
	"slices"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// Go's regexp runs a backtracker or an NFA: each byte of text costs a walk
// over the threads of the program, tens of nanoseconds for a pattern with
// many branches. A matcher runs the same program as a lazily built DFA
// instead: a state is the ordered list of the program's threads, built the
// first time a text leads to it and then reused, so that a byte costs a
// table look-up. It finds exactly what Go's regexp finds, match for match
// and group for group (leftmost-first, the same Unicode classes and case
// folding, the same assertions): a forward DFA finds where the leftmost
// match ends, a DFA of the reversed program run backwards from there finds
// where it starts, and the groups, when the pattern has any, come from a
// backtracker that follows the program from that start to that end only.
// A text that is not valid UTF-8, and a search that needs more states than
// a DFA may keep, are left to Go's regexp (callers check the first, the
// matcher reports the second), which gives the same matches.

// A runeKind is what the empty-width assertions see of a rune: a word
// character (ASCII, as \b reads it), a line break, another rune, or the
// edge of the text (before its start, after its end).
type runeKind uint8

const (
	kindOther runeKind = iota
	kindWord
	kindNewline
	kindEdge
	numKinds
)

func kindOf(r rune) runeKind {
	switch {
	case r < 0:
		return kindEdge
	case r == '\n':
		return kindNewline
	case syntax.IsWordChar(r):
		return kindWord
	}
	return kindOther
}

// emptyContext returns the assertions that hold between a rune of kind
// prev and one of kind next (syntax.EmptyOpContext by kinds).
func emptyContext(prev, next runeKind) syntax.EmptyOp {
	var op syntax.EmptyOp
	switch prev {
	case kindEdge:
		op |= syntax.EmptyBeginText | syntax.EmptyBeginLine
	case kindNewline:
		op |= syntax.EmptyBeginLine
	}
	switch next {
	case kindEdge:
		op |= syntax.EmptyEndText | syntax.EmptyEndLine
	case kindNewline:
		op |= syntax.EmptyEndLine
	}
	if (prev == kindWord) != (next == kindWord) {
		op |= syntax.EmptyWordBoundary
	} else {
		op |= syntax.EmptyNoWordBoundary
	}
	return op
}

// runeClasses partitions the runes into classes that no instruction of a
// program tells apart: the same rune instructions match them and they are
// of the same kind. The DFA's transitions are per class.
type runeClasses struct {
	ascii [utf8.RuneSelf]uint16
	// bounds are the starts of the intervals of runes from utf8.RuneSelf
	// up, each of one class (ofBound).
	bounds  []rune
	ofBound []uint16
	kind    []runeKind // per class
	rep     []rune     // a rune of each class
}

// runeSets returns the sets of runes the program's rune instructions
// match, as ranges (lo, hi pairs): a case-folded literal is the runes of
// its fold orbit. Instructions that match any rune, or any but a line
// break, need none: the kind tells.
func runeSets(p *syntax.Prog) [][]rune {
	var sets [][]rune
	for i := range p.Inst {
		in := &p.Inst[i]
		if in.Op != syntax.InstRune && in.Op != syntax.InstRune1 {
			continue
		}
		if len(in.Rune) != 1 {
			sets = append(sets, in.Rune)
			continue
		}
		r0 := in.Rune[0]
		set := []rune{r0, r0}
		if in.Op == syntax.InstRune && syntax.Flags(in.Arg)&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(r0); f != r0; f = unicode.SimpleFold(f) {
				set = append(set, f, f)
			}
		}
		sets = append(sets, set)
	}
	return sets
}

// newRuneClasses returns the classes of the runes that the rune sets
// (see runeSets) tell apart.
func newRuneClasses(sets [][]rune) *runeClasses {
	c := &runeClasses{}
	// ASCII: start from the kinds, and split every class by every set's
	// members (128-bit masks).
	type mask [2]uint64
	var kinds [numKinds]mask
	for r := range rune(utf8.RuneSelf) {
		k := kindOf(r)
		kinds[k][r/64] |= 1 << (r % 64)
	}
	var classes []mask
	for _, m := range kinds {
		if m != (mask{}) {
			classes = append(classes, m)
		}
	}
	// Sets with the same ASCII members split alike: each distinct one
	// once.
	masks := map[mask]bool{}
	for _, set := range sets {
		var in mask
		for j := 0; j+1 < len(set); j += 2 {
			for r := set[j]; r <= set[j+1] && r < utf8.RuneSelf; r++ {
				in[r/64] |= 1 << (r % 64)
			}
		}
		if in == (mask{}) || masks[in] {
			continue
		}
		masks[in] = true
		for i, cl := range classes {
			both := mask{cl[0] & in[0], cl[1] & in[1]}
			if both != (mask{}) && both != cl {
				classes[i] = both
				classes = append(classes, mask{cl[0] &^ in[0], cl[1] &^ in[1]})
			}
		}
	}
	for id, cl := range classes {
		for w, bits := range cl {
			for ; bits != 0; bits &= bits - 1 {
				r := rune(w*64 + mathbits.TrailingZeros64(bits))
				if c.ascii[r] = uint16(id); len(c.rep) == id {
					c.rep = append(c.rep, r)
					c.kind = append(c.kind, kindOf(r))
				}
			}
		}
	}
	// Above ASCII, membership changes only at the edges of the ranges:
	// each interval between them is of the class of the sets it is in
	// (of those that reach above ASCII).
	cuts := []rune{utf8.RuneSelf}
	var wide [][]rune
	for _, set := range sets {
		for j := 1; j < len(set); j += 2 {
			if set[j] >= utf8.RuneSelf {
				wide = append(wide, set)
				break
			}
		}
	}
	sets = wide
	for _, set := range sets {
		for j := 0; j+1 < len(set); j += 2 {
			if lo := set[j]; lo > utf8.RuneSelf {
				cuts = append(cuts, lo)
			}
			if hi := set[j+1]; hi >= utf8.RuneSelf && hi < unicode.MaxRune {
				cuts = append(cuts, hi+1)
			}
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	ids := map[string]uint16{}
	sig := make([]byte, len(sets))
	for _, b := range cuts {
		for i, set := range sets {
			sig[i] = 0
			for j := 0; j+1 < len(set); j += 2 {
				if set[j] <= b && b <= set[j+1] {
					sig[i] = 1
					break
				}
			}
		}
		id, ok := ids[string(sig)]
		if !ok {
			id = uint16(len(c.kind))
			ids[string(sig)] = id
			c.kind = append(c.kind, kindOther)
			c.rep = append(c.rep, b)
		}
		if n := len(c.ofBound); n > 0 && c.ofBound[n-1] == id {
			continue
		}
		c.bounds = append(c.bounds, b)
		c.ofBound = append(c.ofBound, id)
	}
	return c
}

// n is the number of classes; class n is the edge of the text.
func (c *runeClasses) n() int { return len(c.kind) }

// of returns the class of a rune from utf8.RuneSelf up.
func (c *runeClasses) of(r rune) uint16 {
	lo, hi := 0, len(c.bounds)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if c.bounds[m] <= r {
			lo = m
		} else {
			hi = m
		}
	}
	return c.ofBound[lo]
}

// maxDFAStates bounds the states one DFA keeps; past it, the DFA starts
// afresh, and a search under way when that happens is left to Go's
// regexp.
const maxDFAStates = 10000

// A dfa runs a program leftmost-first and unanchored (a forward search
// for the end of the leftmost match), or longest-match and anchored (the
// reversed program, run backwards from that end for its start).
//
// Its states live in one table of int32 rows, one entry per class and a
// last one for the state's matches: a search reads one entry per rune,
// and states the DFA has not built yet read as unknown. A row entry is the
// offset of the next state's row times two, plus one when that state has
// a match bit (so that the match entry is read only then); the state of
// row 0 is dead.
// Entries are read and written atomically: searches run concurrently
// with the one (under mu) that adds a state, and the table is copied when
// it grows, old copies staying valid for what they hold. A row is filled
// before a transition to it is stored, so a search that reads the
// transition may read the row, past the length of the table it loaded,
// within its capacity (tableOf).
type dfa struct {
	prog    *syntax.Prog
	cls     *runeClasses
	longest bool
	stride  int // entries per row: classes, then the match bits

	table atomic.Pointer[[]int32]
	// starts holds the entry of the start state of a search, per kind of
	// the rune before it (0: not built), and gen the table's generation,
	// which a search checks before it asks for a state.
	starts [numKinds]atomic.Int32
	gen    atomic.Int32

	mu     sync.Mutex
	states []dstate
	ids    map[string]int32
	// scratch, under mu.
	seen  []uint32 // sparse set of instructions: dense
	index []uint32 // and its index
	nseen int
	stack []uint32
	runq  []uint32
	// asserted says that the last expand met an assertion.
	asserted bool
	next     []uint32
	key      []byte
}

// unknown is the entry of a transition not yet built.
const unknown = -1

// A dstate is a set of threads: the instructions waiting for the next
// rune (rune instructions, assertions and matches, in priority order), the
// kind of the rune before, and whether the search still starts new
// threads at each position (loop: no match has been found yet).
type dstate struct {
	pcs  []uint32
	prev runeKind
	loop bool
}

func newDFA(prog *syntax.Prog, cls *runeClasses, longest bool) *dfa {
	n := len(prog.Inst)
	d := &dfa{prog: prog, cls: cls, longest: longest, stride: cls.n() + 1,
		seen: make([]uint32, n), index: make([]uint32, n)}
	d.reset()
	return d
}

// reset empties the DFA but for its dead state (under mu, or before use).
func (d *dfa) reset() {
	d.states = append(d.states[:0], dstate{})
	d.ids = map[string]int32{}
	tab := make([]int32, d.stride, 8*d.stride)
	for c := range d.stride - 1 {
		tab[c] = 0 // the dead state stays dead
	}
	d.table.Store(&tab)
	for i := range d.starts {
		d.starts[i].Store(0)
	}
	d.gen.Add(1)
}

func (d *dfa) clearSeen() { d.nseen = 0 }

// visit adds pc to the seen set; false when it was there.
func (d *dfa) visit(pc uint32) bool {
	i := d.index[pc]
	if int(i) < d.nseen && d.seen[i] == pc {
		return false
	}
	d.index[pc] = uint32(d.nseen)
	d.seen[d.nseen] = pc
	d.nseen++
	return true
}

// closure appends to out, in priority order, the instructions reachable
// from pc without consuming a rune: with assert, assertions that ctx
// satisfies are followed (and those it does not, dropped), and rune
// instructions are kept; without, assertions are kept as they are. It
// reports whether a match instruction was reached; leftmost-first, the
// walk stops there, since every thread after it has a lower priority.
func (d *dfa) closure(pc uint32, ctx syntax.EmptyOp, assert bool, out []uint32) ([]uint32, bool) {
	stack := append(d.stack[:0], pc)
	matched := false
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !d.visit(pc) {
			continue
		}
		in := &d.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Arg, in.Out)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstEmptyWidth:
			if !assert {
				out = append(out, pc)
				break
			}
			d.asserted = true
			if syntax.EmptyOp(in.Arg)&^ctx == 0 {
				stack = append(stack, in.Out)
			}
		case syntax.InstMatch:
			if assert {
				matched = true
				if !d.longest {
					d.stack = stack
					return out, true
				}
			} else {
				out = append(out, pc)
			}
		case syntax.InstFail:
		default: // rune instructions
			out = append(out, pc)
		}
	}
	d.stack = stack
	return out, matched
}

// expand resolves the assertions of st's threads for a next rune of kind
// next: it returns the rune instructions that run on that rune, in
// priority order, whether a match ends before it, and whether the search
// still starts threads.
func (d *dfa) expand(st *dstate, next runeKind) (runq []uint32, matched, loop bool) {
	ctx := emptyContext(st.prev, next)
	d.clearSeen()
	d.asserted = false
	runq = d.runq[:0]
	for _, pc := range st.pcs {
		var m bool
		if runq, m = d.closure(pc, ctx, true, runq); m {
			matched = true
			if !d.longest {
				d.runq = runq
				return runq, true, false
			}
		}
	}
	loop = st.loop
	if loop {
		var m bool
		if runq, m = d.closure(uint32(d.prog.Start), ctx, true, runq); m {
			matched = true
			if !d.longest {
				loop = false
			}
		}
	}
	d.runq = runq
	return runq, matched, loop
}

// intern returns the entry of the state of the threads pcs, adding the
// state; unknown when the DFA is full (it then starts afresh, and the
// caller's search gives up).
func (d *dfa) intern(pcs []uint32, prev runeKind, loop bool) int32 {
	if len(pcs) == 0 && !loop {
		return 0
	}
	key := append(d.key[:0], byte(prev))
	if loop {
		key = append(key, 1)
	} else {
		key = append(key, 0)
	}
	for _, pc := range pcs {
		key = append(key, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	d.key = key
	if e, ok := d.ids[string(key)]; ok {
		return e
	}
	if len(d.states) >= maxDFAStates {
		d.reset()
		return unknown
	}
	st := dstate{pcs: slices.Clone(pcs), prev: prev, loop: loop}
	// Whether a match ends before the next rune depends on its kind only
	// through assertions: without any, one expansion tells for all.
	var match int32
	for k := range numKinds {
		_, m, _ := d.expand(&st, k)
		if m {
			match |= 1 << k
		}
		if k == 0 && !d.asserted {
			if m {
				match = 1<<numKinds - 1
			}
			break
		}
	}
	id := int32(len(d.states))
	d.states = append(d.states, st)
	tab := *d.table.Load()
	if len(tab)+d.stride > cap(tab) {
		grown := make([]int32, len(tab), 2*cap(tab))
		for i := range tab {
			grown[i] = atomic.LoadInt32(&tab[i])
		}
		tab = grown
	}
	tab = tab[:len(tab)+d.stride]
	row := tab[len(tab)-d.stride:]
	for c := range row {
		row[c] = unknown
	}
	row[d.stride-1] = match
	d.table.Store(&tab)
	e := id * int32(d.stride) << 1
	if match != 0 {
		e |= 1
	}
	d.ids[string(key)] = e
	return e
}

// tableOf returns the table up to its capacity (see dfa).
func (d *dfa) tableOf() []int32 {
	tab := *d.table.Load()
	return tab[:cap(tab)]
}

// start returns the entry of the start state of a search after a rune of
// kind prev, and the generation of the table it belongs to.
func (d *dfa) start(prev runeKind) (int32, int32) {
	gen := d.gen.Load()
	if e := d.starts[prev].Load(); e != 0 {
		return e - 1, gen
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var e int32
	if d.longest {
		d.clearSeen()
		pcs, _ := d.closure(uint32(d.prog.Start), 0, false, d.next[:0])
		d.next = pcs
		e = d.intern(pcs, prev, false)
	} else {
		e = d.intern(nil, prev, true)
	}
	if e != unknown {
		d.starts[prev].Store(e + 1)
	}
	return e, d.gen.Load()
}

// step returns the entry of the state after the state of entry e reads a
// rune of class c; unknown when the DFA was started afresh since the
// caller's search began (gen), or is full.
func (d *dfa) step(e int32, gen int32, c uint16) int32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gen.Load() != gen {
		return unknown
	}
	tab := *d.table.Load()
	row := int(e >> 1)
	if nx := atomic.LoadInt32(&tab[row+int(c)]); nx != unknown {
		return nx
	}
	r, kind := d.cls.rep[c], d.cls.kind[c]
	// runq is d.runq, which closure leaves alone (intern's expand
	// reuses it once we are done with it).
	runq, _, loop := d.expand(&d.states[row/d.stride], kind)
	d.clearSeen()
	next := d.next[:0]
	for _, pc := range runq {
		if in := &d.prog.Inst[pc]; matchesRune(in, r) {
			next, _ = d.closure(in.Out, 0, false, next)
		}
	}
	d.next = next
	nx := d.intern(next, kind, loop)
	if nx != unknown {
		tab = *d.table.Load()
		atomic.StoreInt32(&tab[row+int(c)], nx)
	}
	return nx
}

func matchesRune(in *syntax.Inst, r rune) bool {
	switch in.Op {
	case syntax.InstRune1:
		return r == in.Rune[0]
	case syntax.InstRuneAny:
		return true
	case syntax.InstRuneAnyNotNL:
		return r != '\n'
	}
	return in.MatchRune(r)
}

// lastKind returns the kind of the rune before offset i of s.
func lastKind(s string, i int) runeKind {
	if i <= 0 {
		return kindEdge
	}
	if c := s[i-1]; c < utf8.RuneSelf {
		return kindOf(rune(c))
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return kindOf(r)
}

// classAt returns the class of the rune at offset i of s and its width;
// the edge class at the end.
func (c *runeClasses) classAt(s string, i int) (uint16, int) {
	if i >= len(s) {
		return uint16(len(c.kind)), 0
	}
	if b := s[i]; b < utf8.RuneSelf {
		return c.ascii[b], 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	return c.of(r), w
}

// kindOfClass returns the kind of class c, kindEdge for the edge class.
func (c *runeClasses) kindOfClass(cl uint16) runeKind {
	if int(cl) >= len(c.kind) {
		return kindEdge
	}
	return c.kind[cl]
}

// searchEnd runs the forward DFA on s from offset pos: it returns the end
// of the leftmost-first match (-1: none), or, with first, the offset where
// some match is first known to end (a match exists). ok is false when the
// DFA gave up.
func (d *dfa) searchEnd(s string, pos int, first bool) (end int, ok bool) {
	e, gen := d.start(lastKind(s, pos))
	if e == unknown {
		return -1, false
	}
	cls := d.cls
	tab := d.tableOf()
	stride := d.stride
	end = -1
	for i := pos; ; {
		var c uint16
		var w int
		if i < len(s) && s[i] < utf8.RuneSelf {
			c, w = cls.ascii[s[i]], 1
		} else {
			c, w = cls.classAt(s, i)
		}
		row := int(e >> 1)
		if e&1 != 0 && atomic.LoadInt32(&tab[row+stride-1])&(1<<cls.kindOfClass(c)) != 0 {
			end = i
			if first {
				return end, true
			}
		}
		if w == 0 {
			return end, true
		}
		nx := atomic.LoadInt32(&tab[row+int(c)])
		if nx == unknown {
			if nx = d.step(e, gen, c); nx == unknown {
				return -1, false
			}
			tab = d.tableOf()
		}
		if nx == 0 {
			return end, true
		}
		e = nx
		i += w
	}
}

// searchStart runs the reversed program's DFA backwards from end, down to
// lo: the smallest offset from lo on from which the pattern matches s up
// to end exactly (the rune before lo read as context), or -1.
func (d *dfa) searchStart(s string, lo, end int) (start int, ok bool) {
	cls := d.cls
	after := kindEdge
	if end < len(s) {
		c, _ := cls.classAt(s, end)
		after = cls.kindOfClass(c)
	}
	e, gen := d.start(after)
	if e == unknown {
		return -1, false
	}
	tab := d.tableOf()
	stride := d.stride
	start = -1
	for i := end; ; {
		var c uint16
		var w int
		switch {
		case i == 0:
			c = uint16(len(cls.kind))
		case s[i-1] < utf8.RuneSelf:
			c, w = cls.ascii[s[i-1]], 1
		default:
			var r rune
			r, w = utf8.DecodeLastRuneInString(s[:i])
			c = cls.of(r)
		}
		row := int(e >> 1)
		if e&1 != 0 && atomic.LoadInt32(&tab[row+stride-1])&(1<<cls.kindOfClass(c)) != 0 {
			start = i
		}
		if i <= lo {
			return start, true
		}
		nx := atomic.LoadInt32(&tab[row+int(c)])
		if nx == unknown {
			if nx = d.step(e, gen, c); nx == unknown {
				return -1, false
			}
			tab = d.tableOf()
		}
		if nx == 0 {
			return start, true
		}
		e = nx
		i -= w
	}
}

// --- matcher -------------------------------------------------------------------

// A matcher finds a pattern's matches with DFAs (see above). Its methods
// return ok false when they leave the text to Go's regexp.
type matcher struct {
	fwd  *dfa
	prog *syntax.Prog
	// rev is built when the first match needs its start, from simple or,
	// for a matcher of the generated table (simple nil), from genRev, the
	// reversed program's encoding (see progs.go).
	simple  *syntax.Regexp
	genRev  string
	revOnce sync.Once
	rev     *dfa
	// ncap is the number of group offsets a match has (2 per group, the
	// whole match included).
	ncap int
	// names are the groups' names by index ("" for the whole match and
	// unnamed groups).
	names []string
}

// newMatcher builds the matcher of the syntax tree re (as parsed by
// syntax.Parse with syntax.Perl, which regexp.Compile uses).
func newMatcher(re *syntax.Regexp) (*matcher, error) {
	simple := re.Simplify()
	prog, err := syntax.Compile(simple)
	if err != nil {
		return nil, err
	}
	return &matcher{
		fwd:    newDFA(prog, newRuneClasses(runeSets(prog)), false),
		prog:   prog,
		simple: simple,
		ncap:   2 * (re.MaxCap() + 1),
		names:  re.CapNames(),
	}, nil
}

// reverse returns the DFA of the reversed program, building it on first
// use. Its rune instructions are the forward program's (the compiler
// makes one per rune of a literal and per class, whichever way they are
// read), so it shares the forward classes; TestReversedProgramsShareRuneSets
// checks that for every pattern of the built-in pack.
func (m *matcher) reverse() *dfa {
	m.revOnce.Do(func() {
		var rprog *syntax.Prog
		var err error
		if m.simple == nil {
			rprog, err = readGeneratedProg(m.genRev)
		} else {
			rprog, err = syntax.Compile(reverseRegexp(m.simple))
		}
		if err != nil {
			panic("rules: the reversal of a compiled pattern does not compile: " + err.Error())
		}
		m.rev = newDFA(rprog, m.fwd.cls, true)
	})
	return m.rev
}

// reverseRegexp returns a regexp that matches the reversal of the strings
// re matches, with the same assertions where they stand: ^ and $, \A and
// \z trade places, \b stays. Groups are dropped (only the whole match's
// start is asked of it).
func reverseRegexp(re *syntax.Regexp) *syntax.Regexp {
	c := &syntax.Regexp{Op: re.Op, Flags: re.Flags, Min: re.Min, Max: re.Max}
	switch re.Op {
	case syntax.OpCapture:
		return reverseRegexp(re.Sub[0])
	case syntax.OpLiteral:
		c.Rune = slices.Clone(re.Rune)
		slices.Reverse(c.Rune)
	case syntax.OpCharClass:
		c.Rune = re.Rune
	case syntax.OpBeginLine:
		c.Op = syntax.OpEndLine
	case syntax.OpEndLine:
		c.Op = syntax.OpBeginLine
	case syntax.OpBeginText:
		c.Op = syntax.OpEndText
	case syntax.OpEndText:
		c.Op = syntax.OpBeginText
	}
	for _, s := range re.Sub {
		c.Sub = append(c.Sub, reverseRegexp(s))
	}
	if re.Op == syntax.OpConcat {
		slices.Reverse(c.Sub)
	}
	return c
}

// matchString reports whether s holds a match.
func (m *matcher) matchString(s string) (matched, ok bool) {
	end, ok := m.fwd.searchEnd(s, 0, true)
	return end >= 0, ok
}

// find returns the leftmost match of s at or after pos (the rune before
// pos read as context): its group offsets, or nil.
func (m *matcher) find(s string, pos int, groups bool) ([]int, bool) {
	end, ok := m.fwd.searchEnd(s, pos, false)
	if !ok || end < 0 {
		return nil, ok
	}
	start, ok := m.reverse().searchStart(s, pos, end)
	if !ok || start < 0 {
		return nil, false
	}
	if !groups || m.ncap == 2 {
		return []int{start, end}, true
	}
	return m.groups(s, start, end)
}

// findAll returns up to n matches of s (n < 0: all), as
// regexp.FindAllStringSubmatchIndex does: after an empty match the search
// moves on a rune, and an empty match right after a match is dropped.
func (m *matcher) findAll(s string, n int, groups bool) ([][]int, bool) {
	if n < 0 {
		n = len(s) + 1
	}
	var out [][]int
	for pos, prevEnd := 0, -1; len(out) < n && pos <= len(s); {
		loc, ok := m.find(s, pos, groups)
		if !ok {
			return nil, false
		}
		if loc == nil {
			break
		}
		accept := true
		if loc[1] == pos {
			accept = loc[0] != prevEnd
			if pos < len(s) {
				_, w := utf8.DecodeRuneInString(s[pos:])
				pos += w
			} else {
				pos++
			}
		} else {
			pos = loc[1]
		}
		prevEnd = loc[1]
		if accept {
			out = append(out, loc)
		}
	}
	return out, true
}

// lastEnd returns the end of the last match findAll would return (-1:
// none). It runs the forward DFA only: the end of each match is where the
// next search starts, and an empty match is known by ending where its
// search began.
func (m *matcher) lastEnd(s string) (int, bool) {
	last := -1
	for pos, prevEnd := 0, -1; pos <= len(s); {
		end, ok := m.fwd.searchEnd(s, pos, false)
		if !ok {
			return -1, false
		}
		if end < 0 {
			break
		}
		if end == pos {
			if pos != prevEnd {
				last = end
			}
			if pos < len(s) {
				_, w := utf8.DecodeRuneInString(s[pos:])
				pos += w
			} else {
				pos++
			}
		} else {
			last, pos = end, end
		}
		prevEnd = end
	}
	return last, true
}

// replaceAll returns s with every match replaced by the literal repl, as
// regexp.ReplaceAllString does for a repl without '$': the search moves on
// at least a rune after each match, and an empty match right after a
// match is not replaced.
func (m *matcher) replaceAll(s, repl string) (string, bool) {
	var b []byte
	last, found := 0, false
	for pos := 0; pos <= len(s); {
		loc, ok := m.find(s, pos, false)
		if !ok {
			return "", false
		}
		if loc == nil {
			break
		}
		found = true
		b = append(b, s[last:loc[0]]...)
		if loc[1] > last || loc[0] == 0 {
			b = append(b, repl...)
		}
		last = loc[1]
		w := 0
		if pos < len(s) {
			_, w = utf8.DecodeRuneInString(s[pos:])
		}
		switch {
		case pos+w > loc[1]:
			pos += w
		case pos+1 > loc[1]:
			pos++
		default:
			pos = loc[1]
		}
	}
	if !found {
		return s, true
	}
	return string(append(b, s[last:]...)), true
}

// groups returns the group offsets of the leftmost-first match that
// starts at start and ends at end, by backtracking: the threads are
// followed in priority order, each instruction at each offset at most
// once (a second visit would fail as the first did), and none goes past
// end (a thread of higher priority than the match cannot end later).
func (m *matcher) groups(s string, start, end int) ([]int, bool) {
	b := backtrackers.Get().(*backtracker)
	defer backtrackers.Put(b)
	loc := b.run(m.prog, s, start, end, m.ncap)
	if loc == nil {
		return nil, false
	}
	return loc, true
}

type btJob struct {
	pc  uint32
	pos int
	// restore, when >= 0, is a group offset slot to set back to pos.
	restore int
}

type backtracker struct {
	visited []uint64
	jobs    []btJob
	caps    []int
}

var backtrackers = sync.Pool{New: func() any { return new(backtracker) }}

// contextAt returns the assertions that hold at offset i of s.
func contextAt(s string, i int) syntax.EmptyOp {
	next := kindEdge
	if i < len(s) {
		r, _ := utf8.DecodeRuneInString(s[i:])
		next = kindOf(r)
	}
	return emptyContext(lastKind(s, i), next)
}

func (b *backtracker) run(p *syntax.Prog, s string, start, end, ncap int) []int {
	width := end - start + 1
	bitsNeeded := len(p.Inst) * width
	b.visited = slices.Grow(b.visited[:0], (bitsNeeded+63)/64)[:(bitsNeeded+63)/64]
	clear(b.visited)
	b.caps = slices.Grow(b.caps[:0], ncap)[:ncap]
	for i := range b.caps {
		b.caps[i] = -1
	}
	b.jobs = append(b.jobs[:0], btJob{pc: uint32(p.Start), pos: start, restore: -1})
	for len(b.jobs) > 0 {
		j := b.jobs[len(b.jobs)-1]
		b.jobs = b.jobs[:len(b.jobs)-1]
		if j.restore >= 0 {
			b.caps[j.restore] = j.pos
			continue
		}
		pc, pos := j.pc, j.pos
		for {
			bit := int(pc)*width + pos - start
			if b.visited[bit/64]&(1<<(bit%64)) != 0 {
				break
			}
			b.visited[bit/64] |= 1 << (bit % 64)
			in := &p.Inst[pc]
			next := true
			switch in.Op {
			case syntax.InstAlt, syntax.InstAltMatch:
				b.jobs = append(b.jobs, btJob{pc: in.Arg, pos: pos, restore: -1})
				pc = in.Out
			case syntax.InstCapture:
				if int(in.Arg) < ncap {
					b.jobs = append(b.jobs, btJob{pos: b.caps[in.Arg], restore: int(in.Arg)})
					b.caps[in.Arg] = pos
				}
				pc = in.Out
			case syntax.InstNop:
				pc = in.Out
			case syntax.InstEmptyWidth:
				if syntax.EmptyOp(in.Arg)&^contextAt(s, pos) != 0 {
					next = false
				}
				pc = in.Out
			case syntax.InstMatch:
				if pos != end {
					return nil // not the match the DFAs found: leave it to Go's regexp
				}
				out := slices.Clone(b.caps)
				out[0], out[1] = start, end
				return out
			case syntax.InstFail:
				next = false
			default:
				if pos >= end {
					next = false
					break
				}
				r, w := utf8.DecodeRuneInString(s[pos:])
				if pos+w > end || !matchesRune(in, r) {
					next = false
					break
				}
				pc, pos = in.Out, pos+w
			}
			if !next {
				break
			}
		}
	}
	return nil
}
