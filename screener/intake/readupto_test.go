package intake

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

// readUpTo, which reads into a reused buffer, returns what reading with
// io.ReadAll returns: the kept bytes, the size and the error, for parts
// shorter and longer than the buffer and than the limit, read a byte at a
// time, with the last bytes and io.EOF together, and cut by an error.
func TestReadUpToIsReadAll(t *testing.T) {
	want := func(r io.Reader, limit int64) ([]byte, int64, error) {
		data, err := io.ReadAll(io.LimitReader(r, limit))
		if err != nil {
			return data, int64(len(data)), err
		}
		rest, err := io.Copy(io.Discard, r)
		return data, int64(len(data)) + rest, err
	}
	boom := errors.New("boom")
	readers := map[string]func(b []byte) io.Reader{
		"plain":    func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"data+EOF": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
		"error":    func(b []byte) io.Reader { return io.MultiReader(bytes.NewReader(b), iotest.ErrReader(boom)) },
		"unexpected EOF": func(b []byte) io.Reader {
			return io.MultiReader(bytes.NewReader(b), iotest.ErrReader(io.ErrUnexpectedEOF))
		},
		"error once": func(b []byte) io.Reader {
			return io.MultiReader(bytes.NewReader(b), &errOnce{err: io.ErrUnexpectedEOF}, bytes.NewReader(b))
		},
	}
	for _, size := range []int{0, 1, 100, 511, 512, 4096, 100_000} {
		src := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		for name, mk := range readers {
			for _, bufCap := range []int{0, 1, 100, 512, 5000, 200_000} {
				for _, limit := range []int64{0, 50, 4096, 1 << 20} {
					wd, ws, werr := want(mk(src), limit)
					gd, gs, gerr := readUpTo(mk(src), limit, make([]byte, 7, bufCap+7)[7:])
					require.Equal(t, string(wd), string(gd), "%s, %d bytes, buffer %d, limit %d", name, size, bufCap, limit)
					require.Equal(t, ws, gs, "%s, %d bytes, buffer %d, limit %d", name, size, bufCap, limit)
					require.Equal(t, werr, gerr, "%s, %d bytes, buffer %d, limit %d", name, size, bufCap, limit)
				}
			}
		}
	}
}

// errOnce fails its first read with err and ends at the next.
type errOnce struct {
	err  error
	done bool
}

func (e *errOnce) Read([]byte) (int, error) {
	if e.done {
		return 0, io.EOF
	}
	e.done = true
	return 0, e.err
}
