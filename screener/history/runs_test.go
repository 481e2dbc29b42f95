package history_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/batch"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/history"
)

// Two --since-last runs over a Maildir, the history in SQLite or in
// PostgreSQL: the reply of the second run is folded into the report of
// the first, whose row comes again, marked as an update.
func TestSinceLastRunsFoldALaterReplyIntoItsReport(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			for _, v := range []string{"XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"} {
				t.Setenv(v, t.TempDir())
			}
			target := filepath.Join(t.TempDir(), "history.db")
			if store == "postgres" {
				target = history.PostgresTestDSN(t)
			}
			settings, err := config.Resolve(config.Input{Flags: map[string]any{"backend": "rules"}, Getenv: func(string) string { return "" }})
			require.NoError(t, err)
			md := filepath.Join(t.TempDir(), "Maildir")
			for _, sub := range []string{"cur", "new", "tmp"} {
				require.NoError(t, os.MkdirAll(filepath.Join(md, sub), 0o755))
			}
			state := filepath.Join(t.TempDir(), "state.json")
			run := func(name, msg string) map[string]any {
				t.Helper()
				require.NoError(t, os.WriteFile(filepath.Join(md, "new", name), []byte(msg), 0o644))
				var out, errOut bytes.Buffer
				j := batch.Job{Settings: settings, Inputs: []string{md}, Stdout: &out, Stderr: &errOut}
				j.Intake.Threads = true
				require.NoError(t, batch.Screen{Job: j, Format: "jsonl", FormatGiven: true, SinceLast: true, State: state, History: target}.Run(context.Background()), errOut.String())
				rows := strings.Split(strings.TrimSpace(out.String()), "\n")
				require.Len(t, rows, 1, out.String())
				var row map[string]any
				require.NoError(t, json.Unmarshal([]byte(rows[0]), &row))
				return row
			}
			first := run("1001.host", "From: a@x\nSubject: nf_tables: use-after-free in set GC\nMessage-ID: <root@x>\n\n"+
				"A use-after-free in nf_tables set GC; any local user can trigger it through a user namespace.\n")
			assert.Nil(t, first["updates"])
			row := run("1002.host", "From: a@x\nSubject: Re: nf_tables: use-after-free in set GC\nMessage-ID: <reply@x>\nIn-Reply-To: <root@x>\n\n"+
				"Kernel 6.12.3; the reproducer is below.\n")
			assert.Equal(t, "root@x", row["id"])
			assert.Equal(t, []any{"reply@x"}, row["thread_replies"])
			assert.NotEqual(t, "duplicate", row["decision"])
			up, ok := row["updates"].(map[string]any)
			require.True(t, ok, "%v", row["updates"])
			assert.Equal(t, first["verdict"], up["verdict"])
			assert.Equal(t, []any{"reply@x"}, up["new_replies"])

			s, err := history.Open(context.Background(), target)
			require.NoError(t, err)
			defer s.Close()
			es, err := s.Get(context.Background(), "root@x")
			require.NoError(t, err)
			require.Len(t, es, 2, "both screenings are kept")
			assert.Equal(t, row["hash"], es[0].Hash)
			assert.Equal(t, first["hash"], es[1].Hash)
		})
	}
}
