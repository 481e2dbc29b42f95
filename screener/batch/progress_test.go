package batch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A screen run with standard error on a terminal (a real pty) shows the
// progress bar with done/total, rate and time left, then the summary; with
// --quiet it draws nothing, and piped it prints only the summary.
func TestScreenShowsProgressOnATerminal(t *testing.T) {
	msg, err := os.ReadFile(examples + "/01-pipe-splice-overwrite.eml")
	require.NoError(t, err)
	var mbox strings.Builder
	const n = 600
	for i := range n {
		// Each message its own, so none is an exact duplicate.
		fmt.Fprintf(&mbox, "From r%d@example.org Thu Jan  1 00:00:00 2026\nMessage-ID: <r%d@example.org>\n%s\nreport %d\n\n", i, i, msg, i)
	}
	inbox := filepath.Join(t.TempDir(), "inbox.mbox")
	require.NoError(t, os.WriteFile(inbox, []byte(mbox.String()), 0o600))

	run := func(quiet bool) string {
		ptmx, tty, err := pty.Open()
		require.NoError(t, err)
		defer ptmx.Close()
		require.NoError(t, pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 160}))
		var drawn bytes.Buffer
		read := make(chan struct{})
		go func() {
			_, _ = io.Copy(&drawn, ptmx) // until the pty closes
			close(read)
		}()
		j, _, _ := job(t, inbox)
		j.Stderr = tty
		require.NoError(t, Screen{Job: j, Format: "jsonl", NoHistory: true, Quiet: quiet}.Run(context.Background()))
		require.NoError(t, tty.Close())
		<-read
		return drawn.String()
	}

	out := run(false)
	bar := regexp.MustCompile(`screening\s+\d+% \|[^|]*\| \((\d+)/600, [0-9.]+ reports/(s|min|hr)\) \[[0-9smh]+:[0-9smh]+\]`)
	m := bar.FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, m, "a bar with done/total, rate and elapsed:left: %q", out)
	assert.Contains(t, out, "600 inputs, 600 rows: 600 screened, 0 errors")
	assert.Regexp(t, `categories: [a-z.-]+ \d+`, out)
	assert.Regexp(t, `wall time [0-9.]+ s, [0-9.]+ reports/s`, out)

	assert.Empty(t, run(true), "--quiet draws nothing")

	j, _, errOut := job(t, inbox)
	require.NoError(t, Screen{Job: j, Format: "jsonl", NoHistory: true}.Run(context.Background()))
	assert.NotContains(t, errOut.String(), "screening")
	assert.NotContains(t, errOut.String(), "\r", "piped: the summary alone")
	assert.Contains(t, errOut.String(), "600 inputs, 600 rows")
}
