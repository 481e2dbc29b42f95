package output

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func kernelEngine(t *testing.T) *rules.Engine {
	t.Helper()
	set, err := rules.KernelRules()
	require.NoError(t, err)
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

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, errors.New("disk full") }
