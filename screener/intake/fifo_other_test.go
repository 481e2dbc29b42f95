//go:build !unix

package intake

import "errors"

// mkfifo is not available here; tests skip the named-pipe case.
func mkfifo(string) error { return errors.ErrUnsupported }
