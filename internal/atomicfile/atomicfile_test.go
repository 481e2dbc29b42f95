package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFileReplacesWholeOrNotAtAll(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.json")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
	require.NoError(t, WriteFile(path, []byte("new"), 0o644))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new", string(data))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	assert.Error(t, WriteFile(filepath.Join(dir, "no", "such", "dir"), []byte("x"), 0o644))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")
}

// ReadFile gives what os.ReadFile gives: the whole file, empty or larger
// than the buffer, in the buffer when it fits; a missing file is an error
// that says so.
func TestReadFileIsOSReadFile(t *testing.T) {
	dir := t.TempDir()
	buf := make([]byte, 0, 16)
	for _, size := range []int{0, 1, 15, 16, 17, 4096, 100_000} {
		path := filepath.Join(dir, fmt.Sprint(size))
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + size)
		}
		require.NoError(t, WriteFile(path, data, 0o600))
		got, err := ReadFile(path, buf)
		require.NoError(t, err)
		assert.Equal(t, data, got, "size %d", size)
		if size < cap(buf) {
			assert.Same(t, &buf[:1][0], &got[:1][0], "size %d: read into the buffer given", size)
		}
	}
	_, err := ReadFile(filepath.Join(dir, "missing"), nil)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	_, err = ReadFile(dir, nil)
	assert.Error(t, err, "a directory is not a file to read")
}

// Use hands over the file's bytes, and the error of the read or of use.
func TestUseGivesTheFilesBytes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "entry.json")
	require.NoError(t, WriteFile(path, []byte(`{"key":"k"}`), 0o600))
	for range 3 { // the pooled buffer is reused
		var got string
		require.NoError(t, Use(path, func(data []byte) error { got = string(data); return nil }))
		assert.Equal(t, `{"key":"k"}`, got)
	}
	errUse := errors.New("use failed")
	assert.ErrorIs(t, Use(path, func([]byte) error { return errUse }), errUse)
	called := false
	err := Use(filepath.Join(dir, "missing"), func([]byte) error { called = true; return nil })
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.False(t, called)
}
