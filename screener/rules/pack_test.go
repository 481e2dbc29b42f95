package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// A threat model of another project screens with its own pack, found
// beside the model: its own facts and rules, none of the kernel's.
func TestOtherModelScreensWithItsOwnPack(t *testing.T) {
	tm, err := threatmodel.Load(filepath.Join("testdata", "curl", "curl.yaml"))
	require.NoError(t, err)
	set, note, err := PackFor(tm)
	require.NoError(t, err)
	assert.Contains(t, note, "curl.rules.yaml")
	assert.Equal(t, "curl", set.Name)
	e, err := NewEngine(tm, set, Options{})
	require.NoError(t, err)

	ev := e.Evaluate(&intake.Report{Subject: "crash with a debug build",
		Body: "The crash happens only with a debug build (--enable-debug) when fetching https://example.org/.\n" +
			"Tested on kernel 6.1.2 as root."})
	assert.Equal(t, []string{"curl.debug-only"}, firedIDs(ev))
	assert.Equal(t, map[string][]string{"debug_build": {"debug"}, "protocols": {"https"}}, ev.Facts.Other)
	assert.Empty(t, ev.Facts.Versions, "the curl pack reads no kernel versions")
	assert.Empty(t, ev.Facts.Privileges, "nor kernel privileges")
	assert.Equal(t, threatmodel.NotSecurity, ev.Verdict)
	assert.Equal(t, "debug.only", ev.Category)
	require.NoError(t, tm.Check(ev.Verdict, ev.Category))

	ev = e.Evaluate(&intake.Report{Body: "A malicious server overflows the header buffer."})
	assert.Equal(t, []string{"curl.hostile-server"}, firedIDs(ev))
}

// A model may name its pack, or say it has none; one with neither a pack
// nor the kernel's categories gets none: the rules give no opinion and do
// not fail on kernel rule ids.
func TestPackForNamedNoneAndFallbacks(t *testing.T) {
	dir := t.TempDir()
	pack, err := os.ReadFile(filepath.Join("testdata", "curl", "curl.rules.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "packs.yaml"), pack, 0o600))
	model := "clauses:\n  - {id: memory.remote, verdict: security}\n  - {id: debug.only, verdict: not-security}\n"
	write := func(name, text string) *threatmodel.Model {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		tm, err := threatmodel.Load(p)
		require.NoError(t, err)
		return tm
	}

	named, note, err := PackFor(write("named.yaml", "rules: packs.yaml\n"+model))
	require.NoError(t, err)
	assert.Equal(t, "curl", named.Name)
	assert.Contains(t, note, "named by threat model")

	tm := write("none.yaml", "rules: none\n"+model)
	set, _, err := PackFor(tm)
	require.NoError(t, err)
	assert.Empty(t, set.Rules)
	e, err := NewEngine(tm, set, Options{})
	require.NoError(t, err)
	ev := e.Evaluate(&intake.Report{Body: "Mounting a crafted ext4 image requires CAP_SYS_ADMIN on 6.1.2."})
	assert.Empty(t, ev.Findings)
	assert.Empty(t, ev.Facts.Privileges)
	assert.Equal(t, threatmodel.NeedsInfo, ev.Verdict)
	assert.Empty(t, ev.Category, "the model has no info.missing")
	assert.Zero(t, ev.Confidence, "no pack, no opinion")
	assert.False(t, ev.Decisive)

	tm = write("bare.yaml", model)
	set, note, err = PackFor(tm)
	require.NoError(t, err)
	assert.Empty(t, set.Rules, "the kernel pack does not fit this model")
	assert.Contains(t, note, "no rule pack")
	_, err = NewEngine(tm, set, Options{})
	require.NoError(t, err)

	_, _, err = PackFor(write("broken.yaml", "rules: absent.yaml\n"+model))
	assert.ErrorContains(t, err, "absent.yaml")

	// A model with the kernel's categories (the kernel's own document, say)
	// gets the kernel pack.
	k := threatmodel.Kernel()
	clone, err := threatmodel.New("kernel-copy", filepath.Join(dir, "threat-model.rst"), k.Clauses)
	require.NoError(t, err)
	set, note, err = PackFor(clone)
	require.NoError(t, err)
	assert.Equal(t, "kernel", set.Name)
	assert.Contains(t, note, "kernel rule pack")
}
