package config

import (
	"errors"
	"reflect"
	"strings"
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

func TestDefaultsAreTheTablesDefaults(t *testing.T) {
	d := Defaults()
	assert.Equal(t, "auto", d.Backend)
	assert.Equal(t, 3, d.Retries)
	assert.Equal(t, 4, d.Concurrency)
	assert.Equal(t, 60000, d.BodyChars)
	assert.Equal(t, 42, d.Seed)
	assert.Equal(t, backend.CacheReadWrite, d.Cache)
	for _, st := range Table() {
		if st.Key != "" {
			if st.Key == "cache" {
				continue // the file spells the mode
			}
			assert.Equal(t, st.Default, st.Value(d), st.Key)
		} else {
			assert.Nil(t, st.Value(d), "%s is no setting of its own", st.Flag)
		}
	}
}

// Every key of the file is a setting of the table (prices aside, which no
// flag sets), and the table names each key, flag and variable once.
func TestTableCoversTheFile(t *testing.T) {
	keys, flags, envs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, st := range Table() {
		once := func(set map[string]bool, names ...string) {
			for _, name := range names {
				if name != "" {
					assert.False(t, set[name], "%q named twice", name)
					set[name] = true
				}
			}
		}
		once(keys, st.Key)
		once(flags, append([]string{st.Flag}, st.Aliases...)...)
		once(envs, st.Env)
		assert.True(t, st.Key != "" || st.Flag != "", "a row names a key or a flag")
		assert.True(t, st.Flag == "" || st.Usage != "", "--%s has help", st.Flag)
	}
	var walk func(reflect.Type, string)
	walk = func(tp reflect.Type, prefix string) {
		for i := range tp.NumField() {
			f := tp.Field(i)
			key := prefix + strings.Split(f.Tag.Get("yaml"), ",")[0]
			switch {
			case key == "prices":
			case f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)):
				walk(f.Type, key+".")
			default:
				assert.True(t, keys[key], "the file's %q has no row in the table", key)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
}

func TestEnvironmentValuesAreReadAsTheSettingsType(t *testing.T) {
	for _, c := range []struct {
		def  any
		text string
		want any
	}{
		{"", "x", "x"}, {false, "true", true}, {0, "7", 7}, {int64(0), "8", int64(8)},
		{0.0, "2.5", 2.5}, {time.Duration(0), "90s", 90 * time.Second},
	} {
		got, err := Setting{Default: c.def}.parse(c.text)
		require.NoError(t, err)
		assert.Equal(t, c.want, got)
	}
	_, err := Setting{Default: 0}.parse("four")
	assert.Error(t, err)
}
