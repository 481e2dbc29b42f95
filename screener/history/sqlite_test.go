package history

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
