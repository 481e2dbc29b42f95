//go:build unix

package intake

import "syscall"

// mkfifo makes a named pipe, a file that is not a regular file.
func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
