package lazydfa

import (
	"regexp/syntax"

	"github.com/secscreen/secscreen/internal/progtab"
	"slices"
	"sync"
	"unicode/utf8"
)

// maxMatchStates bounds the states a Matcher's cache keeps: past it the
// cache starts afresh, so that a text that walks a pattern through many
// states costs time, not memory (a cache then holds at most about 100 KB
// of moves). Over the injection detector's suite, the corpus and the
// synthetic reports no pattern needs more than about 550.
const maxMatchStates = 1024

// A Matcher answers whether a pattern matches a text, as
// regexp.MatchString does (see the package doc). The pattern is compiled
// at first use; the automaton's states are built as texts reach them. It
// is safe for concurrent use.
type Matcher struct {
	src      string
	enc      string            // the program's encoding (appendMatchProg), "" until src is compiled
	fallback func(string) bool // answers when the automaton gives up
	// maxStates is maxMatchStates, or less for the tests.
	maxStates int
	once      sync.Once
	matchProg

	mu   sync.Mutex
	free []*matchCache // caches not in use, each kept for the next match
}

// NewMatcher returns the Matcher of the pattern src (in the syntax of
// regexp.Compile), compiled at first use; fallback answers for a text
// that the automaton gives up on, and must be regexp's MatchString of the
// same pattern. A src that does not compile panics, at first use, as
// regexp.MustCompile does: use it for fixed patterns that tests run.
func NewMatcher(src string, fallback func(string) bool) *Matcher {
	return &Matcher{src: src, fallback: fallback, maxStates: maxMatchStates}
}

// init compiles the pattern into its encoding, when it was not made from
// one, and reads the encoding (see matchProg). An encoding that does not
// read panics.
func (d *Matcher) init() {
	if d.enc == "" {
		prog, err := progtab.Compile(d.src)
		if err != nil {
			panic("lazydfa: " + err.Error())
		}
		d.enc = string(appendMatchProg(nil, prog))
	}
	d.matchProg = *mustReadMatchProg(d.enc, "a compiled Matcher")
	// Every state's first entry must be less than matchGaveUp.
	d.maxStates = min(d.maxStates, int(matchGaveUp-1)/d.nclass)
}

// class returns the class of the rune at s[i] (there is one) and the
// offset of the next rune.
func (d *Matcher) class(s string, i int) (int, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return int(d.cls.ascii[b]), i + 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	return int(d.cls.of(r)), i + size
}

// Match reports whether the pattern matches in s, as regexp.MatchString
// does.
func (d *Matcher) Match(s string) bool {
	d.once.Do(d.init)
	c := d.cache(s)
	defer d.release(c)
	return c.run(d, s, 0, 0)
}

// answer is the answer on s of a move to no state: matched, or gave up.
func (d *Matcher) answer(to uint16, s string) bool {
	return to == matchFound || d.fallback(s)
}

// MatchTwo is d1.Match(s1) and d2.Match(s2) at once. Reading a byte is a
// chain of table look-ups, each waiting for the one before; two chains
// that do not wait for each other interleave, at little more than the
// time of one.
func MatchTwo(d1 *Matcher, s1 string, d2 *Matcher, s2 string) (bool, bool) {
	d1.once.Do(d1.init)
	d2.once.Do(d2.init)
	c1, c2 := d1.cache(s1), d2.cache(s2)
	defer d1.release(c1)
	defer d2.release(c2)
	classes1, classes2, next1, next2 := &d1.cls.ascii, &d2.cls.ascii, c1.next, c2.next
	i1, i2, at1, at2 := 0, 0, 0, 0
	for i1 < len(s1) && i2 < len(s2) {
		if b1, b2 := s1[i1], s2[i2]; b1|b2 < utf8.RuneSelf {
			to1, to2 := next1[at1+int(classes1[b1])], next2[at2+int(classes2[b2])]
			if to1 < matchGaveUp && to2 < matchGaveUp {
				at1, at2 = int(to1), int(to2)
				i1++
				i2++
				continue
			}
		}
		// A rune past ASCII, or a move to work out or that matches: a
		// step of each the slow way.
		var to uint16
		if to, i1 = c1.step(d1, s1, i1, at1); to >= matchGaveUp {
			return d1.answer(to, s1), c2.run(d2, s2, i2, at2)
		}
		at1 = int(to)
		if to, i2 = c2.step(d2, s2, i2, at2); to >= matchGaveUp {
			return c1.run(d1, s1, i1, at1), d2.answer(to, s2)
		}
		at2 = int(to)
		next1, next2 = c1.next, c2.next
	}
	return c1.run(d1, s1, i1, at1), c2.run(d2, s2, i2, at2)
}

