package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

var sqliteDialect = &dialect{
	name: "sqlite", id: "INTEGER PRIMARY KEY", blob: "BLOB", real: "REAL", withoutRowid: " WITHOUT ROWID", like: "LIKE",
	perKeyLookup: true,
}

// sqlitePragmas: WAL lets readers go on while one process writes; a busy
// writer is waited for rather than failed; synchronous=FULL makes each
// committed result survive a crash of the machine, not only of the
// process; foreign keys keep labels and keys tied to their reports.
// Transactions begin immediate, so that two writers queue at BEGIN
// instead of failing when a reader upgrades.
const sqlitePragmas = "_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"

// openSQLite opens (creating it, readable by the user alone) the SQLite
// history at path.
func openSQLite(ctx context.Context, path string) (Store, error) {
	return openSQLiteAt(ctx, path, 0)
}

// openSQLiteAt opens the store and migrates it up to schema upTo (0: the
// latest); tests start from older schemas this way.
func openSQLiteAt(ctx context.Context, path string, upTo int) (*sqlStore, error) {
	if path == "" {
		return nil, errors.New("history: no SQLite file named")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	// Create the file first so that it (and the WAL files SQLite makes
	// with its mode) is the user's alone.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	f.Close()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+sqlitePragmas)
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", path, err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("history: open %s: %w", path, err)
	}
	if err := migrate(ctx, db, sqliteDialect, upTo); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w (store %s)", err, path)
	}
	return &sqlStore{db: db, d: sqliteDialect, desc: "sqlite " + path, now: time.Now}, nil
}
