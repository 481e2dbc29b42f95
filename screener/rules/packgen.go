package rules

import (
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"sync"

	_ "embed" // scanner.bin

	"github.com/secscreen/secscreen/internal/progtab"
)

//go:generate go test -run ^(TestKernelPackGenerated|TestPatternAnalysisGenerated)$ -args -update

// The built-in pack is read at every start. Its YAML (kernel.yaml and
// kernel.weights.yaml) stays the source of truth, but go generate also
// writes its decoded form as Go (kernel_gen.go), so that a process does
// not decode some 140 KB of YAML (about 25 ms of CPU) before its first
// report. The generated form is used only while its hash matches the
// embedded YAML's; otherwise the YAML is decoded as before, and
// TestKernelPackGenerated fails until go generate is run again.

// The analysis of the pack's patterns (their tokens, the branches to
// prune, their line bounds: about 20 ms of CPU) is generated too
// (analysis_gen.go), keyed by the expression: a pattern whose expression
// is in the table takes its analysis from there and parses its syntax only
// when it needs it (for a variant, or a group's index); any other pattern,
// a user's pack's say, is analysed at run time. TestPatternAnalysisGenerated
// fails when the table is not what the analyser gives today.

// genAnalysis is an analysis of the generated table (analysis_gen.go),
// with tokens as ids into generatedTokens: the table is static data, and
// a pattern's analysis is made when the pattern is.
type genAnalysis struct {
	expr string
	// need holds the clauses (need.branches nil: no branches with
	// clauses of their own), and their orders by length, as
	// newCompiledNeed makes them: the generated scanner's need of the
	// pattern, made at no cost.
	need  compiledNeed
	maxNL int
	runs  byteSet
	// scanned: the pattern is one of the built-in engine's, whose tokens
	// generatedScanner looks for.
	scanned bool
}

// lookupAnalysis returns the generated analysis of expr, or nil.
func lookupAnalysis(expr string) *genAnalysis {
	i, ok := slices.BinarySearchFunc(generatedAnalyses[:], expr, func(g genAnalysis, e string) int { return strings.Compare(g.expr, e) })
	if !ok {
		return nil
	}
	return &generatedAnalyses[i]
}

// genToken is a token of the generated table, its byte sets as indices
// into generatedByteSets.
type genToken struct {
	lit         string
	left, right uint16
}

// kernelYAMLHash returns the hash of the built-in pack's files: kernel.yaml
// and the weights file it names ("" for none). It tells whether
// kernel_gen.go was generated from these files, at every start: a CRC
// (CRC-32, which processors compute at several GB/s) with the files'
// lengths is enough to tell an edited file, where SHA-256 cost about
// 0.3 ms.
func kernelYAMLHash(weightsFile string) (string, error) {
	h := crc32.NewIEEE()
	h.Write(kernelRulesYAML)
	var wsize int64
	if weightsFile != "" {
		f, err := packFS.Open(weightsFile)
		if err != nil {
			return "", fmt.Errorf("built-in kernel.yaml: weights: %w", err)
		}
		defer f.Close()
		h.Write([]byte{0})
		// A small buffer: io.Copy's would be 32 KiB, made and zeroed.
		if wsize, err = io.CopyBuffer(h, f, make([]byte, 4<<10)); err != nil {
			return "", fmt.Errorf("built-in kernel.yaml: weights: %w", err)
		}
	}
	return fmt.Sprintf("%d+%d:%08x", len(kernelRulesYAML), wsize, h.Sum32()), nil
}

