package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
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
	expr     string
	common   [][]uint16
	branches [][][]uint16 // nil: no branches to prune
	maxNL    int
	runs     byteSet
}

// lookupAnalysis returns the generated analysis of expr, if it has one.
func lookupAnalysis(expr string) (*analysis, bool) {
	i, ok := slices.BinarySearchFunc(generatedAnalyses[:], expr, func(g genAnalysis, e string) int { return strings.Compare(g.expr, e) })
	if !ok {
		return nil, false
	}
	g := &generatedAnalyses[i]
	a := &analysis{common: genClauses(g.common), maxNL: g.maxNL, runs: g.runs}
	if g.branches != nil {
		a.branches = make([][][]token, len(g.branches))
		for i, b := range g.branches {
			a.branches[i] = genClauses(b)
		}
	}
	return a, true
}

// genToken is a token of the generated table, its byte sets as indices
// into generatedByteSets.
type genToken struct {
	lit         string
	left, right uint16
}

// kernelYAMLHash returns the hash of the built-in pack's files: kernel.yaml
// and the weights file it names ("" for none).
func kernelYAMLHash(weightsFile string) (string, error) {
	h := sha256.New()
	h.Write(kernelRulesYAML)
	if weightsFile != "" {
		data, err := packFS.ReadFile(weightsFile)
		if err != nil {
			return "", fmt.Errorf("built-in kernel.yaml: weights: %w", err)
		}
		h.Write([]byte{0})
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
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
	for i := range set.Rules {
		r := &set.Rules[i]
		if r.Disabled {
			continue
		}
		if err := r.compile(); err != nil {
			return nil, false, fmt.Errorf("%s:%d: rule %s: %w", r.Source, r.Line, r.ID, err)
		}
	}
	for i := range set.Facts {
		x := &set.Facts[i]
		if err := x.compile(); err != nil {
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
