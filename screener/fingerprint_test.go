package screener

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRulesFingerprintFollowsTheFilesContent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "extra.rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte("rules: []\n"), 0o644))
	a := RulesFingerprint(RulesFile{Flag: "rules", Path: path})
	require.NotEmpty(t, a, "the test binary has an identity")
	assert.Equal(t, a, RulesFingerprint(RulesFile{Flag: "rules", Path: path}, RulesFile{Flag: "series"}), "an unset file changes nothing")
	assert.NotEqual(t, a, RulesFingerprint(), "the file counts")

	require.NoError(t, os.WriteFile(path, []byte("rules: [] \n"), 0o644))
	assert.NotEqual(t, a, RulesFingerprint(RulesFile{Flag: "rules", Path: path}), "so does its content")
	assert.Empty(t, RulesFingerprint(RulesFile{Flag: "rules", Path: path + ".missing"}), "an unreadable file: nothing is trusted")
}
