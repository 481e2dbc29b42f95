package corpus

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
)

func TestReadReportsSetsLabelIDsAndKeepsBadFilesAsErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("labels.jsonl", `{"id":"a","file":"a.eml","verdict":"invalid","category":"invalid.intended"}
{"id":"b","file":"b.txt","verdict":"needs-info","category":"info.missing"}
{"id":"c","file":"missing.txt","verdict":"needs-info","category":"info.missing"}
`)
	write("a.eml", "From: x@example.org\r\nSubject: root can load modules\r\nMessage-ID: <m1@example.org>\r\n\r\nIs this a bug?\r\n")
	write("b.txt", "")
	c, err := Load(dir)
	require.NoError(t, err)
	got, err := c.ReadReports(context.Background(), intake.Options{})
	require.NoError(t, err)
	require.Len(t, got, 3, "one entry per label, in label order")
	require.NoError(t, got[0].Err)
	assert.Equal(t, "a", got[0].Report.ID, "the label's id replaces the Message-ID")
	assert.Equal(t, "root can load modules", got[0].Report.Subject)
	assert.Error(t, got[1].Err, "an empty file is an error, not a report")
	assert.Error(t, got[2].Err, "a missing file is an error")
	assert.Equal(t, "c", got[2].Label.ID)
}
