package threatmodel

import (
	_ "embed"
	"sync"
)

//go:embed kernel.yaml
var kernelYAML []byte

var kernel = sync.OnceValue(func() *Model {
	m, err := ParseYAML(kernelYAML, "built-in")
	if err != nil {
		panic("threatmodel: built-in kernel.yaml does not load: " + err.Error())
	}
	return m
})

// Kernel returns the built-in Linux kernel threat model. It is the default
// context for models and the reference for every category id.
//
// Unlike the loaders of other built-in data, which return an error naming
// the embedded file, Kernel panics with that message: it fills zero
// options in packages whose defaults cannot fail, and a broken kernel.yaml
// is a build defect that TestEveryBuiltinLoaderSucceeds (cmd/secscreen)
// and this package's tests catch.
func Kernel() *Model { return kernel() }
