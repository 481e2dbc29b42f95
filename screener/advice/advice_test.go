package advice

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/maintainers"
	"github.com/secscreen/secscreen/screener/sourcetree"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// screen reads one report from testdata and screens it with the rules and
// the tiny source tree in testdata/tree, as check does.
func screen(t *testing.T, name string) screener.Result {
	t.Helper()
	tree, err := sourcetree.Open("testdata/tree")
	require.NoError(t, err)
	s, _ := rulesScreener(t, tree)
	var res []screener.Result
	s.Run(context.Background(), intake.Read(context.Background(), []string{filepath.Join("testdata/reports", name)}, intake.Options{}),
		func(r screener.Result) { res = append(res, r) })
	require.Len(t, res, 1)
	require.Nil(t, res[0].Error)
	return res[0]
}

// label sets the decision a case is about, so that the golden files test
// the advice given a verdict, whatever the rule pack of the day decides
// (the command's tests run the whole pipeline).
func label(r screener.Result, verdict, category string, conf float64, missing ...string) screener.Result {
	r.Verdict, r.Category, r.Confidence = threatmodel.Verdict(verdict), category, conf
	r.Missing = missing
	r.NeedsReview, r.ReviewReason, r.ReviewFlags = false, "", nil
	return r
}

func maintainersFile(t *testing.T) *maintainers.File {
	t.Helper()
	m, err := maintainers.Load("../maintainers/testdata/MAINTAINERS")
	require.NoError(t, err)
	return m
}

// golden compares got with testdata/golden/name, or rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata/golden", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./screener/advice -update to create it")
	assert.Equal(t, string(want), string(got), "golden file %s differs; rerun with -update if the change is intended", path)
}

func TestGoldenAdviceForEachVerdict(t *testing.T) {
	// The source tree's path differs per machine: show it relative.
	abs, err := filepath.Abs("testdata/tree")
	require.NoError(t, err)
	cases := []struct {
		name   string
		result func() screener.Result
		opt    Options
		action Action
	}{
		{"security", func() screener.Result {
			return label(screen(t, "security.eml"), "security", "isolation.memory", 0.81)
		}, Options{Maintainers: maintainersFile(t)}, SendSecurity},
		{"security-ai-assisted", func() screener.Result {
			return label(screen(t, "security.eml"), "security", "isolation.memory", 0.81)
		}, Options{Maintainers: maintainersFile(t), AIAssisted: true}, SendSecurity},
		{"security-no-maintainers-file", func() screener.Result {
			return label(screen(t, "security.eml"), "security", "isolation.memory", 0.81)
		}, Options{}, SendSecurity},
		{"not-security", func() screener.Result {
			return label(screen(t, "not-security.eml"), "not-security", "privilege.already-held", 0.72)
		}, Options{Maintainers: maintainersFile(t)}, SendOrdinary},
		{"not-security-held-private", func() screener.Result {
			r := label(screen(t, "not-security.eml"), "not-security", "privilege.already-held", 0.55)
			r.NeedsReview, r.ReviewFlags = true, []string{screener.FlagHeldPrivate}
			r.ReviewReason = "route kept private: baseline (0.62) says security but the final verdict is not-security"
			return r
		}, Options{Maintainers: maintainersFile(t)}, SendSecurity},
		{"needs-info", func() screener.Result {
			return label(screen(t, "needs-info.txt"), "needs-info", "info.missing", 0.7, "version", "reproducer", "conditions", "description", "privileges")
		}, Options{Maintainers: maintainersFile(t)}, FixFirst},
		{"invalid", func() screener.Result {
			return label(screen(t, "invalid.eml"), "invalid", "invalid.nonexistent", 0.68, "reproducer")
		}, Options{Maintainers: maintainersFile(t)}, DoNotSend},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := Build(tc.result(), tc.opt)
			assert.Equal(t, tc.action, a.Action)
			if a.SourceCheck != nil {
				a.SourceCheck.Tree = strings.Replace(a.SourceCheck.Tree, abs, "testdata/tree", 1)
			}
			var txt bytes.Buffer
			require.NoError(t, WriteText(&txt, a))
			golden(t, tc.name+".txt", txt.Bytes())
			js, err := json.MarshalIndent(a, "", "  ")
			require.NoError(t, err)
			golden(t, tc.name+".json", append(js, '\n'))
		})
	}
}
