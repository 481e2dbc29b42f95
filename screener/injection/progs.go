package injection

import (
	_ "embed" // progs.bin

	"github.com/secscreen/secscreen/internal/lazydfa"
	"github.com/secscreen/secscreen/internal/lazyre"
	"github.com/secscreen/secscreen/internal/progtab"
)

//go:generate go test -run ^TestProgsGenerated$ -args -update

// progsData is every matcher's automaton, encoded with its rune classes
// and sets (lazydfa's Matcher.AppendCompiled), keyed by its pattern's
// source, as go generate wrote it (progs.bin, see TestProgsGenerated).
//
//go:embed progs.bin
var progsData string

var progs = progtab.New(progsData)

// newDFA returns the automaton of re, which answers as re.MatchString
// does (re itself answers a text the automaton gives up on). It is read
// in place from the generated table at first use, which costs a small
// part of compiling the pattern and working out its classes (most of the
// detector's first use in a process); a pattern the table lacks is
// compiled. An entry that does not read panics (TestProgsGenerated reads
// them all).
func newDFA(re *lazyre.Regexp) *lazydfa.Matcher {
	src := re.String()
	if enc, ok := progs.Value(src); ok {
		return lazydfa.NewMatcherCompiled(enc, re.MatchString)
	}
	return lazydfa.NewMatcher(src, re.MatchString)
}
