package replies

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/advice"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func TestDrafterWritesOneDraftPerAnsweredReportAndCountsTheRest(t *testing.T) {
	tpl, err := Resolve("")
	require.NoError(t, err)
	var log, out bytes.Buffer
	w := &Drafter{Out: &out, Log: &log, Template: tpl, Advice: advice.Options{ThreatModel: threatmodel.Kernel()}, Now: func() time.Time { return now }}
	require.NoError(t, w.Add(screenRaw(t, report, "not-security", "privilege.root")))
	require.NoError(t, w.Add(screenRaw(t, report, "security", "isolation.memory")))
	assert.Equal(t, 1, w.Written)
	assert.Equal(t, 1, w.Skipped)
	assert.True(t, strings.HasPrefix(out.String(), "From secscreen "), "an mbox on Out")
	assert.Contains(t, log.String(), "reply to bug-1@example.org (not-security/privilege.root): standard output")
	assert.Contains(t, w.Summary(), "1 replies drafted to standard output with "+tpl.ID()+"; 1 reports not answered")

	dir := t.TempDir()
	w = &Drafter{Dir: dir, Template: tpl, Advice: advice.Options{ThreatModel: threatmodel.Kernel()}}
	require.NoError(t, w.Add(screenRaw(t, report, "invalid", "invalid.intended")))
	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, files, 1)
	assert.Contains(t, w.Summary(), "in "+dir)
}
