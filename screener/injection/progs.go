package injection

import (
	_ "embed" // progs.bin
	"regexp/syntax"

	"github.com/secscreen/secscreen/internal/lazydfa"
	"github.com/secscreen/secscreen/internal/lazyre"
	"github.com/secscreen/secscreen/internal/progtab"
)

//go:generate go test -run ^TestProgsGenerated$ -args -update

// progsData is every matcher's compiled program, keyed by its pattern's
// source, as go generate wrote it (progs.bin, see TestProgsGenerated).
//
//go:embed progs.bin
var progsData string

var progs = progtab.New(progsData)

// newDFA returns the automaton of re, which answers as re.MatchString
// does (re itself answers a text the automaton gives up on). Its program
// is read from the generated table at first use, which costs a small part
// of compiling it (most of the detector's first use in a process); a
// pattern the table lacks is compiled. An entry that does not read panics
// (TestProgsGenerated reads them all).
func newDFA(re *lazyre.Regexp) *lazydfa.Matcher {
	src := re.String()
	if _, ok := progs.Value(src); !ok {
		return lazydfa.NewMatcher(src, re.MatchString)
	}
	return lazydfa.NewMatcherOf(func() *syntax.Prog {
		p := generatedProg(src)
		if p == nil {
			panic("injection: the generated program of " + src + " does not read")
		}
		return p
	}, re.MatchString)
}

// generatedProg returns the program syntax.Compile makes of src (parsed
// with syntax.Perl and simplified), read from the generated table, or nil
// when the table does not hold it.
func generatedProg(src string) *syntax.Prog {
	v, ok := progs.Value(src)
	if !ok {
		return nil
	}
	p, rest, err := progtab.ReadProg(v)
	if err != nil || len(rest) != 0 {
		return nil
	}
	return p
}
