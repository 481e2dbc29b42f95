package rules

import (
	_ "embed" // progs.bin
	"encoding/binary"
	"regexp/syntax"

	"github.com/secscreen/secscreen/internal/progtab"
)

//go:generate go test -run ^TestProgsGenerated$ -args -update

// The patterns of the generated analysis (analysis_gen.go: the built-in
// pack's and the package's own) also have their programs generated
// (progs.bin, written by go generate): a pattern's matcher, built when a
// text first may hold a match, reads its forward program, its groups and,
// when a match first needs its start, its reversed program from the table
// instead of parsing, simplifying and compiling the expression twice
// (about a third of the rules' first report in a process). Any other
// pattern is compiled as before. TestProgsGenerated fails when the table
// is not what the compiler gives today.

//go:embed progs.bin
var progsData string

var progs = progtab.New(progsData)

// appendProgsEntry appends the table's value for a pattern: its forward
// program, its reversed program, its number of group offsets and its
// groups' names.
func appendProgsEntry(dst []byte, fwd, rev *syntax.Prog, ncap int, names []string) []byte {
	dst = progtab.AppendProg(dst, fwd)
	dst = progtab.AppendString(dst, string(progtab.AppendProg(nil, rev)))
	dst = binary.AppendUvarint(dst, uint64(ncap))
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	for _, n := range names {
		dst = progtab.AppendString(dst, n)
	}
	return dst
}

// generatedMatcher returns the matcher of the expression src from the
// generated table, or nil when the table does not hold it.
func generatedMatcher(src string) *matcher {
	v, ok := progs.Value(src)
	if !ok {
		return nil
	}
	fwd, rest, err := progtab.ReadProg(v)
	if err != nil {
		return nil
	}
	rev, rest, ok1 := progtab.ReadString(rest)
	ncap, rest, ok2 := progtab.ReadUvarint(rest)
	n, rest, ok3 := progtab.ReadUvarint(rest)
	if !ok1 || !ok2 || !ok3 || n > uint64(len(rest)) {
		return nil
	}
	names := make([]string, n)
	for i := range names {
		if names[i], rest, ok = progtab.ReadString(rest); !ok {
			return nil
		}
	}
	if len(rest) != 0 {
		return nil
	}
	return &matcher{
		fwd:    newDFA(fwd, newRuneClasses(runeSets(fwd)), false),
		prog:   fwd,
		genRev: rev,
		ncap:   int(ncap),
		names:  names,
	}
}

// readGeneratedProg decodes a program of the generated table that was
// kept encoded until needed (a matcher's reversed program).
func readGeneratedProg(enc string) (*syntax.Prog, error) {
	p, _, err := progtab.ReadProg(enc)
	return p, err
}
