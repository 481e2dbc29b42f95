package injection

import (
	"regexp/syntax"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// Go's regexp has no DFA: to tell whether a pattern matches a window it
// runs an NFA (or a backtracker) that keeps a thread per live state and
// starts a new one at every byte, and the detector's patterns have
// thousands of states. Nearly every window holds no match, so the question
// the detector asks most is a yes or no, which a deterministic automaton
// answers in one table look-up per byte.
//
// dfa is such an automaton, built lazily, as RE2 builds its: a state is
// the set of the compiled program's instructions that threads are at,
// with the kind of rune read last (the context of \b, ^ and \A), and a
// state's move on a class of runes is worked out the first time the text
// asks for it, then kept. Its answer is regexp's MatchString on the same
// text, exactly: the states are the pike VM's thread sets, without their
// priorities, which change which match is found but not whether one is.
// Only that answer is asked of it; where a window matches, the regular
// expression finds the matches and their submatches as before. A text
// that would make it build states faster than it reads bytes is handed to
// the regular expression instead (see move). The tests hold it to
// regexp on the detector's windows, on windows cut anywhere, on every
// window of short texts and under a fuzzer.

// A rune's kind is what the empty-width assertions read of it as the rune
// before a position: none (the text's start), a newline, a word character
// (\b's, ASCII only) or another.
const (
	kindStart uint8 = iota
	kindNewline
	kindWord
	kindOther
)

// kindRune is a rune of each kind, as syntax.EmptyOpContext reads it.
var kindRune = [...]rune{kindStart: -1, kindNewline: '\n', kindWord: 'a', kindOther: ' '}

// runeKind is the kind of r.
func runeKind(r rune) uint8 {
	switch {
	case r == '\n':
		return kindNewline
	case syntax.IsWordChar(r):
		return kindWord
	}
	return kindOther
}

// dfaMaxStates bounds the states a cache keeps: past it the cache starts
// afresh, so that a text that walks a pattern through many states costs
// time, not memory (a cache then holds at most about 100 KB of moves).
// Over the suite, the corpus and the synthetic reports no pattern needs
// more than about 550.
const dfaMaxStates = 1024

// dfa answers whether the pattern re matches a text, as re.MatchString
// does. The pattern is compiled at first use; the automaton's states are
// built as texts reach them.
type dfa struct {
	re        *lazyre.Regexp // the pattern, which answers when the automaton gives up
	src       string
	maxStates int // see dfaMaxStates
	once      sync.Once
	prog      *syntax.Prog
	// Runes are read by class: the runes of a class are matched by the
	// same instructions and are of the same kind. byteClass holds the
	// class of each ASCII byte; the runes in [bounds[i], bounds[i+1])
	// (the last up to unicode.MaxRune) are of class boundClass[i].
	byteClass  [utf8.RuneSelf]uint16
	bounds     []rune
	boundClass []uint16
	nclass     int
	classRune  []rune  // a rune of each class
	classKind  []uint8 // the kind of each class's runes
	// set is, for each instruction that reads a rune, the index of its
	// set of runes (instructions that read the same runes share one), -1
	// for the others; inSet[s*nclass+c] says whether set s holds class
	// c's runes.
	set   []int32
	inSet []bool

	mu   sync.Mutex
	free []*dfaCache // caches not in use, each kept for the next match
}

// newDFA returns the automaton of the pattern re, compiled at first use.
func newDFA(re *lazyre.Regexp) *dfa { return &dfa{re: re, src: re.String(), maxStates: dfaMaxStates} }

// init compiles the pattern, or reads its program from the generated
// table, and splits the runes into classes. A pattern that does not
// compile panics, as regexp.MustCompile does: the patterns are fixed, and
// the tests compile them all.
func (d *dfa) init() {
	prog := generatedProg(d.src)
	if prog == nil {
		re, err := syntax.Parse(d.src, syntax.Perl)
		if err != nil {
			panic("injection: " + err.Error())
		}
		if prog, err = syntax.Compile(re.Simplify()); err != nil {
			panic("injection: " + err.Error())
		}
	}
	d.prog = prog

	// The distinct sets of runes the program reads, the ASCII bytes in
	// each, and the rune values past ASCII where a set begins or ends.
	d.set = make([]int32, len(prog.Inst))
	var sets []*syntax.Inst
	var inASCII []byteSet
	var bounds []rune
	index := map[string]int32{}
	var key []byte
	for pc := range prog.Inst {
		inst := &prog.Inst[pc]
		d.set[pc] = -1
		if !readsRune(inst) {
			continue
		}
		key = append(key[:0], byte(inst.Op), byte(inst.Arg&uint32(syntax.FoldCase)))
		for _, r := range inst.Rune {
			key = append(key, byte(r), byte(r>>8), byte(r>>16))
		}
		i, ok := index[string(key)]
		if !ok {
			i = int32(len(sets))
			index[string(key)] = i
			sets = append(sets, inst)
			inASCII = append(inASCII, asciiOf(inst))
			bounds = appendBounds(bounds, inst)
		}
		d.set[pc] = i
	}
	bounds = append(bounds, utf8.RuneSelf)
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	i := 0
	for i < len(bounds) && bounds[i] < utf8.RuneSelf {
		i++
	}
	bounds = bounds[i:]
	if bounds[len(bounds)-1] > unicode.MaxRune {
		bounds = bounds[:len(bounds)-1]
	}

	// A class is a kind and the sets that hold its runes. The ASCII
	// classes: the bytes of each kind, split by each set in turn.
	classes := []byteSet{{}, {}, {}}
	for b := range byte(utf8.RuneSelf) {
		classes[runeKind(rune(b))-kindNewline].add(b)
	}
	for _, in := range inASCII {
		for c, n := 0, len(classes); c < n; c++ {
			if both, out := classes[c].and(in), classes[c].andNot(in); !both.empty() && !out.empty() {
				classes[c] = both
				classes = append(classes, out)
			}
		}
	}
	for _, class := range classes {
		if class.empty() {
			continue // no newline, say, in the kind of newlines
		}
		id, rep := uint16(len(d.classRune)), rune(class.first())
		for b := range byte(utf8.RuneSelf) {
			if class.has(b) {
				d.byteClass[b] = id
			}
		}
		d.classRune = append(d.classRune, rep)
		d.classKind = append(d.classKind, runeKind(rep))
	}
	// The classes past ASCII: one for each signature of the runs between
	// bounds.
	ids := map[string]uint16{}
	sig := make([]byte, len(sets))
	d.bounds = bounds
	d.boundClass = make([]uint16, len(bounds))
	for i, r := range bounds {
		for s, inst := range sets {
			sig[s] = 0
			if instMatches(inst, r) {
				sig[s] = 1
			}
		}
		id, ok := ids[string(sig)]
		if !ok {
			id = uint16(len(d.classRune))
			ids[string(sig)] = id
			d.classRune = append(d.classRune, r)
			d.classKind = append(d.classKind, kindOther)
		}
		d.boundClass[i] = id
	}
	d.nclass = len(d.classRune)
	// Every state's first entry must be less than dfaGaveUp.
	d.maxStates = min(d.maxStates, int(dfaGaveUp-1)/d.nclass)
	d.inSet = make([]bool, len(sets)*d.nclass)
	for s, inst := range sets {
		for c, r := range d.classRune {
			if r < utf8.RuneSelf {
				d.inSet[s*d.nclass+c] = inASCII[s].has(byte(r))
			} else {
				d.inSet[s*d.nclass+c] = instMatches(inst, r)
			}
		}
	}
}

// readsRune reports whether inst reads a rune.
func readsRune(inst *syntax.Inst) bool {
	switch inst.Op {
	case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		return true
	}
	return false
}

// instMatches reports whether inst, which reads a rune, reads r, as the
// regexp package's machines do.
func instMatches(inst *syntax.Inst, r rune) bool {
	switch inst.Op {
	case syntax.InstRune1:
		return r == inst.Rune[0]
	case syntax.InstRuneAny:
		return true
	case syntax.InstRuneAnyNotNL:
		return r != '\n'
	}
	return inst.MatchRune(r)
}

// asciiOf returns the ASCII bytes inst, which reads a rune, reads.
func asciiOf(inst *syntax.Inst) byteSet {
	var set byteSet
	add := func(lo, hi rune) {
		for r := lo; r <= min(hi, utf8.RuneSelf-1); r++ {
			set.add(byte(r))
		}
	}
	switch {
	case inst.Op == syntax.InstRuneAny:
		add(0, utf8.RuneSelf-1)
	case inst.Op == syntax.InstRuneAnyNotNL:
		add(0, '\n'-1)
		add('\n'+1, utf8.RuneSelf-1)
	case inst.Op == syntax.InstRune1 || len(inst.Rune) == 1:
		r := inst.Rune[0]
		add(r, r)
		if inst.Op == syntax.InstRune && inst.Arg&uint32(syntax.FoldCase) != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				add(f, f)
			}
		}
	default:
		for i := 0; i+1 < len(inst.Rune); i += 2 {
			add(inst.Rune[i], inst.Rune[i+1])
		}
	}
	return set
}

