package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shimGo stands in for the go command in .ci/bench: "go test" prints one
// benchmark line, "go build -o BIN" writes a secscreen that logs the XDG
// directories it was run with to $SHIM_LOG.
const shimGo = `#!/bin/sh
case "$1" in
test) echo "BenchmarkShim 1 1 ns/op" ;;
build)
	cat >"$3" <<'END'
#!/bin/sh
echo "$XDG_DATA_HOME|$XDG_CACHE_HOME|$XDG_CONFIG_HOME|$XDG_STATE_HOME|$*" >>"$SHIM_LOG"
END
	chmod +x "$3" ;;
*) exit 2 ;;
esac
`

// .ci/bench screens the corpus with XDG directories of its own, so that a
// developer's history, caches and settings never see the corpus.
func TestCIBenchKeepsToItsOwnDirectories(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	require.NoError(t, os.Mkdir(bin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "go"), []byte(shimGo), 0o755))
	user := filepath.Join(dir, "user")
	log := filepath.Join(dir, "log")
	cmd := exec.Command("bash", "../../.ci/bench")
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "SHIM_LOG="+log, "TMPDIR="+dir,
		"HOME="+user, "XDG_DATA_HOME="+user+"/data", "XDG_CACHE_HOME="+user+"/cache", "XDG_CONFIG_HOME="+user+"/config", "XDG_STATE_HOME="+user+"/state")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	raw, err := os.ReadFile(log)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	require.Len(t, lines, 2, "one screen run per backend")
	for _, l := range lines {
		f := strings.Split(l, "|")
		require.Len(t, f, 5)
		assert.Contains(t, f[4], "screen ")
		for _, d := range f[:4] {
			assert.True(t, strings.HasPrefix(d, dir+"/"), "an XDG directory of the run's own: %q", l)
			assert.False(t, strings.HasPrefix(d, user), "not the user's: %q", l)
		}
	}
}
