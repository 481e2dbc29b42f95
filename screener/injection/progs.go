package injection

import (
	_ "embed" // progs.bin
	"regexp/syntax"

	"github.com/secscreen/secscreen/internal/progtab"
)

//go:generate go test -run ^TestProgsGenerated$ -args -update

// progsData is every matcher's compiled program, keyed by its pattern's
// source, as go generate wrote it (progs.bin, see TestProgsGenerated).
//
//go:embed progs.bin
var progsData string

var progs = progtab.New(progsData)

// generatedProg returns the program syntax.Compile makes of src (parsed
// with syntax.Perl and simplified), read from the generated table, or nil
// when the table does not hold src: then the caller compiles it. Reading
// it costs a small part of compiling it, which was most of the
// detector's first use in a process.
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
