package synth

import (
	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/internal/exit"
)

// Flags are the flags of `secscreen corpus synth`: the Options and the
// output file.
var Flags = []cliflag.Flag{
	{Name: "n", Default: 1000, Usage: "number of messages"},
	{Name: "seed", Default: uint64(1), Usage: "generator seed"},
	{Name: "replies", Default: 0.0, Usage: "share of messages (0 to 1) that reply to an earlier one"},
	{Name: "distinct-crashes", Default: false, Usage: "give every report a crash stack of its own, so that none reuses another's decision (for benchmarks of the model path)"},
	{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` (default: standard output)"},
}

// NewOptions returns the options the flags v give (Flags) and the output
// file ("" standard output). A count below 0 or a share of replies outside
// 0 to 1 is a usage error.
func NewOptions(v cliflag.Values) (Options, string, error) {
	opt := Options{N: v.Int("n"), Seed: v.Uint64("seed"), Replies: v.Float64("replies"), DistinctCrashes: v.Bool("distinct-crashes")}
	if opt.N < 0 || opt.Replies < 0 || opt.Replies > 1 {
		return Options{}, "", exit.Usagef("corpus synth: want --n >= 0 and --replies from 0 to 1")
	}
	return opt, v.String("output"), nil
}
