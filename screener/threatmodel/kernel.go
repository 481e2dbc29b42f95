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
		panic("threatmodel: built-in kernel model does not load: " + err.Error())
	}
	return m
})

// Kernel returns the built-in Linux kernel threat model. It is the default
// context for models and the reference for every category id.
func Kernel() *Model { return kernel() }