// kernelFromGenerated returns the built-in pack from kernel_gen.go, with
// its patterns parsed, or false when that file is stale.
func kernelFromGenerated() (*RuleSet, bool, error) {
	set := generatedKernelPack()
	if set == nil {
		return nil, false, nil
	}
	sum, err := kernelYAMLHash(set.WeightsFile)
	if err != nil || sum != generatedKernelHash {
		return nil, false, nil //nolint:nilerr // stale or missing: decode the YAML instead
	}
	if len(generatedRuleExprs) != len(set.Rules) || len(generatedFactExprs) != len(set.Facts) {
		return nil, false, nil
	}
	// The rules and extractors were checked when go generate decoded them
	// (Parse); their patterns' expressions are generated too, most of
	// them with their analysis: what is left to do is to make the
	// patterns, in one allocation.
	n := 0
	for _, x := range generatedRuleExprs {
		n += len(x.match) + len(x.unless)
	}
	for _, x := range generatedFactExprs {
		n += len(x.match) + len(x.also)
	}
	store := make([]pattern, n)
	fps := make([]knownFingerprint, len(set.Rules))
	patterns := func(exprs []string) ([]*pattern, error) {
		out := make([]*pattern, len(exprs))
		for i, expr := range exprs {
			g := lookupAnalysis(expr)
			if g == nil {
				p, err := parsePattern(expr)
				if err != nil {
					return nil, err
				}
				out[i] = p
				continue
			}
			p := &store[0]
			store = store[1:]
			p.src, p.gen, p.maxNL, p.runs, p.hand = expr, g, g.maxNL, g.runs, handMatchers[expr]
			out[i] = p
		}
		return out, nil
	}
	for i := range set.Rules {
		r, x := &set.Rules[i], &generatedRuleExprs[i]
		if r.Disabled {
			continue
		}
		if len(x.match) != len(r.Match) || len(x.unless) != len(r.Unless) {
			return nil, false, nil
		}
		fps[i] = knownFingerprint{fp: x.fingerprint, of: fingerprintOf(r)}
		r.fingerprint = &fps[i]
		if r.match, err = patterns(x.match); err == nil {
			r.unless, err = patterns(x.unless)
		}
		if err != nil {
			return nil, false, fmt.Errorf("%s:%d: rule %s: %w", r.Source, r.Line, r.ID, err)
		}
	}
	for i := range set.Facts {
		x, gx := &set.Facts[i], &generatedFactExprs[i]
		if len(gx.match) != len(x.Match) || len(gx.also) != len(x.Also) {
			return nil, false, nil
		}
		if x.match, err = patterns(gx.match); err == nil {
			if x.also, err = patterns(gx.also); err == nil {
				err = x.compileRest()
			}
		}
		if err != nil {
			return nil, false, fmt.Errorf("%s:%d: fact extractor %s: %w", set.Source, x.Line, x.Fact, err)
		}
	}
	if set.Versions != nil {
		if err := set.Versions.compile(); err != nil {
			return nil, false, fmt.Errorf("%s: %w", set.Source, err)
		}
	}
	return set, true, nil
}

// genRuleExprs are the expressions of a generated rule's patterns (see
// patternSource), as its compile method makes them.
type genRuleExprs struct {
	match, unless []string
	fingerprint   string // the rule's Fingerprint
}

// genFactExprs are the expressions of a generated fact extractor's match
// and also patterns (see patternSource), as its compile method makes
// them.
type genFactExprs struct {
	match, also []string
}

// genClauses makes clauses of tokens from clauses of generated token ids.
func genClauses(ids [][]uint16) [][]token {
	out := make([][]token, len(ids))
	for i, c := range ids {
		out[i] = make([]token, len(c))
		for j, id := range c {
			g := &generatedTokens[id]
			out[i][j] = token{lit: g.lit, left: generatedByteSets[g.left], right: generatedByteSets[g.right]}
		}
	}
	return out
}

// genScanner is the scanner of the built-in pack's engine as go generate
// writes it (scanner_gen.go and scanner.bin): its literals, the tokens of
// each (ids into generatedTokens), and its automaton, complete: the
// automaton's tables but its transitions, which are in scanner.bin, and
// the tokens found where its states report literals (see scanner).
type genScanner struct {
	lits     []string
	variants [][]uint16
	// class, n, root, outFrom, outStart and outs are the automaton's (see
	// automaton and acTables.row).
	class          [256]uint8
	n              int
	root, outFrom  uint32
	outStart, outs []int32
	found          []foundToken
	foundAt        []int32
}

// The transitions of the generated scanner's automaton, every entry
// computed (see automaton.delta): about 1.2 MB that a process reads in
// place, so that a scan faults in the pages of the rows it reaches (for
// one report, a few dozen near the root) and nothing is allocated,
// zeroed or filled.
//
//go:embed scanner.bin
var scannerTable string

// generatedBase is the generated scanner without needs, made once per
// process.
var generatedBase = sync.OnceValue(newGeneratedBase)

func newGeneratedBase() *scanner {
	g := &generatedScanner
	return &scanner{ac: g.automaton(), lits: g.lits, ntok: len(generatedTokens), sets: generatedByteSets[:],
		found: g.found, foundAt: g.foundAt}
}

// automaton returns the generated automaton, its transitions read from
// scanner.bin.
func (g *genScanner) automaton() *automaton {
	return &automaton{class: g.class, n: g.n, delta: progtab.Uint32s(scannerTable), root: g.root, outFrom: g.outFrom,
		outStart: g.outStart, outs: g.outs, div: newExactDivisor(uint32(g.n))}
}

// scannerOf returns the scanner of the patterns: the generated one when
// every pattern is one it looks for (the built-in pack, perhaps with
// rules disabled), else one built now.
func scannerOf(pats []*pattern) *scanner {
	for _, p := range pats {
		if p != nil && (p.gen == nil || !p.gen.scanned) {
			return newScanner(pats)
		}
	}
	base := generatedBase()
	sc := &scanner{ac: base.ac, lits: base.lits, found: base.found, foundAt: base.foundAt, sets: base.sets, ntok: base.ntok,
		needs: make(map[*pattern]*compiledNeed, len(pats))}
	for _, p := range pats {
		if p == nil || sc.needs[p] != nil {
			continue
		}
		sc.needs[p] = &p.gen.need
	}
	sc.markAnchors()
	return sc
}