// appendBounds adds to bounds the runes where inst's set of runes begins
// and ends (one past its last rune): every run of runes between two
// bounds is either all in the set or all out of it.
func appendBounds(bounds []rune, inst *syntax.Inst) []rune {
	switch inst.Op {
	case syntax.InstRuneAny:
		return bounds
	case syntax.InstRuneAnyNotNL:
		return append(bounds, '\n', '\n'+1)
	case syntax.InstRune1:
		return append(bounds, inst.Rune[0], inst.Rune[0]+1)
	}
	if len(inst.Rune) == 1 {
		// A single rune, in any case when syntax.FoldCase is set: its
		// orbit under simple case folding.
		r := inst.Rune[0]
		bounds = append(bounds, r, r+1)
		if inst.Arg&uint32(syntax.FoldCase) != 0 {
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				bounds = append(bounds, f, f+1)
			}
		}
		return bounds
	}
	for i := 0; i+1 < len(inst.Rune); i += 2 {
		bounds = append(bounds, inst.Rune[i], inst.Rune[i+1]+1)
	}
	return bounds
}

// runeClass is the class of r, which is not ASCII.
func (d *dfa) runeClass(r rune) int {
	i, found := slices.BinarySearch(d.bounds, r)
	if !found {
		i--
	}
	return int(d.boundClass[i])
}