// run goes on reading s from s[i] in the state whose first entry in
// c.next is at, and reports whether the pattern matches.
func (c *matchCache) run(d *Matcher, s string, i, at int) bool {
	classes, next := &d.cls.ascii, c.next
	for i < len(s) {
		var class int
		if b := s[i]; b < utf8.RuneSelf {
			class = int(classes[b])
			i++
		} else {
			class, i = d.class(s, i)
		}
		to := next[at+class]
		if to == matchUnknown {
			to = c.move(d, int32(at/d.nclass), class)
			next = c.next
		}
		if to >= matchGaveUp {
			return d.answer(to, s)
		}
		at = int(to)
	}
	return c.matchesAtEnd(d, at/d.nclass)
}

// step reads the rune at s[i] (there is one) in the state whose first
// entry is at, and returns the next state's first entry (or matchFound,
// or matchGaveUp) and the next rune's offset.
func (c *matchCache) step(d *Matcher, s string, i, at int) (uint16, int) {
	class, i := d.class(s, i)
	to := c.next[at+class]
	if to == matchUnknown {
		to = c.move(d, int32(at/d.nclass), class)
	}
	return to, i
}

// cache takes a cache not in use, or makes one, to read s.
func (d *Matcher) cache(s string) *matchCache {
	var c *matchCache
	d.mu.Lock()
	if n := len(d.free); n > 0 {
		c = d.free[n-1]
		d.free = d.free[:n-1]
	}
	d.mu.Unlock()
	if c == nil {
		c = newMatchCache(d)
	}
	c.moves, c.budget = 0, max(d.maxStates, len(s)/8)
	return c
}

// release gives c back for the next match.
func (d *Matcher) release(c *matchCache) {
	d.mu.Lock()
	d.free = append(d.free, c)
	d.mu.Unlock()
}

// A matchCache holds the states built so far and their moves; one match
// uses it at a time.
type matchCache struct {
	ids    map[string]int32 // a state's key (see add) → its index
	states []matchState
	pcs    []uint32 // the states' instructions, one after the other
	// next holds each state's moves, nclass entries per state: the
	// next state's first entry, matchUnknown when not yet worked out, or
	// matchFound. Two bytes an entry keep the tables of the states a
	// text visits in the nearest caches.
	next []uint16

	// moves counts the moves worked out since the cache was taken, of
	// at most budget (see move); resets and gaveUp count what their
	// names say, for the tests.
	moves, budget, resets, gaveUp int

	// scratch space for move
	on    []bool // by instruction: in the closure being built
	stack []uint32
	added []uint32
	moved []uint32
	key   []byte
}

// The moves that lead to no state; a state's first entry is less.
const (
	matchUnknown uint16 = 0xFFFF // not yet worked out
	matchFound   uint16 = 0xFFFE // ends in a match
	matchGaveUp  uint16 = 0xFFFD // too many new states: the fallback answers (never kept)
)

// matchState is a state: the instructions threads are at (pcs[lo:hi] of
// its cache), before the empty-width assertions between the rune read last
// (of kind prev) and the next one are taken.
type matchState struct {
	lo, hi int32
	prev   runeKind
	end    int8 // matches at the text's end: 0 not yet known, 1 yes, -1 no
}

func newMatchCache(d *Matcher) *matchCache {
	c := &matchCache{on: make([]bool, d.ninst)}
	c.reset(d)
	return c
}

