package config

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/backend"
)

func noEnv(string) string { return "" }

func TestResolveLayersFlagsOverEnvironmentOverFileOverDefaults(t *testing.T) {
	path := write(t, "backend: baseline\nmodel: from-file\nconcurrency: 2\ntimeout: 90s\nprompt: screen@v1\nlimits:\n  message_bytes: 1000\n")
	env := map[string]string{"SECSCREEN_MODEL": "from-env", "SECSCREEN_BACKEND": ""}
	s, err := Resolve(Input{
		Flags:  map[string]any{"config": path, "concurrency": 7, "retries": 5},
		Getenv: func(k string) string { return env[k] },
	})
	require.NoError(t, err)
	assert.Equal(t, "baseline", s.Backend, "an empty variable is unset: the file wins")
	assert.Equal(t, "from-env", s.Model)
	assert.Equal(t, 7, s.Concurrency)
	assert.Equal(t, 5, s.Retries)
	assert.Equal(t, 90*time.Second, s.Timeout)
	assert.Equal(t, int64(1000), s.MessageBytes)
	assert.Equal(t, Defaults().AttachmentBytes, s.AttachmentBytes)
	assert.Equal(t, Defaults().Burst, s.Burst)

	assert.Equal(t, path+": backend", s.Source("backend").String())
	assert.Equal(t, "$SECSCREEN_MODEL", s.Source("model").String())
	assert.Equal(t, "--concurrency", s.Source("concurrency").String())
	assert.Equal(t, "the default burst", s.Source("burst").String())
	assert.Equal(t, path+": limits.message_bytes", s.Source("limits.message_bytes").String())
}

func TestResolveReadsTheConfigFileNamedByTheEnvironment(t *testing.T) {
	path := write(t, "backend: rules\n")
	s, err := Resolve(Input{Getenv: func(k string) string {
		if k == ConfigEnv {
			return path
		}
		return ""
	}})
	require.NoError(t, err)
	assert.Equal(t, "rules", s.Backend)
	assert.Equal(t, path, s.File)

	s, err = Resolve(Input{Flags: map[string]any{"backend": "openai"}, Getenv: func(k string) string {
		if k == ConfigEnv {
			return path
		}
		return ""
	}})
	require.NoError(t, err)
	assert.Equal(t, "openai", s.Backend, "a flag beats the file")
}

func TestResolveCacheMode(t *testing.T) {
	path := write(t, "cache: offline\n")
	s, err := Resolve(Input{Flags: map[string]any{"config": path}, Getenv: noEnv})
	require.NoError(t, err)
	assert.Equal(t, backend.CacheOffline, s.Cache)
	assert.Equal(t, path+": cache", s.Source("cache").String())

	s, err = Resolve(Input{Flags: map[string]any{"config": path, "no-cache": true}, Getenv: noEnv})
	require.NoError(t, err)
	assert.Equal(t, backend.CacheDisabled, s.Cache, "--no-cache beats the file")

	_, err = Resolve(Input{Flags: map[string]any{"offline": true, "no-cache": true}, Getenv: noEnv})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--offline")
}

func TestResolveErrorsNameTheSource(t *testing.T) {
	_, err := Resolve(Input{Getenv: func(k string) string {
		if k == "SECSCREEN_BACKEND" {
			return "gpt"
		}
		return ""
	}})
	var se *Error
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Equal(t, FromEnv, se.Source.Kind)
	assert.Contains(t, err.Error(), `$SECSCREEN_BACKEND: unknown backend "gpt"`)

	_, err = Resolve(Input{Flags: map[string]any{"concurrency": "four"}, Getenv: noEnv})
	require.True(t, errors.As(err, &se), "%v", err)
	assert.Contains(t, err.Error(), "--concurrency")

	s := Defaults()
	err = s.Errorf("prompt", "no such template")
	assert.Equal(t, "the default prompt: no such template", err.Error())
}

func TestResolveFileErrorsNameTheFile(t *testing.T) {
	path := write(t, "timeout: soon\n")
	_, err := Resolve(Input{Flags: map[string]any{"config": path}, Getenv: noEnv})
	require.Error(t, err)
	assert.Contains(t, err.Error(), path+":1:")
}

func TestEnvVarNamesTheVariableOfAFlag(t *testing.T) {
	assert.Equal(t, "SECSCREEN_BACKEND", EnvVar("backend"))
	assert.Equal(t, "OPENAI_BASE_URL", EnvVar("base-url"))
	assert.Equal(t, ConfigEnv, EnvVar("config"))
	assert.Empty(t, EnvVar("retries"))
}
