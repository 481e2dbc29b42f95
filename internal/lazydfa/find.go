package lazydfa

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// maxDFAStates bounds the states one DFA keeps; past it, the DFA starts
// afresh, and a search under way when that happens is left to Go's
// regexp.
const maxDFAStates = 10000

// A posDFA runs a program leftmost-first and unanchored (a forward search
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
//
// A DFA may start warm, from a generated snapshot of the states that
// warm-up texts reached (see warm.go): its table is then the snapshot's
// rows, read in place and never written (its capacity is its length, so
// the first state added copies it; ownTable copies it before any other
// store), and the snapshot's states are read from it when asked for
// (state, lookup), so that a search that stays among them allocates
// nothing.
type posDFA struct {
	p       *matchProg
	cls     *runeClasses // p's
	longest bool
	stride  int // entries per row: classes, then the match bits

	table atomic.Pointer[[]int32]
	// starts holds the entry of the start state of a search, per kind of
	// the rune before it (0: not built), and gen the table's generation,
	// which a search checks before it asks for a state. A reset makes gen
	// odd while it changes the table and the starts, so that a search
	// takes a start entry and a table of one generation (see start).
	starts [numKinds]atomic.Int32
	gen    atomic.Int32

	// warm is the snapshot the DFA starts from (nil: it starts empty);
	// frozen says that the table is still warm's rows (under mu).
	warm   *warmDFA
	frozen bool
	// maxStates is maxDFAStates, or less for the tests.
	maxStates int

	mu sync.Mutex
	// states holds the states added since the last reset, of ids from
	// nwarm on (the snapshot's are warm's); slots finds them: an
	// open-addressing hash set (by stateHash) of their entries (0: an
	// empty slot), a power of two long, at most half full, made when the
	// first is added. (A map of string keys cost a string and the map's
	// groups per state, on a first report most of the states' page
	// faults.)
	states []dstate
	nwarm  int32
	slots  []int32
	// scratch, under mu.
	seen  []uint32 // sparse set of instructions: dense
	index []uint32 // and its index
	nseen int
	stack []uint32
	runq  []uint32
	// asserted says that the last expand met an assertion.
	asserted bool
	next     []uint32
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

// is reports whether st is the state of the threads pcs after a rune of
// kind prev, loop or not.
func (st *dstate) is(pcs []uint32, prev runeKind, loop bool) bool {
	return st.prev == prev && st.loop == loop && slices.Equal(st.pcs, pcs)
}

func newPosDFA(p *matchProg, longest bool) *posDFA {
	return newPosDFAWarm(p, longest, nil)
}

// newPosDFAWarm returns the DFA of p that starts from the snapshot w (nil:
// empty), which must be of p (see WarmSet.dfa).
func newPosDFAWarm(p *matchProg, longest bool, w *warmDFA) *posDFA {
	n := p.ninst
	d := &posDFA{p: p, cls: p.cls, longest: longest, stride: p.nclass + 1,
		seen: make([]uint32, n), index: make([]uint32, n), warm: w, maxStates: maxDFAStates}
	d.reset()
	return d
}

// reset takes the DFA back to where it started: its warm snapshot, or
// empty but for its dead state (under mu, or before use).
func (d *posDFA) reset() {
	d.gen.Add(1)
	defer d.gen.Add(1)
	d.states = d.states[:0]
	clear(d.slots)
	if w := d.warm; w != nil {
		d.nwarm, d.frozen = w.n, true
		d.table.Store(&w.rows)
		for i := range d.starts {
			d.starts[i].Store(w.starts[i])
		}
		return
	}
	d.nwarm, d.frozen = 0, false
	d.states = append(d.states, dstate{})
	tab := make([]int32, d.stride, 8*d.stride)
	for c := range d.stride - 1 {
		tab[c] = 0 // the dead state stays dead
	}
	d.table.Store(&tab)
	for i := range d.starts {
		d.starts[i].Store(0)
	}
}

// numStates returns the number of states, the dead one included (under
// mu).
func (d *posDFA) numStates() int { return int(d.nwarm) + len(d.states) }

// state returns the state of id (under mu).
func (d *posDFA) state(id int32) dstate {
	if id < d.nwarm {
		return d.warm.state(id)
	}
	return d.states[id-d.nwarm]
}

// ownTable returns the table with room for extra more entries, copied to
// the heap when it is the warm snapshot's (which is never written) or
// lacks the room; the copy is stored for searches to read on (under mu).
func (d *posDFA) ownTable(extra int) []int32 {
	tab := *d.table.Load()
	if !d.frozen && len(tab)+extra <= cap(tab) {
		return tab
	}
	// A table grows by doubling; the snapshot's, by room for a few states
	// (most texts that leave it add a few).
	size := 2*cap(tab) + extra
	if d.frozen {
		size = len(tab) + max(extra, 4*d.stride)
	}
	// Entries are written under mu only, which the caller holds: a plain
	// copy reads them.
	grown := make([]int32, len(tab), size)
	copy(grown, tab)
	d.frozen = false
	d.table.Store(&grown)
	return grown
}

func (d *posDFA) clearSeen() { d.nseen = 0 }

// visit adds pc to the seen set; false when it was there.
func (d *posDFA) visit(pc uint32) bool {
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
func (d *posDFA) closure(pc uint32, ctx syntax.EmptyOp, assert bool, out []uint32) ([]uint32, bool) {
	stack := append(d.stack[:0], pc)
	matched := false
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !d.visit(pc) {
			continue
		}
		switch syntax.InstOp(d.p.ops[pc]) {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, d.p.arg(pc), d.p.out(pc))
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, d.p.out(pc))
		case syntax.InstEmptyWidth:
			if !assert {
				out = append(out, pc)
				break
			}
			d.asserted = true
			if syntax.EmptyOp(d.p.arg(pc))&^ctx == 0 {
				stack = append(stack, d.p.out(pc))
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
func (d *posDFA) expand(st *dstate, next runeKind) (runq []uint32, matched, loop bool) {
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
		if runq, m = d.closure(d.p.start, ctx, true, runq); m {
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
func (d *posDFA) intern(pcs []uint32, prev runeKind, loop bool) int32 {
	if len(pcs) == 0 && !loop {
		return 0
	}
	h := stateHash(pcs, prev, loop)
	if e, ok := d.warm.lookup(h, pcs, prev, loop); ok {
		return e
	}
	if e := d.slots[d.slot(h, pcs, prev, loop)]; e != 0 {
		return e
	}
	if d.numStates() >= d.maxStates {
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
	id := int32(d.numStates())
	d.states = append(d.states, st)
	tab := d.ownTable(d.stride)
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
	if 2*len(d.states) > len(d.slots) {
		d.growSlots()
	}
	d.slots[d.slot(h, pcs, prev, loop)] = e
	return e
}

// slot returns the index of the slot of the added state of pcs, prev and
// loop, of hash h: the slot that holds its entry, or the empty one where
// it goes (under mu).
func (d *posDFA) slot(h uint32, pcs []uint32, prev runeKind, loop bool) int {
	if len(d.slots) == 0 {
		d.slots = make([]int32, 16)
	}
	mask := len(d.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := d.slots[i]
		if e == 0 {
			return i
		}
		if st := &d.states[int32(int(e>>1)/d.stride)-d.nwarm]; st.is(pcs, prev, loop) {
			return i
		}
	}
}

// growSlots doubles the slots, for one more state (under mu).
func (d *posDFA) growSlots() {
	old := d.slots
	d.slots = make([]int32, 2*len(old))
	for _, e := range old {
		if e != 0 {
			st := d.states[int32(int(e>>1)/d.stride)-d.nwarm]
			d.slots[d.slot(stateHash(st.pcs, st.prev, st.loop), st.pcs, st.prev, st.loop)] = e
		}
	}
}

// tableOf returns the table up to its capacity (see posDFA).
func (d *posDFA) tableOf() []int32 {
	tab := *d.table.Load()
	return tab[:cap(tab)]
}

// start returns the entry of the start state of a search after a rune of
// kind prev, the generation of the table it belongs to and that table (see
// tableOf). Without mu, the entry and the table are taken between two
// loads of an even generation, the same: no reset changed them between.
func (d *posDFA) start(prev runeKind) (int32, int32, []int32) {
	if gen := d.gen.Load(); gen&1 == 0 {
		if e := d.starts[prev].Load(); e != 0 {
			tab := d.tableOf()
			if d.gen.Load() == gen {
				return e - 1, gen, tab
			}
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var e int32
	if d.longest {
		d.clearSeen()
		pcs, _ := d.closure(d.p.start, 0, false, d.next[:0])
		d.next = pcs
		e = d.intern(pcs, prev, false)
	} else {
		e = d.intern(nil, prev, true)
	}
	if e != unknown {
		d.starts[prev].Store(e + 1)
	}
	return e, d.gen.Load(), d.tableOf()
}

// step returns the entry of the state after the state of entry e reads a
// rune of class c, and the table to read on with (taken under mu: a reset
// after step returns does not mix tables); unknown when the DFA was started
// afresh since the caller's search began (gen), or is full.
func (d *posDFA) step(e int32, gen int32, c uint16) (int32, []int32) {
	d.mu.Lock()
	defer d.mu.Unlock()
	nx := d.stepLocked(e, gen, c)
	return nx, d.tableOf()
}

// stepLocked is step under mu, without the table.
func (d *posDFA) stepLocked(e int32, gen int32, c uint16) int32 {
	if d.gen.Load() != gen {
		return unknown
	}
	tab := *d.table.Load()
	row := int(e >> 1)
	if nx := atomic.LoadInt32(&tab[row+int(c)]); nx != unknown {
		return nx
	}
	kind := d.cls.kind[c]
	// runq is d.runq, which closure leaves alone (intern's expand
	// reuses it once we are done with it).
	st := d.state(int32(row / d.stride))
	runq, _, loop := d.expand(&st, kind)
	d.clearSeen()
	next := d.next[:0]
	for _, pc := range runq {
		if d.p.reads(pc, int(c)) {
			next, _ = d.closure(d.p.out(pc), 0, false, next)
		}
	}
	d.next = next
	nx := d.intern(next, kind, loop)
	if nx != unknown {
		tab = d.ownTable(0)
		atomic.StoreInt32(&tab[row+int(c)], nx)
	}
	return nx
}

// matchBefore reports whether, in the state of entry e, a match ends
// right before a rune of class c.
func (d *posDFA) matchBefore(tab []int32, e int32, c uint16) bool {
	return e&1 != 0 && atomic.LoadInt32(&tab[int(e>>1)+d.stride-1])&(1<<d.cls.kindOfClass(c)) != 0
}

// searchEnd runs the forward DFA on s from offset pos: it returns the end
// of the leftmost-first match (-1: none), or, with first, the offset where
// some match is first known to end (a match exists). ok is false when the
// DFA gave up (end is then of no use).
func (d *posDFA) searchEnd(s string, pos int, first bool) (end int, ok bool) {
	e, gen, tab := d.start(lastKind(s, pos))
	if e == unknown {
		return -1, false
	}
	cls := d.cls
	end = -1
	for i := pos; ; {
		var c uint16
		var w int
		if i < len(s) && s[i] < utf8.RuneSelf {
			c, w = cls.ascii[s[i]], 1
		} else {
			c, w = cls.classAt(s, i)
		}
		if d.matchBefore(tab, e, c) {
			end = i
			if first {
				return end, true
			}
		}
		if w == 0 {
			return end, true
		}
		nx := atomic.LoadInt32(&tab[int(e>>1)+int(c)])
		if nx == unknown {
			nx, tab = d.step(e, gen, c)
		}
		if nx <= 0 { // dead, or gave up
			return end, nx == 0
		}
		e = nx
		i += w
	}
}

// searchStart runs the reversed program's DFA backwards from end, down to
// lo: the smallest offset from lo on from which the pattern matches s up
// to end exactly (the rune before lo read as context), or -1.
func (d *posDFA) searchStart(s string, lo, end int) (start int, ok bool) {
	cls := d.cls
	after := kindEdge
	if end < len(s) {
		c, _ := cls.classAt(s, end)
		after = cls.kindOfClass(c)
	}
	e, gen, tab := d.start(after)
	if e == unknown {
		return -1, false
	}
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
		if d.matchBefore(tab, e, c) {
			start = i
		}
		if i <= lo {
			return start, true
		}
		nx := atomic.LoadInt32(&tab[int(e>>1)+int(c)])
		if nx == unknown {
			nx, tab = d.step(e, gen, c)
		}
		if nx <= 0 { // dead, or gave up
			return start, nx == 0
		}
		e = nx
		i -= w
	}
}

// --- Finder -------------------------------------------------------------------

// A Finder finds a pattern's matches and their groups with DFAs, as Go's
// regexp finds them (see the package doc). Its texts must be valid UTF-8
// (the caller leaves others to Go's regexp); its methods return ok false
// when they leave a text to Go's regexp (a search needed more states than
// a DFA keeps). It is safe for concurrent use.
type Finder struct {
	fwd *posDFA
	// enc is the encoding of the forward program (see matchProg), which
	// the groups' backtracker also runs.
	enc string
	// rev is built when the first match needs its start, from simple or,
	// for a Finder made by NewFinderCompiled (simple nil), from revEnc,
	// the encoding of the reversed program (see compileReverse).
	simple  *syntax.Regexp
	revEnc  string
	revOnce sync.Once
	rev     *posDFA
	// warm holds the snapshots the DFAs start from (nil: none), revSum
	// the CRC of revEnc that finds the reversed program's.
	warm   *WarmSet
	revSum uint32
	// ncap is the number of group offsets a match has (2 per group, the
	// whole match included).
	ncap int
	// names are the groups' names by index ("" for the whole match and
	// unnamed groups).
	names []string
}

// NewFinder builds the Finder of the syntax tree re (as parsed by
// syntax.Parse with syntax.Perl, which regexp.Compile uses).
func NewFinder(re *syntax.Regexp) (*Finder, error) {
	simple := re.Simplify()
	prog, err := syntax.Compile(simple)
	if err != nil {
		return nil, err
	}
	enc := string(appendMatchProg(nil, prog))
	p, err := readMatchProg(enc)
	if err != nil {
		return nil, fmt.Errorf("lazydfa: the encoding of a compiled program does not read: %w", err)
	}
	return &Finder{
		fwd:    newPosDFA(p, false),
		enc:    enc,
		simple: simple,
		ncap:   2 * (re.MaxCap() + 1),
		names:  re.CapNames(),
	}, nil
}

// CapNames returns the names of the pattern's groups by index ("" for the
// whole match and unnamed groups), as regexp.Regexp.SubexpNames does.
func (m *Finder) CapNames() []string { return m.names }

// reverse returns the DFA of the reversed program, building it on first
// use (see compileReverse).
func (m *Finder) reverse() *posDFA {
	m.revOnce.Do(func() { m.rev = m.compileReverse() })
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

// MatchString reports whether s holds a match.
func (m *Finder) MatchString(s string) (matched, ok bool) {
	end, ok := m.fwd.searchEnd(s, 0, true)
	return end >= 0, ok
}

// Find returns the leftmost match of s at or after pos (the rune before
// pos read as context): its group offsets, or nil.
func (m *Finder) Find(s string, pos int, groups bool) ([]int, bool) {
	loc, ok := m.appendFind(nil, s, pos, groups)
	if len(loc) == 0 {
		return nil, ok
	}
	return loc, ok
}

// appendFind is Find appending the match's offsets, if there is one, to
// dst: the matches of a search share one array.
func (m *Finder) appendFind(dst []int, s string, pos int, groups bool) ([]int, bool) {
	end, ok := m.fwd.searchEnd(s, pos, false)
	if !ok || end < 0 {
		return dst, ok
	}
	start, ok := m.reverse().searchStart(s, pos, end)
	if !ok || start < 0 {
		return dst, false
	}
	if !groups || m.ncap == 2 {
		return append(dst, start, end), true
	}
	return m.appendGroups(dst, s, start, end)
}

// FindAll returns up to n matches of s (n < 0: all), as
// regexp.FindAllStringSubmatchIndex does: after an empty match the search
// moves on a rune, and an empty match right after a match is dropped.
func (m *Finder) FindAll(s string, n int, groups bool) ([][]int, bool) {
	if n < 0 {
		n = len(s) + 1
	}
	width := 2
	if groups {
		width = m.ncap
	}
	// The matches' offsets, one after the other.
	var flat []int
	for pos, prevEnd := 0, -1; len(flat) < n*width && pos <= len(s); {
		next, ok := m.appendFind(flat, s, pos, groups)
		if !ok {
			return nil, false
		}
		if len(next) == len(flat) {
			break
		}
		loc := next[len(flat):]
		var counts bool
		pos, counts = afterMatch(s, pos, loc[1], prevEnd)
		prevEnd = loc[1]
		if counts {
			flat = next
		}
	}
	return Split(flat, width), true
}

// Split cuts flat, the offsets of matches one after the other, width
// each, into one slice per match (each with no room past its end, so
// that appending to one leaves the next alone).
func Split(flat []int, width int) [][]int {
	if len(flat) == 0 {
		return nil
	}
	out := make([][]int, len(flat)/width)
	for i := range out {
		out[i] = flat[i*width : (i+1)*width : (i+1)*width]
	}
	return out
}

// afterMatch returns where the search that found a match ending at end,
// from pos, goes on, and whether the match counts: after an empty match
// the search moves on a rune, and an empty match right after the match
// before it (ending at prevEnd) is dropped, as Go's regexp does.
func afterMatch(s string, pos, end, prevEnd int) (next int, counts bool) {
	if end != pos {
		return end, true
	}
	return pos + runeWidth(s, pos), pos != prevEnd
}

// runeWidth returns the width of the rune at offset pos of s, 1 at its
// end (a search moving past the end stops).
func runeWidth(s string, pos int) int {
	if pos >= len(s) {
		return 1
	}
	_, w := utf8.DecodeRuneInString(s[pos:])
	return w
}

// LastEnd returns the end of the last match FindAll would return (-1:
// none). It runs the forward DFA only: the end of each match is where the
// next search starts, and an empty match is known by ending where its
// search began.
func (m *Finder) LastEnd(s string) (int, bool) {
	last := -1
	for pos, prevEnd := 0, -1; pos <= len(s); {
		end, ok := m.fwd.searchEnd(s, pos, false)
		if !ok {
			return -1, false
		}
		if end < 0 {
			break
		}
		var counts bool
		if pos, counts = afterMatch(s, pos, end, prevEnd); counts {
			last = end
		}
		prevEnd = end
	}
	return last, true
}

// ReplaceAll returns s with every match replaced by the literal repl, as
// regexp.ReplaceAllString does for a repl without '$': the search moves on
// at least a rune after each match, and an empty match right after a
// match is not replaced.
func (m *Finder) ReplaceAll(s, repl string) (string, bool) {
	var b []byte
	var buf [2]int
	last, found := 0, false
	for pos := 0; pos <= len(s); {
		loc, ok := m.appendFind(buf[:0], s, pos, false)
		if !ok {
			return "", false
		}
		if len(loc) == 0 {
			break
		}
		found = true
		b = append(b, s[last:loc[0]]...)
		if loc[1] > last || loc[0] == 0 {
			b = append(b, repl...)
		}
		last = loc[1]
		pos = max(pos+runeWidth(s, pos), loc[1])
	}
	if !found {
		return s, true
	}
	return string(append(b, s[last:]...)), true
}

// appendGroups appends to dst the group offsets of the leftmost-first match that
// starts at start and ends at end, by backtracking: the threads are
// followed in priority order, each instruction at each offset at most
// once (a second visit would fail as the first did), and none goes past
// end (a thread of higher priority than the match cannot end later).
func (m *Finder) appendGroups(dst []int, s string, start, end int) ([]int, bool) {
	b := backtrackers.Get().(*backtracker)
	defer backtrackers.Put(b)
	loc := b.run(m.fwd.p, s, start, end, m.ncap)
	if loc == nil {
		return dst, false
	}
	return append(dst, loc...), true
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

// run returns the group offsets of the match of p from start to end (see
// appendGroups), or nil; they are b's, until its next run.
func (b *backtracker) run(p *matchProg, s string, start, end, ncap int) []int {
	width := end - start + 1
	bitsNeeded := p.ninst * width
	b.visited = slices.Grow(b.visited[:0], (bitsNeeded+63)/64)[:(bitsNeeded+63)/64]
	clear(b.visited)
	b.caps = slices.Grow(b.caps[:0], ncap)[:ncap]
	for i := range b.caps {
		b.caps[i] = -1
	}
	b.jobs = append(b.jobs[:0], btJob{pc: p.start, pos: start, restore: -1})
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
			next := true
			switch syntax.InstOp(p.ops[pc]) {
			case syntax.InstAlt, syntax.InstAltMatch:
				b.jobs = append(b.jobs, btJob{pc: p.arg(pc), pos: pos, restore: -1})
				pc = p.out(pc)
			case syntax.InstCapture:
				if slot := p.arg(pc); int(slot) < ncap {
					b.jobs = append(b.jobs, btJob{pos: b.caps[slot], restore: int(slot)})
					b.caps[slot] = pos
				}
				pc = p.out(pc)
			case syntax.InstNop:
				pc = p.out(pc)
			case syntax.InstEmptyWidth:
				if syntax.EmptyOp(p.arg(pc))&^contextAt(s, pos) != 0 {
					next = false
				}
				pc = p.out(pc)
			case syntax.InstMatch:
				if pos != end {
					return nil // not the match the DFAs found: leave it to Go's regexp
				}
				b.caps[0], b.caps[1] = start, end
				return b.caps
			case syntax.InstFail:
				next = false
			default:
				if pos >= end {
					next = false
					break
				}
				c, w := p.cls.classAt(s, pos)
				if pos+w > end || !p.reads(pc, int(c)) {
					next = false
					break
				}
				pc, pos = p.out(pc), pos+w
			}
			if !next {
				break
			}
		}
	}
	return nil
}
