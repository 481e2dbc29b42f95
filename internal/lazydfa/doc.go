// Package lazydfa runs regular expressions as lazily built DFAs, for the
// patterns that a screening runs over every report: the rules engine's
// (which asks where the matches are, with their groups) and the injection
// detector's (which asks whether a window holds a match).
//
// Go's regexp runs a backtracker or an NFA: each byte of text costs a walk
// over the threads of the program, tens of nanoseconds for a pattern with
// many branches. A DFA runs the same program with a state per set of
// threads, built the first time a text leads to it and then reused, so
// that a byte costs a table look-up. Both automata here read runes by
// class (runes that no instruction of the program tells apart and that
// the empty-width assertions see alike share a class, see runeClasses)
// and answer exactly as Go's regexp does: the same Unicode classes and
// case folding, the same assertions.
//
// A Finder answers what regexp's Find* methods answer, match for match
// and group for group (leftmost-first): a forward DFA finds where the
// leftmost match ends, a DFA of the reversed program run backwards from
// there finds where it starts, and the groups, when the pattern has any,
// come from a backtracker that follows the program from that start to
// that end only. Its states are shared by all goroutines.
//
// A Matcher answers what regexp's MatchString answers, and only that: its
// states are the pike VM's thread sets without their priorities, which
// change which match is found but not whether one is. Each goroutine
// reads with a cache of its own, of two-byte entries, and two texts can
// be read at once (MatchTwo), their look-ups interleaved.
//
// A Finder of a generated encoding may start warm (NewFinderCompiledWarm):
// its DFAs start from snapshots of the states that warm-up texts reached
// (WarmRecorder writes them at go generate time, WarmSet reads them in
// place), so that the first text of a process does not build the states
// nearly every text reaches. A snapshot is found by its program's CRC: one
// of a program since changed is not found, and the DFA starts empty.
//
// Both leave a text to Go's regexp when it would make them build states
// faster than they read bytes (a Finder reports it, a Matcher calls its
// fallback). A text that is not valid UTF-8 must not be given to a Finder
// (callers check); a Matcher reads any text.
package lazydfa
