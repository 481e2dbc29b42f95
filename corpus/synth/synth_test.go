package synth

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
)

func TestSameSeedSameBytesAndEveryMessageReads(t *testing.T) {
	var a, b, c bytes.Buffer
	n, err := Write(&a, Options{N: 200, Seed: 7, Replies: 0.2})
	require.NoError(t, err)
	assert.Equal(t, int64(a.Len()), n)
	_, err = Write(&b, Options{N: 200, Seed: 7, Replies: 0.2})
	require.NoError(t, err)
	_, err = Write(&c, Options{N: 200, Seed: 8, Replies: 0.2})
	require.NoError(t, err)
	assert.Equal(t, a.Bytes(), b.Bytes())
	assert.NotEqual(t, a.Bytes(), c.Bytes())
	per := a.Len() / 200
	assert.InDelta(t, 4096, per, 1024, "about 4 KB a message")

	p := filepath.Join(t.TempDir(), "s.mbox")
	require.NoError(t, os.WriteFile(p, a.Bytes(), 0o644))
	count, replies := 0, 0
	ids := map[string]bool{}
	for it := range intake.Read(context.Background(), []string{p}, intake.Options{}) {
		require.NoError(t, it.Err)
		count++
		ids[it.Report.ID] = true
		if it.Report.InReplyTo != "" {
			replies++
			assert.True(t, ids[it.Report.InReplyTo], "a reply answers an earlier message")
		}
	}
	assert.Equal(t, 200, count)
	assert.Len(t, ids, 200)
	assert.InDelta(t, 40, replies, 20)
}

func TestWriteFileWritesWhatWriteWrites(t *testing.T) {
	var want bytes.Buffer
	_, err := Write(&want, Options{N: 5, Seed: 3})
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "s.mbox")
	require.NoError(t, os.WriteFile(p, bytes.Repeat([]byte("older, longer content\n"), 10000), 0o644))
	n, err := WriteFile(p, Options{N: 5, Seed: 3})
	require.NoError(t, err)
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, want.Bytes(), got)
	assert.Equal(t, int64(len(got)), n)
	_, err = WriteFile(filepath.Join(t.TempDir(), "no", "such", "dir"), Options{N: 1})
	assert.ErrorContains(t, err, "synth: ")
}

func TestBadOptions(t *testing.T) {
	_, err := Write(&bytes.Buffer{}, Options{N: -1})
	assert.Error(t, err)
	_, err = Write(&bytes.Buffer{}, Options{N: 1, Replies: 2})
	assert.Error(t, err)
}

// DistinctCrashes changes only the crash stacks' function names, so that no
// two reports share a crash signature; without it the output is as before.
func TestDistinctCrashesGiveEveryReportItsOwnStack(t *testing.T) {
	var plain, distinct bytes.Buffer
	_, err := Write(&plain, Options{N: 40, Seed: 5})
	require.NoError(t, err)
	_, err = Write(&distinct, Options{N: 40, Seed: 5, DistinctCrashes: true})
	require.NoError(t, err)
	assert.NotEqual(t, plain.String(), distinct.String())
	frames := regexp.MustCompile(`(?m)^   ([a-z_0-9]+)\+0x`).FindAllStringSubmatch(distinct.String(), -1)
	require.NotEmpty(t, frames)
	stacks := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  BUG: KASAN: [a-z-]+ in ([a-z_0-9]+)\+`).FindAllStringSubmatch(distinct.String(), -1) {
		stacks[m[1]] = true
	}
	plainTops := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  BUG: KASAN: [a-z-]+ in ([a-z_0-9]+)\+`).FindAllStringSubmatch(plain.String(), -1) {
		plainTops[m[1]] = true
	}
	assert.Greater(t, len(stacks), len(plainTops), "distinct crash sites")
}