// match reports whether the pattern matches in s, as
// regexp.MatchString(s) does.
func (d *dfa) match(s string) bool {
	d.once.Do(d.init)
	c := d.cache(s)
	defer d.release(c)
	return c.run(d, s, 0, 0)
}

// answer is the answer on s of a move to no state: matched, or gave up.
func (d *dfa) answer(to uint16, s string) bool {
	return to == dfaMatched || d.re.MatchString(s)
}

// matchTwo is d1.match(s1) and d2.match(s2) at once. Reading a byte is a
// chain of table look-ups, each waiting for the one before; two chains
// that do not wait for each other interleave, at little more than the
// time of one.
func matchTwo(d1 *dfa, s1 string, d2 *dfa, s2 string) (bool, bool) {
	d1.once.Do(d1.init)
	d2.once.Do(d2.init)
	c1, c2 := d1.cache(s1), d2.cache(s2)
	defer d1.release(c1)
	defer d2.release(c2)
	classes1, classes2, next1, next2 := &d1.byteClass, &d2.byteClass, c1.next, c2.next
	i1, i2, at1, at2 := 0, 0, 0, 0
	for i1 < len(s1) && i2 < len(s2) {
		if b1, b2 := s1[i1], s2[i2]; b1|b2 < utf8.RuneSelf {
			to1, to2 := next1[at1+int(classes1[b1])], next2[at2+int(classes2[b2])]
			if to1 < dfaGaveUp && to2 < dfaGaveUp {
				at1, at2 = int(to1), int(to2)
				i1++
				i2++
				continue
			}
		}
		// A rune past ASCII, or a move to work out or that matches: a
		// step of each the slow way.
		var to uint16
		if to, i1 = c1.step(d1, s1, i1, at1); to >= dfaGaveUp {
			return d1.answer(to, s1), c2.run(d2, s2, i2, at2)
		}
		at1 = int(to)
		if to, i2 = c2.step(d2, s2, i2, at2); to >= dfaGaveUp {
			return c1.run(d1, s1, i1, at1), d2.answer(to, s2)
		}
		at2 = int(to)
		next1, next2 = c1.next, c2.next
	}
	return c1.run(d1, s1, i1, at1), c2.run(d2, s2, i2, at2)
}

