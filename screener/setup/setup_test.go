package setup

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/baseline"
	"github.com/secscreen/secscreen/screener/config"
)

// settings resolves flags alone, away from the user's config file, keys
// and model servers.
func settings(t *testing.T, flags map[string]any) config.Settings {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	flags["config"] = filepath.Join(t.TempDir(), "none.yaml")
	require.NoError(t, os.WriteFile(flags["config"].(string), nil, 0o600))
	s, err := config.Resolve(config.Input{Flags: flags, Getenv: func(k string) string {
		if k == "OLLAMA_HOST" {
			return "http://127.0.0.1:1" // nothing listens there
		}
		return ""
	}})
	require.NoError(t, err)
	return s
}

func TestFilesLoadTheBuiltInModelOrTheNamedOnes(t *testing.T) {
	var notes bytes.Buffer
	tm, eng, err := Files{}.Load(&notes)
	require.NoError(t, err)
	assert.Equal(t, "built-in", tm.Source)
	assert.NotNil(t, eng)
	assert.Empty(t, notes.String(), "the built-in model needs no note")

	tm, _, err = Files{ThreatModel: "../threatmodel/testdata/model.yaml"}.Load(&notes)
	require.NoError(t, err)
	assert.Equal(t, "widget", tm.Name)
	assert.Contains(t, notes.String(), "rules: ", "a model of its own says which rule pack it screens with")

	for _, f := range []Files{
		{ThreatModel: "testdata/nosuch.yaml"},
		{Rules: "testdata/nosuch.yaml"},
		{Series: "testdata/nosuch.yaml"},
	} {
		_, _, err := f.Load(&notes)
		assert.Equal(t, exit.Usage, exit.Code(err), "%+v: %v", f, err)
	}
	_, err = Build(context.Background(), settings(t, map[string]any{"backend": "rules"}), Files{Source: "testdata/nosuch"}, Options{})
	assert.Equal(t, exit.Usage, exit.Code(err))
	assert.ErrorContains(t, err, "--source")
}

func TestFingerprintFollowsTheFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.WriteFile(path, []byte("rules: []\n"), 0o600))
	a := Files{Rules: path}.Fingerprint()
	if a == "" {
		t.Skip("the test binary's identity cannot be read")
	}
	assert.Equal(t, a, Files{Rules: path, Source: dir}.Fingerprint(), "the source tree is no input of the rules")
	assert.NotEqual(t, a, Files{Series: path}.Fingerprint(), "the file's role counts")
	assert.NotEqual(t, a, Files{}.Fingerprint())
}

func TestBuildTheRulesAlone(t *testing.T) {
	p, err := Build(context.Background(), settings(t, map[string]any{"backend": "rules", "concurrency": 2}), Files{Source: "../advice/testdata/tree"}, Options{})
	require.NoError(t, err)
	assert.Equal(t, "rules", p.Screener.BackendName())
	assert.Nil(t, p.Baseline, "no model: the baseline does not vote")
	assert.Equal(t, "rules (no model); cited code looked up in ../advice/testdata/tree", p.Choice)
}

func TestBuildTheBaselineInTheModelsPlace(t *testing.T) {
	p, err := Build(context.Background(), settings(t, map[string]any{"backend": "baseline"}), Files{}, Options{})
	require.NoError(t, err)
	require.NotNil(t, p.Baseline)
	assert.Equal(t, p.Baseline.Name(), p.ModelName)
	assert.Contains(t, p.Choice, "baseline (offline classifier ")
	assert.NotContains(t, p.Choice, "votes beside", "the baseline answers; it does not vote twice")

	_, err = Build(context.Background(), settings(t, map[string]any{"backend": "baseline", "baseline-model": "testdata/nosuch.json"}), Files{}, Options{})
	assert.Equal(t, exit.Usage, exit.Code(err))
	assert.ErrorContains(t, err, "baseline model: ")
}

func TestBuildAModelWithTheBaselineVotingBesideIt(t *testing.T) {
	cache := t.TempDir()
	var configured screener.Config
	p, err := Build(context.Background(), settings(t, map[string]any{"backend": "openai", "base-url": "http://127.0.0.1:1/v1", "model": "m", "cache": cache}),
		Files{}, Options{Configure: func(cfg *screener.Config) { configured = *cfg }})
	require.NoError(t, err)
	assert.Equal(t, "m", p.ModelName)
	assert.Contains(t, p.Choice, "; the offline baseline votes beside it")
	assert.NotNil(t, p.Baseline)
	assert.NotNil(t, configured.Voter)
	assert.NotNil(t, configured.Classifier)
	if (Files{}).Fingerprint() != "" {
		assert.NotNil(t, configured.EvalCache, "the rules' evaluations are kept beside the reply cache")
	}

	p.Prices = backend.PriceTable{"m": {PromptPer1M: 1, CompletionPer1M: 2}}
	line := p.SummaryLine(screener.Summary{Inputs: 1, Results: 1, ModelCalls: 1, PromptTokens: 1_000_000, CompletionTokens: 500_000})
	assert.Contains(t, line, "cost 2.0000", "1 $ of prompt and 1 $ of completion")
}

func TestBuildRefusesWhatTheUserGotWrong(t *testing.T) {
	for name, flags := range map[string]map[string]any{
		"--shots needs --corpus DIR": {"backend": "openai", "base-url": "http://127.0.0.1:1/v1", "model": "m", "shots": 2},
		"--corpus: ":                 {"backend": "openai", "base-url": "http://127.0.0.1:1/v1", "model": "m", "shots": 2, "corpus": "testdata/nosuch"},
		"--prompt: ":                 {"backend": "rules", "prompt": "nosuch@v9"},
		"--backend: ":                {"backend": "ollama"},
	} {
		_, err := Build(context.Background(), settings(t, flags), Files{}, Options{})
		assert.Equal(t, exit.Usage, exit.Code(err), "%s: %v", name, err)
		assert.ErrorContains(t, err, name)
	}
}

