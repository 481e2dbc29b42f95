package synth

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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

func TestBadOptions(t *testing.T) {
	_, err := Write(&bytes.Buffer{}, Options{N: -1})
	assert.Error(t, err)
	_, err = Write(&bytes.Buffer{}, Options{N: 1, Replies: 2})
	assert.Error(t, err)
}