// run goes on reading s from s[i] in the state whose first entry in
// c.next is at, and reports whether the pattern matches.
func (c *dfaCache) run(d *dfa, s string, i, at int) bool {
	classes, next := &d.byteClass, c.next
	for i < len(s) {
		var class int
		if b := s[i]; b < utf8.RuneSelf {
			class = int(classes[b])
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			class = d.runeClass(r)
			i += size
		}
		to := next[at+class]
		if to == dfaUnknown {
			to = c.move(d, int32(at/d.nclass), class)
			next = c.next
		}
		if to >= dfaGaveUp {
			return d.answer(to, s)
		}
		at = int(to)
	}
	return c.matchesAtEnd(d, at/d.nclass)
}

// step reads the rune at s[i] (there is one) in the state whose first
// entry is at, and returns the next state's first entry (or dfaMatched,
// or dfaGaveUp) and the next rune's offset.
func (c *dfaCache) step(d *dfa, s string, i, at int) (uint16, int) {
	var class int
	if b := s[i]; b < utf8.RuneSelf {
		class = int(d.byteClass[b])
		i++
	} else {
		r, size := utf8.DecodeRuneInString(s[i:])
		class = d.runeClass(r)
		i += size
	}
	to := c.next[at+class]
	if to == dfaUnknown {
		to = c.move(d, int32(at/d.nclass), class)
	}
	return to, i
}

// cache takes a cache not in use, or makes one, to read s.
func (d *dfa) cache(s string) *dfaCache {
	var c *dfaCache
	d.mu.Lock()
	if n := len(d.free); n > 0 {
		c = d.free[n-1]
		d.free = d.free[:n-1]
	}
	d.mu.Unlock()
	if c == nil {
		c = newDFACache(d)
	}
	c.moves, c.budget = 0, max(d.maxStates, len(s)/8)
	return c
}

// release gives c back for the next match.
func (d *dfa) release(c *dfaCache) {
	d.mu.Lock()
	d.free = append(d.free, c)
	d.mu.Unlock()
}

// A dfaCache holds the states built so far and their moves; one match
// uses it at a time.
type dfaCache struct {
	ids    map[string]int32 // a state's key (see add) → its index
	states []dfaState
	pcs    []uint32 // the states' instructions, one after the other
	// next holds each state's moves, nclass entries per state: the
	// next state's first entry, dfaUnknown when not yet worked out, or
	// dfaMatched. Two bytes an entry keep the tables of the states a
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
	dfaUnknown uint16 = 0xFFFF // not yet worked out
	dfaMatched uint16 = 0xFFFE // ends in a match
	dfaGaveUp  uint16 = 0xFFFD // too many new states: the regular expression answers (never kept)
)

// dfaState is a state: the instructions threads are at (pcs[lo:hi] of
// its cache), before the empty-width assertions between the rune read last
// (of kind prev) and the next one are taken.
type dfaState struct {
	lo, hi int32
	prev   uint8
	end    int8 // matches at the text's end: 0 not yet known, 1 yes, -1 no
}

