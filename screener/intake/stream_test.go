package intake

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// streamMbox is an mbox of n messages made as it is read, counting what was
// read; with rd, each body has a ">From " line (mboxrd escaping) and a
// "From " line no date follows (mboxo leaves those as they are).
type streamMbox struct {
	n, next int
	rd      bool
	buf     bytes.Buffer
	read    int64
}

func (g *streamMbox) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.next < g.n {
		g.next++
		fmt.Fprintf(&g.buf, "From r%d@example.org Mon Jun  2 10:00:00 2025\nFrom: r%d@example.org\nSubject: report %d\nMessage-ID: <m%d@x>\n\n", g.next, g.next, g.next, g.next)
		for range 40 {
			g.buf.WriteString("The driver frees the buffer twice when the device goes away; seen on 6.12.\n")
		}
		if g.rd {
			g.buf.WriteString(">From the log, syzkaller found it.\nFrom here on it is not a separator.\n")
		}
		g.buf.WriteString("\n")
	}
	n, err := g.buf.Read(p)
	g.read += int64(n)
	if err == io.EOF && g.next < g.n {
		err = nil
	}
	return n, err
}

// An mbox is read as a stream: the first report comes out when a little
// of the input has been read, whatever its size.
func TestMboxIsReadIncrementally(t *testing.T) {
	for _, c := range []struct {
		name string
		rd   bool
		gz   bool
	}{{"mboxo", false, false}, {"mboxrd", true, false}, {"gzip", false, true}} {
		t.Run(c.name, func(t *testing.T) {
			g := &streamMbox{n: 20000, rd: c.rd} // about 64 MB
			var in io.Reader = g
			if c.gz {
				pr, pw := io.Pipe()
				go func() {
					zw := gzip.NewWriter(pw)
					_, err := io.Copy(zw, g)
					if err == nil {
						err = zw.Close()
					}
					pw.CloseWithError(err)
				}()
				in = pr
			}
			seen := 0
			for it := range Read(context.Background(), []string{"-"}, Options{Stdin: in}) {
				require.NoError(t, it.Err)
				seen++
				if seen == 1 {
					if c.rd {
						assert.Contains(t, it.Report.Body, "\nFrom the log, syzkaller found it.\nFrom here on it is not a separator.")
					}
				}
				if seen == 100 {
					break
				}
			}
			require.Equal(t, 100, seen)
			assert.Less(t, g.read, int64(8<<20), "read %d bytes of about 64 MB for 100 messages", g.read)
		})
	}
}
