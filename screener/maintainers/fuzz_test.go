package maintainers

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse: any file parses or fails cleanly, and matching any path and
// text against what parsed never panics.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/MAINTAINERS"); err == nil {
		f.Add(string(b), "net/ipv4/tcp.c", "io_uring_setup")
	}
	f.Add("A\nF:\t*\nX:\t[\nN:\t(\nK:\t\\\n", "a/b", "")
	f.Fuzz(func(t *testing.T, file, path, text string) {
		m, err := Parse(strings.NewReader(file))
		if err != nil {
			return
		}
		ms := m.Match([]string{path}, text)
		for i := 1; i < len(ms); i++ {
			if !ms[i].Keyword && ms[i].Depth > ms[i-1].Depth {
				t.Fatalf("not most specific first: %+v", ms)
			}
		}
		_ = RecipientsOf(ms)
	})
}
