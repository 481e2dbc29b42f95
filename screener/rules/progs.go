package rules

import (
	_ "embed" // progs.bin, warm.bin
	"sync"

	"github.com/secscreen/secscreen/internal/lazydfa"
	"github.com/secscreen/secscreen/internal/progtab"
)

//go:generate go test -run ^TestProgsGenerated$ -args -update

// The patterns of the generated analysis (analysis_gen.go: the built-in
// pack's and the package's own) also have their DFA finders generated
// (progs.bin, written by go generate): a pattern's finder, built when a
// text first may hold a match, reads its forward program, its groups and
// its rune classes from the table, and its reversed program when a match
// first needs its start (lazydfa.NewFinderCompiled), instead of parsing,
// simplifying and compiling the expression twice and working the classes
// out (about a third of the rules' first report in a process). Any other
// pattern is compiled as before. TestProgsGenerated fails when the table
// is not what compiling the patterns gives today.

//go:embed progs.bin
var progsData string

var progs = progtab.New(progsData)

// generatedFinder returns the finder of the expression src from the
// generated table, or nil when the table does not hold it (or holds what
// does not read, which TestProgsGenerated rules out): then the caller
// compiles src.
func generatedFinder(src string) *lazydfa.Finder {
	v, ok := progs.Value(src)
	if !ok {
		return nil
	}
	if finderMade != nil {
		f, err := lazydfa.NewFinderCompiled(v)
		if err != nil {
			return nil
		}
		finderMade(f)
		return f
	}
	f, err := lazydfa.NewFinderCompiledWarm(v, warmDFAs())
	if err != nil {
		return nil
	}
	return f
}

//go:generate go test -run ^TestWarmDFAsGenerated$ -args -update

// The finders' DFAs start warm (warm.bin, written by go generate): from
// the states that the engine's searches over the corpus's dev split led
// them to, those that at least warmMinShare of its reports reach, which
// the first report of a process would otherwise build (a few percent of
// its CPU and about a tenth of its page faults). A DFA whose program
// changed since finds no snapshot and starts empty; TestWarmDFAsGenerated
// fails when warm.bin is not what the warm-up gives today.

//go:embed warm.bin
var warmData string

var warmDFAs = sync.OnceValue(func() *lazydfa.WarmSet { return lazydfa.NewWarmSet(warmData) })

// finderMade, when set (by the warm-up that go generate runs), is told of
// every finder generatedFinder makes, which then starts cold.
var finderMade func(*lazydfa.Finder)
