package history

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/dedup"
)

func TestSQLiteFileIsPrivateAndInWALMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "secscreen")
	path := filepath.Join(dir, "history.db")
	s, err := Open(context.Background(), path)
	require.NoError(t, err)
	defer s.Close()
	record(t, s, synthetic(1), "invalid", "invalid.intended")
	for _, p := range []string{path, path + "-wal"} {
		st, err := os.Stat(p)
		require.NoError(t, err, p)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), p)
	}
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	var mode string
	require.NoError(t, s.(*sqlStore).db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, "sqlite "+path, s.String())
}

func TestOpenDefaultsToTheUserDataDir(t *testing.T) {
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	p, err := DefaultPath()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(data, "secscreen", "history.db"), p)
	s, err := Open(context.Background(), "")
	require.NoError(t, err)
	defer s.Close()
	assert.FileExists(t, p)
}

func TestPostgresTargetsAreRecognisedAndRedacted(t *testing.T) {
	assert.True(t, IsPostgres("postgres://u:secret@db.example:5432/team"))
	assert.True(t, IsPostgres("postgresql://db/team"))
	assert.False(t, IsPostgres("/var/lib/secscreen/history.db"))
	assert.Equal(t, "db.example:5432/team", redact("postgres://u:secret@db.example:5432/team?sslmode=require"))
	// A server that is not there is an error that names it, without the password.
	_, err := Open(context.Background(), "postgres://u:secret@127.0.0.1:1/team?connect_timeout=2")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
	assert.Contains(t, err.Error(), "127.0.0.1:1/team")
}

// SQLite's lookup runs one query per key (lookupEachKey); it finds what
// the one-query union that PostgreSQL runs finds, in the same order:
// each key's newest perKey entries, the newest limit of them all.
func TestSQLiteLookupEachKeyEqualsUnion(t *testing.T) {
	s, err := openSQLiteAt(context.Background(), filepath.Join(t.TempDir(), "h.db"), 0)
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	crowded := dedup.Signal{Kind: dedup.SignalCVE, Value: "CVE-2025-0002"}
	early := dedup.Signal{Kind: dedup.SignalCommit, Value: "0123456789ab"}
	for n := range perKey + 12 {
		r := synthetic(300 + n%40) // some texts repeat: shared bands
		r.ID = fmt.Sprintf("crowd%d@test", n)
		fp := dedup.Of(r)
		fp.Signals = append(fp.Signals, crowded)
		if n < 5 {
			fp.Signals = append(fp.Signals, early)
		}
		_, err := s.Record(ctx, r, fp, resultFor(r, "security", "isolation.memory"))
		require.NoError(t, err)
	}
	keySets := [][]uint64{
		dedup.Fingerprint{Signals: []dedup.Signal{crowded}}.Keys(),
		dedup.Fingerprint{Signals: []dedup.Signal{crowded, early}}.Keys(),
		dedup.Of(synthetic(310)).Keys(),
		append(dedup.Of(synthetic(311)).Keys(), dedup.Fingerprint{Signals: []dedup.Signal{early, early}}.Keys()...),
		{1, 2, 3},
	}
	for i, keys := range keySets {
		for _, limit := range []int{1, 5, perKey, perKey + 3, 200} {
			each, err := s.lookupEachKey(ctx, keys, limit)
			require.NoError(t, err)
			union, err := s.lookupUnion(ctx, keys, limit)
			require.NoError(t, err)
			require.Equal(t, union, each, "key set %d, limit %d", i, limit)
		}
	}
	// Lookup is the per-key one: the union is never prepared.
	s.mu.Lock()
	for n, st := range s.stmts {
		require.NoError(t, st.Close())
		delete(s.stmts, n)
	}
	require.NoError(t, s.keyStmt.Close())
	s.keyStmt = nil
	s.mu.Unlock()
	_, err = s.Lookup(ctx, keySets[2], 10)
	require.NoError(t, err)
	require.Empty(t, s.stmts, "SQLite prepared the union of every key")
	require.NotNil(t, s.keyStmt)

	both, err := s.lookupEachKey(ctx, keySets[1], 200)
	require.NoError(t, err)
	require.Len(t, both, perKey+5, "the crowded key's newest perKey and the early key's 5")
}
