package atomicfile

import "sync"

// readBuffers are Use's buffers: a cache entry is decoded and its bytes
// dropped, so one buffer serves many entries.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// Use reads the whole file at path (ReadFile) into a pooled buffer and
// calls use with its bytes, which are valid only during the call: use must
// copy what it keeps (json.Unmarshal does). It returns the read's error, or
// use's.
func Use(path string, use func(data []byte) error) error {
	bp := readBuffers.Get().(*[]byte)
	defer readBuffers.Put(bp)
	data, err := ReadFile(path, *bp)
	if err != nil {
		return err
	}
	if cap(data) <= 1<<20 { // a huge file's buffer is not kept
		*bp = data[:0]
	}
	return use(data)
}