func newDFACache(d *dfa) *dfaCache {
	c := &dfaCache{on: make([]bool, len(d.prog.Inst))}
	c.reset(d)
	return c
}

// reset drops every state but the start: no thread, at the text's start.
func (c *dfaCache) reset(d *dfa) {
	c.ids = map[string]int32{}
	c.states = c.states[:0]
	c.pcs = c.pcs[:0]
	c.next = c.next[:0]
	c.add(d, nil, kindStart)
}

// add adds the state of pcs (sorted, distinct) after a rune of kind prev,
// or finds it, and returns its index.
func (c *dfaCache) add(d *dfa, pcs []uint32, prev uint8) int32 {
	c.key = append(c.key[:0], prev)
	for _, pc := range pcs {
		c.key = append(c.key, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	if id, ok := c.ids[string(c.key)]; ok {
		return id
	}
	id := int32(len(c.states))
	c.ids[string(c.key)] = id
	c.states = append(c.states, dfaState{lo: int32(len(c.pcs)), hi: int32(len(c.pcs) + len(pcs)), prev: prev})
	c.pcs = append(c.pcs, pcs...)
	for range d.nclass {
		c.next = append(c.next, dfaUnknown)
	}
	return id
}

// closure takes the threads of state from to the instructions that read
// a rune, through the empty-width assertions that hold before a rune of
// class class (or at the text's end, class -1), adding a thread at the
// pattern's start (a match may start anywhere). It leaves those
// instructions in c.added and reports whether a thread reached a match.
func (c *dfaCache) closure(d *dfa, from int32, class int) bool {
	next := rune(-1)
	if class >= 0 {
		next = d.classRune[class]
	}
	st := c.states[from]
	ctx := syntax.EmptyOpContext(kindRune[st.prev], next)
	c.added = c.added[:0]
	c.stack = append(append(c.stack[:0], uint32(d.prog.Start)), c.pcs[st.lo:st.hi]...)
	matched := false
	for len(c.stack) > 0 && !matched {
		pc := c.stack[len(c.stack)-1]
		c.stack = c.stack[:len(c.stack)-1]
		if c.on[pc] {
			continue
		}
		c.on[pc] = true
		c.added = append(c.added, pc)
		inst := &d.prog.Inst[pc]
		switch inst.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			c.stack = append(c.stack, inst.Arg, inst.Out)
		case syntax.InstCapture, syntax.InstNop:
			c.stack = append(c.stack, inst.Out)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(inst.Arg)&^ctx == 0 {
				c.stack = append(c.stack, inst.Out)
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
// class: the next state's first entry in c.next, or dfaMatched.
func (c *dfaCache) move(d *dfa, from int32, class int) uint16 {
	if c.closure(d, from, class) {
		c.next[int(from)*d.nclass+class] = dfaMatched
		return dfaMatched
	}
	c.moved = c.moved[:0]
	for _, pc := range c.added {
		if s := d.set[pc]; s >= 0 && d.inSet[int(s)*d.nclass+class] {
			c.moved = append(c.moved, d.prog.Inst[pc].Out)
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
		return dfaGaveUp
	}
	if len(c.states) >= d.maxStates {
		// Start afresh; the move from the old state is not kept.
		c.resets++
		c.reset(d)
		return uint16(int(c.add(d, c.moved, d.classKind[class])) * d.nclass)
	}
	to := c.add(d, c.moved, d.classKind[class])
	next := uint16(int(to) * d.nclass)
	c.next[int(from)*d.nclass+class] = next
	return next
}

// matchesAtEnd reports whether state s reaches a match at the text's end.
func (c *dfaCache) matchesAtEnd(d *dfa, s int) bool {
	if st := &c.states[s]; st.end == 0 {
		st.end = -1
		if c.closure(d, int32(s), -1) {
			st.end = 1
		}
	}
	return c.states[s].end > 0
}
