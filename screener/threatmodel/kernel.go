package threatmodel

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"slices"
	"sync"

	"github.com/secscreen/secscreen/internal/builtin"
)

//go:generate go test -run ^TestKernelGenerated$ -args -update

//go:embed kernel.yaml
var kernelYAML []byte

// kernel is the built-in model. kernel_gen.go holds it decoded, written by
// `go generate` from kernel.yaml, which stays the source: the decoded form
// is used while the hash it records is kernel.yaml's, so that an edited
// kernel.yaml not yet regenerated is still what loads (and
// TestKernelGenerated fails until it is). Parsing the YAML cost every run
// ~1-2 ms of CPU.
var kernel = sync.OnceValue(func() *Model { return kernelFrom(kernelYAML) })

// kernelFrom returns the generated model if data is the YAML it was
// generated from, else data parsed.
func kernelFrom(data []byte) *Model {
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) == kernelGenSHA256 {
		m, err := New(kernelGenName, "built-in", slices.Clone(kernelGenClauses))
		m = builtin.Must("threatmodel: kernel_gen.go", "go generate ./screener/threatmodel", m, err)
		m.RulePack = kernelGenRulePack
		return m
	}
	m, err := ParseYAML(data, "built-in")
	return builtin.Must("threatmodel: kernel.yaml", "", m, err)
}

// Kernel returns the built-in Linux kernel threat model. It is the default
// context for models and the reference for every category id. Like every
// loader of built-in data it panics if kernel.yaml does not load, rather
// than return an error: see internal/builtin for why.
func Kernel() *Model { return kernel() }
