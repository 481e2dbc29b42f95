package intake

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenItem is the comparable form of an Item.
type goldenItem struct {
	Source string  `json:"source"`
	Report *Report `json:"report,omitempty"`
	Err    string  `json:"error,omitempty"`
}

// readAll collects the Items of Read over inputs.
func readAll(t *testing.T, inputs []string, opt Options) []Item {
	t.Helper()
	var items []Item
	for it := range Read(context.Background(), inputs, opt) {
		items = append(items, it)
	}
	return items
}

// TestGolden decodes every fixture and compares the Items, as JSON, with
// testdata/golden/NAME.json. Run with -update after a deliberate change and
// review the diff.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/email/*.eml")
	require.NoError(t, err)
	inputs = append(inputs, "testdata/text-cp1252.txt", "testdata/mbox/mboxo.mbox",
		"testdata/mbox/mboxrd.mbox", "testdata/mbox/mboxo-unescaped.mbox", "testdata/mbox/format-patch.mbox",
		"testdata/jsonl/reports.jsonl", "testdata/maildir")
	require.GreaterOrEqual(t, len(inputs), 14)
	for _, in := range inputs {
		name := strings.ReplaceAll(strings.TrimPrefix(in, "testdata/"), "/", "_")
		t.Run(name, func(t *testing.T) {
			var got []goldenItem
			for _, it := range readAll(t, []string{in}, Options{}) {
				g := goldenItem{Source: it.Source, Report: it.Report}
				if it.Err != nil {
					g.Err = it.Err.Error()
				}
				got = append(got, g)
			}
			out, err := json.MarshalIndent(got, "", "  ")
			require.NoError(t, err)
			out = append(out, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, out, 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "missing golden file; run go test -run TestGolden -update")
			require.Equal(t, string(want), string(out))
		})
	}
}
