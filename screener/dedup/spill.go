package dedup

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// spill keeps records out of memory: appended to a temporary file (removed
// as soon as it is open, where the system allows, so that nothing is left
// behind however the run ends), read back by reference. When no file can
// be made or written, records are kept in memory instead: nothing is lost,
// only the memory bound.
type spill struct {
	f    *os.File
	w    *bufio.Writer
	size int64 // bytes written to f, buffered ones included
	// name is f's path while it could not be removed (Close removes it).
	name string
	// mem holds the records written after the file failed.
	mem [][]byte
	// fileErr is why the file is not used, once it failed.
	fileErr error
}

// spillRef says where a record is: at off in the file with length n, or
// mem[off] when inMem. The zero spillRef is no record.
type spillRef struct {
	off   int64
	n     int32
	inMem bool
	ok    bool
}

// add keeps b and returns where it is.
func (s *spill) add(b []byte) spillRef {
	if s.f == nil && s.fileErr == nil {
		s.open()
	}
	if s.fileErr == nil && len(b) <= 1<<30 {
		if _, err := s.w.Write(b); err == nil {
			ref := spillRef{off: s.size, n: int32(len(b)), ok: true}
			s.size += int64(len(b))
			return ref
		} else {
			s.fileErr = fmt.Errorf("dedup: write %s: %w", s.f.Name(), err)
		}
	}
	s.mem = append(s.mem, b)
	return spillRef{off: int64(len(s.mem) - 1), inMem: true, ok: true}
}

// open makes the temporary file.
func (s *spill) open() {
	f, err := os.CreateTemp("", "secscreen-dedup-*")
	if err != nil {
		s.fileErr = fmt.Errorf("dedup: %w", err)
		return
	}
	if os.Remove(f.Name()) != nil {
		s.name = f.Name() // still open elsewhere (Windows): removed by Close
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 64<<10)
}

// get returns the record at ref.
func (s *spill) get(ref spillRef) ([]byte, error) {
	switch {
	case !ref.ok:
		return nil, errors.New("dedup: no such record")
	case ref.inMem:
		return s.mem[ref.off], nil
	case s.f == nil:
		return nil, errors.New("dedup: the spill file is closed")
	}
	if s.w.Buffered() > 0 && ref.off+int64(ref.n) > s.size-int64(s.w.Buffered()) {
		if err := s.w.Flush(); err != nil {
			return nil, fmt.Errorf("dedup: write %s: %w", s.f.Name(), err)
		}
	}
	b := make([]byte, ref.n)
	if _, err := s.f.ReadAt(b, ref.off); err != nil && !(errors.Is(err, io.EOF) && ref.n == 0) {
		return nil, fmt.Errorf("dedup: read %s: %w", s.f.Name(), err)
	}
	return b, nil
}

// close releases the file and the records.
func (s *spill) close() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
		if s.name != "" {
			err = errors.Join(err, os.Remove(s.name))
		}
	}
	*s = spill{fileErr: errors.New("dedup: closed")}
	return err
}
