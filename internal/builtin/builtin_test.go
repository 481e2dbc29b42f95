package builtin

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMustReturnsTheDataOrPanicsNamingTheFile(t *testing.T) {
	assert.Equal(t, 3, Must("pkg: data.yaml", "", 3, nil))

	recovered := func(f func()) (r any) {
		defer func() { r = recover() }()
		f()
		return nil
	}
	r := recovered(func() { Must("baseline: model.bin", "go generate ./screener/baseline", 0, fs.ErrInvalid) })
	err, ok := r.(error)
	require.True(t, ok, "the panic is an error: %v", r)
	assert.EqualError(t, err, "built-in baseline: model.bin does not load (rebuild it with `go generate ./screener/baseline`): invalid argument")
	assert.True(t, errors.Is(err, fs.ErrInvalid), "it wraps the cause")

	r = recovered(func() { Must[*int]("screener: routes.yaml", "", nil, errors.New("line 3: no destination")) })
	assert.EqualError(t, r.(error), "built-in screener: routes.yaml does not load: line 3: no destination")
}
