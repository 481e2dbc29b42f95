//go:build !linux

package atomicfile

import "os"

// ReadFile reads the whole file at path into buf, growing it when it is too
// small, and returns the bytes read: os.ReadFile, with a buffer the caller
// may reuse (see the Linux version, which saves system calls).
func ReadFile(path string, buf []byte) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return append(buf[:0], data...), nil
}
