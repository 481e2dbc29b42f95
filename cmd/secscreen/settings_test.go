package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/internal/cliapp"
	"github.com/secscreen/secscreen/screener/batch"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/setup"
)

// userConfig writes the default config file of an isolated test.
func userConfig(t *testing.T, content string) string {
	t.Helper()
	dir := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "secscreen")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

// eval --folds reads the backend from the config file as screen does
// (issue 11: it once read --backend from the flags only and failed with
// `cannot train backend "auto"`).
func TestEvalFoldsTakeTheBackendFromTheConfigFile(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	model := trainOn(t, dir, "--algo", "nb")
	userConfig(t, "backend: baseline\n")
	code, out, errOut := secscreen(t, "eval", "--json", "-", "--resamples", "20", "--corpus", dir, "--split", "dev",
		"--baseline-model", model, "--folds", "2")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, `"model_name": "naive-bayes@`, "the folds' baseline answers as the backend")

	// With the rules from the file, the folds refit the rules alone.
	userConfig(t, "backend: rules\n")
	code, out, errOut = secscreen(t, "eval", "--json", "-", "--resamples", "20", "--corpus", dir, "--split", "dev", "--folds", "2")
	require.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, out, `"model_name": "naive-bayes@`, "no baseline is trained for the rules backend")
}

// Every command takes the prompt from the config file: eval --simulate
// once read --prompt from the flags only and ignored the file's.
func TestEveryCommandReadsThePromptFromTheConfigFile(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	path := userConfig(t, "prompt: nosuch@v9\n")
	for _, args := range [][]string{
		{"screen", "--backend", "baseline", "../../examples/05-vague-report.txt"},
		{"eval", "--corpus", dir, "--split", "test", "--simulate", "0.2"},
		{"eval", "--corpus", dir, "--split", "dev", "--simulate", "0.2", "--folds", "2"},
	} {
		code, _, errOut := secscreen(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
		assert.Contains(t, errOut, path+": prompt:", "%v: the error names the file and key", args)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "%v: one line: %s", args, errOut)
	}
	code, _, errOut := secscreen(t, "screen", "--backend", "baseline", "--prompt", "screen@v1", "../../examples/05-vague-report.txt")
	assert.Equal(t, exitOK, code, "a flag beats the file: %s", errOut)
}

func TestSettingErrorsNameTheVariable(t *testing.T) {
	isolate(t)
	t.Setenv("SECSCREEN_BACKEND", "openai")
	dir := evalCorpus(t)
	code, _, errOut := secscreen(t, "eval", "--corpus", dir, "--split", "test", "--simulate", "0.2")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "cannot go with $SECSCREEN_BACKEND")

	t.Setenv("SECSCREEN_BACKEND", "gpt")
	code, _, errOut = secscreen(t, "screen", "../../examples/05-vague-report.txt")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `$SECSCREEN_BACKEND: unknown backend "gpt"`)
}

func TestTooManyFoldsIsAUsageError(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	code, _, errOut := secscreen(t, "eval", "--corpus", dir, "--backend", "baseline", "--folds", "500")
	assert.Equal(t, exitUsage, code, errOut)
	assert.Contains(t, errOut, "--folds")
	assert.Contains(t, errOut, "every fold needs a report")
}

func TestHelpNamesOneDefaultAndWhatTheCorpusIs(t *testing.T) {
	isolate(t)
	_, out, _ := secscreen(t, "screen", "--help")
	line := lineWith(out, "--timeout")
	assert.Equal(t, 1, strings.Count(line, "default"), "one default for --timeout: %q", line)
	assert.Contains(t, lineWith(out, "--corpus DIR"), "for --shots")
	assert.Contains(t, lineWith(out, "--backend"), "[$SECSCREEN_BACKEND]", "the variable is still named")

	_, out, _ = secscreen(t, "eval", "--help")
	line = lineWith(out, "--corpus DIR")
	assert.Contains(t, line, "labeled corpus DIR to score")
	assert.NotContains(t, line, "DIR for --shots", "eval's corpus is the one it scores")
}

func lineWith(text, s string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// eval --repeat asks the model every time: the reply cache is off for the
// run (the settings say so; no parsed flag is rewritten), and --offline,
// which could only replay, is refused.
func TestEvalRepeatAlwaysReachesTheModel(t *testing.T) {
	isolate(t)
	dir := evalCorpus(t)
	var calls atomic.Int32
	srv := fakeOpenAI(t, &calls)
	args := []string{"eval", "-q", "--resamples", "10", "--corpus", dir, "--split", "test", "--backend", "openai",
		"--base-url", srv.URL + "/v1", "--model", "m", "--cache", t.TempDir(), "--repeat", "2"}
	code, _, errOut := secscreen(t, args...)
	require.Equal(t, exitOK, code, errOut)
	first := calls.Load()
	require.Positive(t, first)
	code, _, errOut = secscreen(t, args...)
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, 2*first, calls.Load(), "nothing was cached")

	code, _, errOut = secscreen(t, append(args, "--offline")...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "cannot go with --offline")
}

// Every setting flag reaches config.Resolve with the type it expects.
func TestEverySettingFlagIsAccepted(t *testing.T) {
	isolate(t)
	code, _, errOut := secscreen(t, "screen", "--backend", "rules", "--model", "m", "--base-url", "http://127.0.0.1:1/v1",
		"--api-key-env", "K", "--ollama-host", "http://127.0.0.1:1", "--prompt", "screen@v1", "--timeout", "5s",
		"--retries", "0", "--rps", "2.5", "--burst", "2", "--cache", t.TempDir(), "--max-body-chars", "100", "--seed", "7",
		"--skip-model-when-rules-decide", "-j", "2", "--max-message-bytes", "100000", "--max-attachment-bytes", "1000",
		"--baseline-model", "", "../../examples/05-vague-report.txt")
	assert.Equal(t, exitOK, code, errOut)
}

