package output

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func kernelEngine(t *testing.T) *rules.Engine {
	t.Helper()
	set := rules.KernelRules()
	eng, err := rules.NewEngine(threatmodel.Kernel(), set, rules.Options{})
	require.NoError(t, err)
	return eng
}

func TestWriteRulesListsEveryRuleInForce(t *testing.T) {
	eng := kernelEngine(t)
	list := ListRules(eng)
	require.Len(t, list, len(eng.Rules()))
	var b bytes.Buffer
	require.NoError(t, WriteRules(&b, list))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	assert.Len(t, lines, len(list)+1, "a header and one line per rule")
	assert.True(t, strings.HasPrefix(lines[0], "ID"))
	assert.True(t, strings.HasPrefix(lines[1], list[0].ID))
}

func TestWriteExplanation(t *testing.T) {
	eng := kernelEngine(t)
	var r *intake.Report
	for it := range intake.Read(t.Context(), []string{"-"}, intake.Options{Stdin: strings.NewReader("Subject: oops\n\nAs root, writing to /sys/kernel/debug/x crashes 6.6.1.\n")}) {
		require.NoError(t, it.Err)
		r = it.Report
	}
	ev := eng.Evaluate(r)
	var b bytes.Buffer
	require.NoError(t, WriteExplanation(&b, "in\x1b[31m.eml", &ev, nil))
	assert.True(t, strings.HasPrefix(b.String(), "== in"), b.String())
	assert.NotContains(t, b.String(), "\x1b", "the source is cleaned")
	assert.Contains(t, b.String(), "   rules verdict: ")
	assert.Contains(t, b.String(), "   facts: {")

	b.Reset()
	require.NoError(t, WriteExplanation(&b, "gone.eml", nil, errors.New("no such file")))
	assert.Equal(t, "== gone.eml\n   error: no such file\n", b.String())
	assert.Error(t, WriteExplanation(failing{}, "x", &ev, nil))
}

func TestWriteRuleListAsTextOrJSON(t *testing.T) {
	eng := kernelEngine(t)
	var text, js bytes.Buffer
	require.NoError(t, WriteRuleList(&text, eng, docformat.Text))
	assert.True(t, strings.HasPrefix(text.String(), "ID "))
	require.NoError(t, WriteRuleList(&js, eng, docformat.JSON))
	var list []ListedRule
	require.NoError(t, json.Unmarshal(js.Bytes(), &list))
	assert.Len(t, list, len(eng.Rules()))
	err := WriteRuleList(&js, eng, "xml")
	assert.EqualError(t, err, `rules list: unknown format "xml" (want one of text, json)`)
	assert.Equal(t, exit.Usage, exit.Code(err))
}

func TestExplainWritesEveryInputAndCountsTheUnreadable(t *testing.T) {
	eng := kernelEngine(t)
	dir := t.TempDir()
	report := filepath.Join(dir, "a.txt")
	require.NoError(t, os.WriteFile(report, []byte("As root, writing to /sys/kernel/debug/x crashes 6.6.1.\n"), 0o600))
	var b bytes.Buffer
	err := Explain(t.Context(), &b, eng, []string{report, filepath.Join(dir, "gone.eml")}, intake.Options{})
	assert.EqualError(t, err, "1 inputs could not be read")
	assert.Equal(t, exit.InputErrors, exit.Code(err))
	assert.Contains(t, b.String(), "== "+report+"\n   rules verdict: ")
	assert.Contains(t, b.String(), "gone.eml\n   error: ")

	b.Reset()
	require.NoError(t, Explain(t.Context(), &b, eng, []string{report}, intake.Options{}))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = Explain(ctx, &b, eng, []string{report}, intake.Options{})
	assert.Equal(t, exit.Interrupted, exit.Code(err))
	assert.Error(t, Explain(t.Context(), failing{}, eng, []string{report}, intake.Options{}))
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk full") }