// reset drops every state but the start: no thread, at the text's start.
func (c *matchCache) reset(d *Matcher) {
	c.ids = map[string]int32{}
	c.states = c.states[:0]
	c.pcs = c.pcs[:0]
	c.next = c.next[:0]
	c.add(d, nil, kindEdge)
}

// add adds the state of pcs (sorted, distinct) after a rune of kind prev,
// or finds it, and returns its index.
func (c *matchCache) add(d *Matcher, pcs []uint32, prev runeKind) int32 {
	c.key = append(c.key[:0], byte(prev))
	for _, pc := range pcs {
		c.key = append(c.key, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	if id, ok := c.ids[string(c.key)]; ok {
		return id
	}
	id := int32(len(c.states))
	c.ids[string(c.key)] = id
	c.states = append(c.states, matchState{lo: int32(len(c.pcs)), hi: int32(len(c.pcs) + len(pcs)), prev: prev})
	c.pcs = append(c.pcs, pcs...)
	for range d.nclass {
		c.next = append(c.next, matchUnknown)
	}
	return id
}

// closure takes the threads of state from to the instructions that read
// a rune, through the empty-width assertions that hold before a rune of
// class class (or at the text's end, class -1), adding a thread at the
// pattern's start (a match may start anywhere). It leaves those
// instructions in c.added and reports whether a thread reached a match.
func (c *matchCache) closure(d *Matcher, from int32, class int) bool {
	next := kindEdge
	if class >= 0 {
		next = d.cls.kind[class]
	}
	st := c.states[from]
	ctx := emptyContext(st.prev, next)
	c.added = c.added[:0]
	c.stack = append(append(c.stack[:0], d.start), c.pcs[st.lo:st.hi]...)
	matched := false
	for len(c.stack) > 0 && !matched {
		pc := c.stack[len(c.stack)-1]
		c.stack = c.stack[:len(c.stack)-1]
		if c.on[pc] {
			continue
		}
		c.on[pc] = true
		c.added = append(c.added, pc)
		switch syntax.InstOp(d.ops[pc]) {
		case syntax.InstAlt, syntax.InstAltMatch:
			c.stack = append(c.stack, d.arg(pc), d.out(pc))
		case syntax.InstCapture, syntax.InstNop:
			c.stack = append(c.stack, d.out(pc))
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(d.arg(pc))&^ctx == 0 {
				c.stack = append(c.stack, d.out(pc))
			}
		case syntax.InstMatch:
			matched = true
		}
	}
	for _, pc := range c.added {
		c.on[pc] = false
	}
	return matched
}

// move works out and keeps the move of state from on a rune of class
// class: the next state's first entry in c.next, or matchFound.
func (c *matchCache) move(d *Matcher, from int32, class int) uint16 {
	if c.closure(d, from, class) {
		c.next[int(from)*d.nclass+class] = matchFound
		return matchFound
	}
	c.moved = c.moved[:0]
	for _, pc := range c.added {
		if readsRuneOp(syntax.InstOp(d.ops[pc])) && d.reads(pc, class) {
			c.moved = append(c.moved, d.out(pc))
		}
	}
	slices.Sort(c.moved)
	c.moved = slices.Compact(c.moved)
	if c.moves++; c.moves > c.budget {
		// A text that walks the pattern through more new states than
		// the cache holds, and more than one every 8 bytes, costs more
		// in building states than regexp takes to answer (RE2 gives up
		// its DFA likewise).
		c.gaveUp++
		return matchGaveUp
	}
	kind := d.cls.kind[class]
	if len(c.states) >= d.maxStates {
		// Start afresh; the move from the old state is not kept.
		c.resets++
		c.reset(d)
		return uint16(int(c.add(d, c.moved, kind)) * d.nclass)
	}
	to := c.add(d, c.moved, kind)
	next := uint16(int(to) * d.nclass)
	c.next[int(from)*d.nclass+class] = next
	return next
}

// matchesAtEnd reports whether state s reaches a match at the text's end.
func (c *matchCache) matchesAtEnd(d *Matcher, s int) bool {
	if st := &c.states[s]; st.end == 0 {
		st.end = -1
		if c.closure(d, int32(s), -1) {
			st.end = 1
		}
	}
	return c.states[s].end > 0
}