// samples are three values of a setting's type (for the file, the
// environment and the flag, in that order) as the command line spells
// them; a few settings accept only some values.
func samples(st config.Setting) [3]string {
	switch st.Key {
	case "backend":
		return [3]string{"rules", "ollama", "openai"}
	case "base_url":
		return [3]string{"http://file", "http://env", "http://flag"}
	case "cache":
		return [3]string{"offline"}
	}
	switch st.Default.(type) {
	case bool:
		return [3]string{"true", "true", "true"}
	case int, int64:
		return [3]string{"7", "8", "9"}
	case float64:
		return [3]string{"1.5", "2.5", "3.5"}
	case time.Duration:
		return [3]string{"7s", "8s", "9s"}
	}
	return [3]string{"file_val", "env_val", "flag_val"}
}

// yamlAt writes value at the dotted key.
func yamlAt(key, value string) string {
	parent, leaf, nested := strings.Cut(key, ".")
	if nested {
		return parent + ":\n  " + leaf + ": " + value + "\n"
	}
	return key + ": " + value + "\n"
}

// Every setting of config.Table has its flag, with its aliases, type and
// default, on the commands that screen; the help names its variable; and
// its value comes from the flag, else the variable, else the config file,
// else the default, whatever its type.
func TestGeneratedFlagsAgreeWithResolve(t *testing.T) {
	isolate(t)
	flags := cliapp.Flags(setup.PipelineFlags(), setup.InputFlags())
	byName := map[string]cli.Flag{}
	for _, f := range flags {
		byName[f.Names()[0]] = f
	}
	var got config.Settings
	app := &cli.App{Writer: io.Discard, ErrWriter: io.Discard, Commands: []*cli.Command{{Name: "x", Flags: flags, Action: func(c *cli.Context) (err error) {
		got, err = resolveSettings(c)
		return err
	}}}}
	resolve := func(args ...string) config.Settings {
		t.Helper()
		got = config.Settings{}
		require.NoError(t, app.Run(append([]string{"secscreen", "x"}, args...)))
		return got
	}

	for _, st := range config.Table() {
		if st.Flag != "" {
			f := byName[st.Flag]
			require.NotNil(t, f, "--%s is generated", st.Flag)
			assert.Equal(t, append([]string{st.Flag}, st.Aliases...), f.Names())
			if st.Env != "" {
				assert.Contains(t, f.String(), "[$"+st.Env+"]", "the help names the variable")
			}
			if st.DefaultText != "" {
				assert.Contains(t, f.String(), "(default: "+st.DefaultText+")")
			}
		}
		if st.Key == "" {
			continue // --config, --offline, --no-cache: config's tests and the commands' own
		}
		if st.Key != "limits.message_bytes" && st.Key != "limits.attachment_bytes" && st.Flag != "" {
			assert.Equal(t, st.Default, reflect.ValueOf(byName[st.Flag]).Elem().FieldByName("Value").Interface(),
				"--%s has the setting's type and default", st.Flag)
		}
		s := resolve()
		assert.Equal(t, config.FromDefault, s.Source(st.Key).Kind, st.Key)
		assert.Equal(t, st.Value(config.Defaults()), st.Value(s), st.Key)

		vals := samples(st)
		layers := []struct {
			kind config.SourceKind
			set  func()
			args []string
		}{
			{config.FromFile, func() { userConfig(t, yamlAt(st.Key, vals[0])) }, nil},
			{config.FromEnv, func() { t.Setenv(st.Env, vals[1]) }, nil},
			{config.FromFlag, func() {}, []string{"--" + st.Flag + "=" + vals[2]}},
		}
		var args []string
		applied := 0
		for i, l := range layers {
			switch {
			case i == 0 && !st.InFile():
				continue
			case i == 1 && st.Env == "":
				continue
			case i == 2 && st.Flag == "":
				continue
			}
			l.set()
			args = append(args, l.args...)
			s := resolve(args...)
			assert.Equal(t, l.kind, s.Source(st.Key).Kind, "%s from layer %d", st.Key, i)
			if st.Key != "cache" {
				assert.Equal(t, vals[i], fmt.Sprint(st.Value(s)), "%s from layer %d", st.Key, i)
			}
			applied++
		}
		assert.Positive(t, applied, "%s can be set somewhere", st.Key)
		userConfig(t, "")
		if st.Env != "" {
			t.Setenv(st.Env, "")
		}
	}
}

// A setting given by a flag's alias (-j, -b) counts as given by the flag,
// as urfave/cli's IsSet counts it.
func TestResolveSettingsByAlias(t *testing.T) {
	isolate(t)
	flags := cliapp.Flags(batch.ScreenFlags())
	var got config.Settings
	app := &cli.App{Writer: io.Discard, ErrWriter: io.Discard, Commands: []*cli.Command{{Name: "x", Flags: flags, Action: func(c *cli.Context) (err error) {
		got, err = resolveSettings(c)
		return err
	}}}}
	require.NoError(t, app.Run([]string{"secscreen", "x", "-j", "3", "-b", "rules"}))
	assert.Equal(t, 3, got.Concurrency)
	assert.Equal(t, config.FromFlag, got.Source("concurrency").Kind)
	assert.Equal(t, "rules", got.Backend)
	assert.Equal(t, config.FromFlag, got.Source("backend").Kind)
}
