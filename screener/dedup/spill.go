package dedup

import (
	"bufio"
	"encoding/binary"
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
//
// A reference is 31 bits, so that a run keeps 4 bytes per record: in the
// file, a record starts at a multiple of spillAlign bytes with its length
// (4 bytes, little-endian), and its reference is its offset over
// spillAlign; the file holds up to 2^31 × 16 bytes (32 GiB, ~60 million
// records of ~500 bytes). A reference from memBase on is mem's record
// memBase less it. Past that (or a record over 1 GiB), add refuses a record.
type spill struct {
	f    *os.File
	w    *bufio.Writer
	size int64 // bytes written to f, buffered ones included
	// name is f's path while it could not be removed (Close removes it).
	name string
	// mem holds the records written after the file failed, from memBase
	// on.
	mem     [][]byte
	memBase uint32
	// fileErr is why the file is not used, once it failed.
	fileErr error
}

// spillAlign is the alignment of a record in the file.
const spillAlign = 16

// maxSpillRef bounds the references.
const maxSpillRef = 1<<31 - 1

// add keeps b and returns its reference, or false when it cannot.
func (s *spill) add(b []byte) (uint32, bool) {
	if s.f == nil && s.fileErr == nil {
		s.open()
	}
	if s.fileErr == nil && len(b) <= 1<<30 && s.size/spillAlign <= maxSpillRef {
		ref := uint32(s.size / spillAlign)
		var head [4]byte
		binary.LittleEndian.PutUint32(head[:], uint32(len(b)))
		n := 4 + len(b)
		pad := (spillAlign - n%spillAlign) % spillAlign
		_, err := s.w.Write(head[:])
		if err == nil {
			_, err = s.w.Write(b)
		}
		if err == nil {
			var zero [spillAlign]byte
			_, err = s.w.Write(zero[:pad])
		}
		if err == nil {
			s.size += int64(n + pad)
			return ref, true
		}
		s.fileErr = fmt.Errorf("dedup: write %s: %w", s.f.Name(), err)
	}
	if s.mem == nil {
		s.memBase = uint32(min((s.size+spillAlign-1)/spillAlign, maxSpillRef+1))
	}
	ref := int64(s.memBase) + int64(len(s.mem))
	if ref > maxSpillRef {
		return 0, false
	}
	s.mem = append(s.mem, b)
	return uint32(ref), true
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
func (s *spill) get(ref uint32) ([]byte, error) {
	if s.mem != nil && ref >= s.memBase {
		if i := int(ref - s.memBase); i < len(s.mem) {
			return s.mem[i], nil
		}
		return nil, errors.New("dedup: no such record")
	}
	off := int64(ref) * spillAlign
	switch {
	case s.f == nil:
		return nil, errors.New("dedup: the spill file is closed")
	case off+4 > s.size:
		return nil, errors.New("dedup: no such record")
	}
	var head [4]byte
	if err := s.readAt(head[:], off); err != nil {
		return nil, err
	}
	n := int64(binary.LittleEndian.Uint32(head[:]))
	if off+4+n > s.size {
		return nil, fmt.Errorf("dedup: read %s: a record runs past the end", s.f.Name())
	}
	b := make([]byte, n)
	if err := s.readAt(b, off+4); err != nil {
		return nil, err
	}
	return b, nil
}

// readAt fills b from the file at off, flushing the buffered writes that
// it reads first.
func (s *spill) readAt(b []byte, off int64) error {
	if s.w.Buffered() > 0 && off+int64(len(b)) > s.size-int64(s.w.Buffered()) {
		if err := s.w.Flush(); err != nil {
			return fmt.Errorf("dedup: write %s: %w", s.f.Name(), err)
		}
	}
	if _, err := s.f.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && len(b) == 0) {
		return fmt.Errorf("dedup: read %s: %w", s.f.Name(), err)
	}
	return nil
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
