package output

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
)

func items(pairs ...string) []intake.Item {
	var out []intake.Item
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, intake.Item{Source: pairs[i], Report: &intake.Report{ID: pairs[i], Hash: pairs[i+1]}})
	}
	return out
}

func filtered(d *Done, its []intake.Item) []string {
	var ids []string
	for it := range d.Filter(func(yield func(intake.Item) bool) {
		for _, it := range its {
			if !yield(it) {
				return
			}
		}
	}) {
		ids = append(ids, it.Source)
	}
	return ids
}

func TestResumeSkipsDoneRowsAndRepairsATornLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.jsonl")
	content := `{"id":"a","hash":"ha","decision":"agree"}
{"id":"b","hash":"hb","decision":"agree"}
{"id":"bad.bin","hash":"","decision":"input-error","error":"binary"}
{"id":"c","hash":"hc","deci`
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	f, d, err := ResumeJSONL(p)
	require.NoError(t, err)
	assert.Equal(t, 3, d.Rows)
	assert.Equal(t, len(`{"id":"c","hash":"hc","deci`), d.Torn)
	_, err = f.WriteString(`{"id":"c","hash":"hc","decision":"agree"}` + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	data, _ := os.ReadFile(p)
	assert.Equal(t, strings.Split(content, "\n{\"id\":\"c\"")[0]+"\n"+`{"id":"c","hash":"hc","decision":"agree"}`+"\n", string(data))

	its := append(items("a", "ha", "b", "CHANGED", "c", "hc"), intake.Item{Source: "bad.bin", Err: assert.AnError})
	assert.Equal(t, []string{"b", "c"}, filtered(d, its), "a report whose content changed is screened again")
	assert.Equal(t, 2, d.Skipped)
}

func TestResumeRedoesCancelledRows(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.jsonl")
	content := `{"id":"a","hash":"ha","decision":"agree"}
{"id":"b","hash":"hb","decision":"cancelled","error":"not screened"}
{"id":"c","hash":"hc","decision":"agree"}
{"id":"d","hash":"hd","decision":"cancelled"}
{"id":"e","hash":"he","decision":"agree"}`
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	f, d, err := ResumeJSONL(p)
	require.NoError(t, err)
	assert.Equal(t, 3, d.Rows)
	assert.Equal(t, 2, d.Redo)
	require.NoError(t, f.Close())
	data, _ := os.ReadFile(p)
	assert.Equal(t, `{"id":"a","hash":"ha","decision":"agree"}
{"id":"c","hash":"hc","decision":"agree"}
{"id":"e","hash":"he","decision":"agree"}
`, string(data), "cancelled rows go; a whole last row keeps its place and gains its line feed")
	assert.Equal(t, []string{"b", "d"}, filtered(d, items("a", "ha", "b", "hb", "c", "hc", "d", "hd", "e", "he")))
}

func TestResumeCountsRepeatedReports(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.jsonl")
	require.NoError(t, os.WriteFile(p, []byte(`{"id":"a","hash":"h","decision":"agree"}`+"\n"), 0o600))
	f, d, err := ResumeJSONL(p)
	require.NoError(t, err)
	f.Close()
	assert.Equal(t, []string{"a"}, filtered(d, items("a", "h", "a", "h")), "one row answers for one of two identical inputs")
}

func TestResumeRefusesAFileThatIsNotResults(t *testing.T) {
	p := filepath.Join(t.TempDir(), "notes.jsonl")
	content := "hello\n{\"id\":\"a\"}\n"
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	_, _, err := ResumeJSONL(p)
	assert.ErrorContains(t, err, "line 1 is not a secscreen result")
	data, _ := os.ReadFile(p)
	assert.Equal(t, content, string(data), "left as it was")
}

func TestResumeCreatesAMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "new.jsonl")
	f, d, err := ResumeJSONL(p)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, 0, d.Rows)
	_ = context.Background
}
