package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/backend"
)

const full = `# a complete file
backend: openai
model: gpt-4o-mini
base_url: https://openrouter.ai/api/v1
api_key_env: OPENROUTER_API_KEY
ollama_host: gpu-box:11434
timeout: 90s
concurrency: 4
rps: 2.5
burst: 3
cache_dir: /tmp/secscreen-cache
cache: offline
limits:
  message_bytes: 10485760
  attachment_bytes: 2097152
  body_chars: 60000
prices:
  gpt-4o-mini: {prompt_per_1m: 0.15, completion_per_1m: 0.60}
prompt: screen@v1
`

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestLoadFullFile(t *testing.T) {
	cfg, err := Load(write(t, full))
	require.NoError(t, err)
	assert.Equal(t, Config{
		Backend:     "openai",
		Model:       "gpt-4o-mini",
		BaseURL:     "https://openrouter.ai/api/v1",
		APIKeyEnv:   "OPENROUTER_API_KEY",
		OllamaHost:  "gpu-box:11434",
		Timeout:     90 * time.Second,
		Concurrency: 4,
		RPS:         2.5,
		Burst:       3,
		CacheDir:    "/tmp/secscreen-cache",
		Cache:       "offline",
		Limits:      Limits{MessageBytes: 10485760, AttachmentBytes: 2097152, BodyChars: 60000},
		Prices:      backend.PriceTable{"gpt-4o-mini": {PromptPer1M: 0.15, CompletionPer1M: 0.60}},
		Prompt:      "screen@v1",
	}, cfg)
}

func TestEmptyAndCommentOnlyFiles(t *testing.T) {
	for _, content := range []string{"", "# nothing yet\n", "\n\n"} {
		cfg, err := Load(write(t, content))
		require.NoError(t, err, "%q", content)
		assert.Equal(t, Config{}, cfg)
	}
}

func TestMissingFiles(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	cfg, err := Load("")
	require.NoError(t, err, "a missing default file is an empty config")
	assert.Equal(t, Config{}, cfg)

	_, err = Load(filepath.Join(t.TempDir(), "nope.yaml"))
	require.Error(t, err, "a file named explicitly must exist")
	assert.Contains(t, err.Error(), "nope.yaml")
}

func TestDefaultPathFollowsXDG(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	p, err := DefaultPath()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "secscreen", "config.yaml"), p)

	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
	require.NoError(t, os.WriteFile(p, []byte("model: llama3.1:8b\n"), 0o600))
	cfg, err := Load("")
	require.NoError(t, err)
	assert.Equal(t, "llama3.1:8b", cfg.Model)
}

func TestErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name, content, line, want string
	}{
		{"unknown key", "model: m\nmodle: x\n", ":2:", `unknown key "modle"`},
		{"unknown nested key", "limits:\n  body_chars: 5\n  bodychars: 6\n", ":3:", `unknown key "limits.bodychars"`},
		{"unknown price key", "prices:\n  m: {prompt: 1}\n", ":2:", `unknown key "prices.m.prompt"`},
		{"literal api key", "model: m\napi_key: sk-abc123\n", ":2:", "api_key_env"},
		{"literal token", "openai_token: abc\n", ":1:", "environment variable"},
		{"key in api_key_env", "api_key_env: sk-proj-abc123-def\n", ":1:", "NAME of an environment variable"},
		{"bad type", "model: m\nconcurrency: many\n", ":2:", "cannot unmarshal"},
		{"bare number timeout", "timeout: 90\n", ":1:", "time.Duration"},
		{"bad backend", "backend: gpt\n", ":1:", `unknown backend "gpt" (want one of auto, openai, ollama, baseline, rules)`},
		{"bad cache", "cache: sometimes\n", ":1:", "unknown cache mode"},
		{"negative", "model: m\nrps: -1\n", ":2:", "rps must not be negative"},
		{"negative price", "prices:\n  m: {prompt_per_1m: -1}\n", ":1:", "must not be negative"},
		{"bad url", "base_url: localhost:8000\n", ":1:", "http://"},
		{"syntax", "model: [unclosed\n", ":", "did not find"},
		{"not a mapping", "- a\n- b\n", ":1:", "mapping"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := write(t, tc.content)
			_, err := Load(p)
			require.Error(t, err)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "config: "+p+tc.line), "got %q", msg)
			assert.Contains(t, msg, tc.want)
			assert.NotContains(t, msg, "\n", "one line")
			assert.NotContains(t, msg, "sk-abc123", "a refused secret is not echoed")
		})
	}
}

// The package doc's example is a file Load accepts, and its prompt is one
// the prompt catalogue knows (it once said screen@1, which is refused).
func TestTheDocExampleIsValid(t *testing.T) {
	cfg, err := Load(write(t, full))
	require.NoError(t, err)
	_, err = prompts.Resolve(cfg.Prompt)
	assert.NoError(t, err)
}
