package backend

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The transport knows nothing of reports, rules, prompts or the pipeline:
// a Request is rendered messages and a schema. Classifiers that read
// reports themselves (the baseline) are screener.Classifiers, not
// backends. This test fails when a transport package starts to depend on
// one of those packages, directly or through another.
func TestTransportDependsOnNoPipelinePackage(t *testing.T) {
	const mod = "github.com/secscreen/secscreen/"
	transport := []string{
		mod + "screener/backend",
		mod + "screener/backend/openai",
		mod + "screener/backend/ollama",
		mod + "screener/backend/auto",
		mod + "screener/backend/internal/...",
	}
	forbidden := []string{
		mod + "screener",
		mod + "screener/intake",
		mod + "screener/rules",
		mod + "screener/threatmodel",
		mod + "prompts",
		mod + "screener/baseline",
	}
	for _, pkg := range transport {
		args := []string{"list", "-deps", "-f", "{{.ImportPath}}", pkg}
		out, err := exec.Command(goTool(t), args...).CombinedOutput()
		require.NoError(t, err, "go %s: %s", strings.Join(args, " "), out)
		deps := strings.Fields(string(out))
		require.NotEmpty(t, deps, pkg)
		for _, dep := range deps {
			for _, f := range forbidden {
				if dep == f {
					t.Errorf("%s depends on %s", pkg, f)
				}
			}
		}
	}
}

// goTool finds the go command that runs this test.
func goTool(t *testing.T) string {
	t.Helper()
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	p, err := exec.LookPath("go")
	require.NoError(t, err, "the go command is needed to list the transport's dependencies")
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