func TestShotsComeFromTheDevSplitOnly(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600))
	}
	write("a.txt", "An unprivileged user reads kernel memory through a use-after-free in the tty driver.\n")
	write("b.txt", "As root, writing to debugfs crashes the machine.\n")
	write("labels.jsonl", `{"id":"a","file":"a.txt","verdict":"security","category":"isolation.memory","split":"test"}`+"\n"+
		`{"id":"b","file":"b.txt","verdict":"not-security","category":"privilege.root","split":"dev"}`+"\n")
	pick, err := Shots(context.Background(), dir, 5)
	require.NoError(t, err)
	shots := pick(nil)
	require.Len(t, shots, 1, "the test split is sealed")
	assert.Equal(t, "privilege.root", shots[0].Label.Category)

	write("labels.jsonl", `{"id":"a","file":"a.txt","verdict":"security","category":"isolation.memory","split":"test"}`+"\n")
	_, err = Shots(context.Background(), dir, 5)
	assert.Equal(t, exit.Usage, exit.Code(err))
	assert.ErrorContains(t, err, "no readable labeled reports")
}

func TestAdviceReadsTheMaintainersFile(t *testing.T) {
	p := &Pipeline{}
	var log bytes.Buffer
	opt, err := p.Advice("../maintainers/testdata/MAINTAINERS", true, &log)
	require.NoError(t, err)
	assert.NotNil(t, opt.Maintainers)
	assert.True(t, opt.AIAssisted)
	_, err = p.Advice("testdata/nosuch", false, &log)
	assert.Equal(t, exit.Usage, exit.Code(err))
	opt, err = p.Advice("", false, &log)
	require.NoError(t, err)
	assert.Nil(t, opt.Maintainers)
}

func TestLoadBaselineIsTheEmbeddedModelByDefault(t *testing.T) {
	m, err := LoadBaseline(config.Defaults())
	require.NoError(t, err)
	want := baseline.Embedded()
	assert.Equal(t, want.Name(), m.Name())
}

// Ready runs once the rules are loaded and before the classifier is
// built; its error stops Build there.
func TestReadyIsWaitedForBeforeTheClassifier(t *testing.T) {
	s := settings(t, map[string]any{"backend": "rules", "prompt": "nosuch@v9"})
	stop := errors.New("the history did not open")
	configured := false
	_, err := Build(context.Background(), s, Files{}, Options{Ready: func() error { return stop }, Configure: func(*screener.Config) { configured = true }})
	assert.ErrorIs(t, err, stop, "Ready's error, not the classifier's (a wrong --prompt)")
	assert.False(t, configured)

	ready := false
	_, err = Build(context.Background(), s, Files{ThreatModel: "testdata/nosuch.rst"}, Options{Ready: func() error { ready = true; return nil }})
	assert.Equal(t, exit.Usage, exit.Code(err), "a threat model that does not load stops Build before Ready")
	assert.False(t, ready)

	_, err = Build(context.Background(), s, Files{}, Options{Ready: func() error { ready = true; return nil }})
	assert.True(t, ready)
	assert.ErrorContains(t, err, "--prompt: ", "after Ready, Build goes on as without it")
}

// A prompt the settings name is checked whatever answers; the built-in
// default is parsed only for a run that renders it.
func TestNewBackendChecksANamedPromptOnly(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"rules", baseline.Name} {
		_, err := NewBackend(ctx, settings(t, map[string]any{"backend": backend, "prompt": "nosuch@v9"}), Files{}, nil)
		assert.Equal(t, exit.Usage, exit.Code(err), "--backend %s with a wrong --prompt: %v", backend, err)

		b, err := NewBackend(ctx, settings(t, map[string]any{"backend": backend}), Files{}, nil)
		require.NoError(t, err)
		assert.Nil(t, b.Prompt, "--backend %s renders no prompt: the default is not parsed", backend)

		b, err = NewBackend(ctx, settings(t, map[string]any{"backend": backend, "prompt": "screen@v1"}), Files{}, nil)
		require.NoError(t, err)
		assert.NotNil(t, b.Prompt, "--backend %s with --prompt screen@v1", backend)
	}
}

func TestDefaultRoutesAreCopies(t *testing.T) {
	a := screener.DefaultRoutes()
	for k := range a.Verdicts {
		delete(a.Verdicts, k)
	}
	assert.NotEmpty(t, screener.DefaultRoutes().Verdicts, "a caller's change to its routes reached the next caller's")
}

// Inputs are small when they are regular files of at most
// smallInputBytes in all; standard input, a directory, a missing file or
// no input at all is not known to be small.
func TestSmallInputs(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, bytes.Repeat([]byte("x"), size), 0o644))
		return p
	}
	one := write("one.mbox", 4<<10)
	half := write("half.mbox", smallInputBytes/2+1)
	big := write("big.mbox", smallInputBytes+1)
	exact := write("exact.mbox", smallInputBytes)
	assert.True(t, SmallInputs([]string{one}))
	assert.True(t, SmallInputs([]string{exact}))
	assert.True(t, SmallInputs([]string{one, one}))
	assert.False(t, SmallInputs([]string{big}))
	assert.False(t, SmallInputs([]string{half, half}), "small files that are not small together")
	assert.False(t, SmallInputs([]string{"-"}))
	assert.False(t, SmallInputs([]string{dir}))
	assert.False(t, SmallInputs([]string{one, filepath.Join(dir, "missing")}))
	assert.False(t, SmallInputs(nil))
}
