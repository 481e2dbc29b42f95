package config

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/secscreen/secscreen/screener/backend"
)

// Settings are the options of a run after the command line, the
// environment and the configuration file were merged (flags > environment
// > file > default). Every command that screens reads them from here, so a
// value set in the file means the same to screen, check, reply and eval.
type Settings struct {
	// Backend is "auto", "rules", "baseline", "openai" or "ollama".
	Backend string
	// Model is the model name for openai or ollama.
	Model string
	// BaseURL is an OpenAI-compatible server's API root.
	BaseURL string
	// APIKeyEnv names the variable holding the API key ("" means
	// OPENAI_API_KEY).
	APIKeyEnv string
	// OllamaHost is the Ollama server ("" means $OLLAMA_HOST or the
	// default).
	OllamaHost string
	// Prompt is the prompt template, NAME@VERSION or a file ("" means the
	// default template).
	Prompt string
	// CacheDir is the reply cache directory ("" means the default).
	CacheDir string
	// Cache is what the reply cache does: read and write, replay only, or
	// nothing.
	Cache backend.CacheMode
	// Timeout bounds one model call (0: the backend's default).
	Timeout time.Duration
	// Retries is how many times a failed model call is retried.
	Retries int
	// RPS caps model calls per second (0: no limit); Burst allows calls
	// at once above it.
	RPS   float64
	Burst int
	// Concurrency is how many reports are screened at once.
	Concurrency int
	// BodyChars is the most report characters sent to a model (0: no
	// limit).
	BodyChars int
	// MessageBytes and AttachmentBytes bound what intake reads; 0 means
	// intake's defaults (intake.DefaultLimits).
	MessageBytes, AttachmentBytes int64
	// Seed is the sampling seed sent to the model (and eval's seed).
	Seed int
	// SkipModelWhenDecisive leaves the model out when the rules decide.
	SkipModelWhenDecisive bool
	// Shots is the number of few-shot examples from ShotsCorpus.
	Shots int
	// ShotsCorpus is the labeled corpus directory the shots come from.
	ShotsCorpus string
	// BaselineModel is the offline classifier's model file ("" means the
	// embedded one).
	BaselineModel string
	// Prices maps model names to their price per million tokens.
	Prices backend.PriceTable
	// File is the configuration file in force (it may not exist when it
	// is the default one).
	File string

	sources map[string]Source
}

// Defaults are the settings when nothing is given. The CLI shows them as
// its flags' defaults.
func Defaults() Settings {
	return Settings{
		Backend:     "auto",
		Retries:     3,
		Burst:       1,
		Concurrency: 4,
		BodyChars:   60000,
		Seed:        42,
	}
}

// SourceKind says which layer a setting came from.
type SourceKind int

// The layers, weakest first.
const (
	FromDefault SourceKind = iota
	FromFile
	FromEnv
	FromFlag
)

// Source says where a setting's value came from, for messages that name it.
type Source struct {
	// Kind is the layer.
	Kind SourceKind
	// Name is the flag ("--model"), the environment variable
	// ("SECSCREEN_MODEL") or the file key ("model"), as Kind says.
	Name string
	// File is the configuration file's path when Kind is FromFile.
	File string
}

// String names the source the way a user wrote it: "--model",
// "$SECSCREEN_MODEL", "/home/me/.config/secscreen/config.yaml: model" or
// "the default model".
func (s Source) String() string {
	switch s.Kind {
	case FromFlag:
		return "--" + s.Name
	case FromEnv:
		return "$" + s.Name
	case FromFile:
		return s.File + ": " + s.Name
	}
	return "the default " + s.Name
}

// Source returns where the setting key (a name of Keys) came from.
func (s Settings) Source(key string) Source {
	if src, ok := s.sources[key]; ok {
		return src
	}
	return Source{Kind: FromDefault, Name: key}
}

// Error is a setting that cannot be used. It names where the value came
// from, so that the user knows which flag, variable or file line to change.
type Error struct {
	// Source is where the value came from.
	Source Source
	// Err says what is wrong.
	Err error
}

// Error reads "SOURCE: what is wrong".
func (e *Error) Error() string { return e.Source.String() + ": " + e.Err.Error() }

// Unwrap returns what is wrong.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error about the setting key.
func (s Settings) Errorf(key, format string, args ...any) error {
	return &Error{Source: s.Source(key), Err: fmt.Errorf(format, args...)}
}

// A setting's names: its key (the file's key, dotted for limits), its flag
// and the environment variable that stands for the flag ("" when none).
type setting struct{ key, flag, env string }

// settingsTable lists every setting with its flag and variable.
var settingsTable = []setting{
	{"backend", "backend", "SECSCREEN_BACKEND"},
	{"model", "model", "SECSCREEN_MODEL"},
	{"base_url", "base-url", "OPENAI_BASE_URL"},
	{"api_key_env", "api-key-env", ""},
	{"ollama_host", "ollama-host", ""},
	{"prompt", "prompt", ""},
	{"cache_dir", "cache", ""},
	{"cache", "", ""},
	{"timeout", "timeout", ""},
	{"retries", "retries", ""},
	{"rps", "rps", ""},
	{"burst", "burst", ""},
	{"concurrency", "concurrency", ""},
	{"limits.body_chars", "max-body-chars", ""},
	{"limits.message_bytes", "max-message-bytes", ""},
	{"limits.attachment_bytes", "max-attachment-bytes", ""},
	{"seed", "seed", ""},
	{"skip_model_when_rules_decide", "skip-model-when-rules-decide", ""},
	{"shots", "shots", ""},
	{"shots_corpus", "corpus", ""},
	{"baseline_model", "baseline-model", ""},
}

// EnvVar is the environment variable that stands for flag ("" when none);
// the CLI names it in the flag's help.
func EnvVar(flag string) string {
	if flag == "config" {
		return ConfigEnv
	}
	for _, s := range settingsTable {
		if s.flag == flag {
			return s.env
		}
	}
	return ""
}

// ConfigEnv names the configuration file when --config does not.
const ConfigEnv = "SECSCREEN_CONFIG"

// Input is what Resolve merges.
type Input struct {
	// Flags holds the flags given on the command line, by name ("backend",
	// "timeout"), each typed as its flag: string, bool, int, int64, float64
	// or time.Duration. A flag not given is absent. "config" names the
	// configuration file; "offline" and "no-cache" set the cache mode.
	Flags map[string]any
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// Resolve merges the command line, the environment and the configuration
// file (--config, else $SECSCREEN_CONFIG, else DefaultPath, which may be
// missing) over Defaults. An empty environment variable counts as unset.
// Its errors are *Error, or the file's own (which name the file and line).
func Resolve(in Input) (Settings, error) {
	getenv := in.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	s := Defaults()
	s.sources = map[string]Source{}

	path, _ := in.Flags["config"].(string)
	if path == "" {
		path = getenv(ConfigEnv)
	}
	file, err := Load(path)
	if err != nil {
		return Settings{}, err
	}
	if path == "" {
		path, _ = DefaultPath()
	}
	s.File = path

	// The file's values first, over the defaults.
	fromFile := map[string]any{
		"backend": file.Backend, "model": file.Model, "base_url": file.BaseURL,
		"api_key_env": file.APIKeyEnv, "ollama_host": file.OllamaHost, "prompt": file.Prompt,
		"cache_dir": file.CacheDir, "cache": file.Cache, "timeout": file.Timeout,
		"rps": file.RPS, "burst": file.Burst, "concurrency": file.Concurrency,
		"limits.body_chars":    file.Limits.BodyChars,
		"limits.message_bytes": file.Limits.MessageBytes, "limits.attachment_bytes": file.Limits.AttachmentBytes,
	}
	s.Prices = file.Prices
	var errs []error
	for _, st := range settingsTable {
		v, ok := fromFile[st.key]
		if ok && !isZero(v) {
			errs = append(errs, s.set(st.key, v, Source{Kind: FromFile, Name: st.key, File: path}))
		}
		if st.env != "" {
			if v := getenv(st.env); v != "" {
				errs = append(errs, s.set(st.key, v, Source{Kind: FromEnv, Name: st.env}))
			}
		}
		if st.flag == "" {
			continue
		}
		if v, ok := in.Flags[st.flag]; ok {
			// An empty string flag means "not set", as an empty variable
			// does: --backend "" is the default.
			if str, isStr := v.(string); isStr && str == "" {
				continue
			}
			errs = append(errs, s.set(st.key, v, Source{Kind: FromFlag, Name: st.flag}))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Settings{}, err
	}

	offline, _ := in.Flags["offline"].(bool)
	noCache, _ := in.Flags["no-cache"].(bool)
	switch {
	case offline && noCache:
		return Settings{}, &Error{Source: Source{Kind: FromFlag, Name: "offline"}, Err: errors.New("--offline replays the cache; it cannot go with --no-cache")}
	case offline:
		s.Cache, s.sources["cache"] = backend.CacheOffline, Source{Kind: FromFlag, Name: "offline"}
	case noCache:
		s.Cache, s.sources["cache"] = backend.CacheDisabled, Source{Kind: FromFlag, Name: "no-cache"}
	}
	b, err := ParseBackend(s.Backend)
	if err != nil {
		return Settings{}, s.Errorf("backend", "%w", err)
	}
	s.Backend = b
	return s, nil
}

func isZero(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case int:
		return x == 0
	case int64:
		return x == 0
	case float64:
		return x == 0
	case time.Duration:
		return x == 0
	case bool:
		return !x
	}
	return v == nil
}

// set stores v, a value of the setting key from src, and records src.
func (s *Settings) set(key string, v any, src Source) error {
	wrong := func() error {
		return &Error{Source: src, Err: fmt.Errorf("a value of type %T does not fit this setting", v)}
	}
	str := func(dst *string) error {
		x, ok := v.(string)
		if !ok {
			return wrong()
		}
		*dst = x
		return nil
	}
	num := func(dst *int) error {
		x, ok := v.(int)
		if !ok {
			return wrong()
		}
		*dst = x
		return nil
	}
	big := func(dst *int64) error {
		x, ok := v.(int64)
		if !ok {
			return wrong()
		}
		*dst = x
		return nil
	}
	var err error
	switch key {
	case "backend":
		err = str(&s.Backend)
	case "model":
		err = str(&s.Model)
	case "base_url":
		err = str(&s.BaseURL)
	case "api_key_env":
		err = str(&s.APIKeyEnv)
	case "ollama_host":
		err = str(&s.OllamaHost)
	case "prompt":
		err = str(&s.Prompt)
	case "cache_dir":
		err = str(&s.CacheDir)
	case "shots_corpus":
		err = str(&s.ShotsCorpus)
	case "baseline_model":
		err = str(&s.BaselineModel)
	case "cache":
		var mode string
		if err = str(&mode); err == nil {
			if s.Cache, err = backend.ParseCacheMode(mode); err != nil {
				err = &Error{Source: src, Err: err}
			}
		}
	case "timeout":
		x, ok := v.(time.Duration)
		if !ok {
			return wrong()
		}
		s.Timeout = x
	case "rps":
		x, ok := v.(float64)
		if !ok {
			return wrong()
		}
		s.RPS = x
	case "skip_model_when_rules_decide":
		x, ok := v.(bool)
		if !ok {
			return wrong()
		}
		s.SkipModelWhenDecisive = x
	case "retries":
		err = num(&s.Retries)
	case "burst":
		err = num(&s.Burst)
	case "concurrency":
		err = num(&s.Concurrency)
	case "limits.body_chars":
		err = num(&s.BodyChars)
	case "seed":
		err = num(&s.Seed)
	case "shots":
		err = num(&s.Shots)
	case "limits.message_bytes":
		err = big(&s.MessageBytes)
	case "limits.attachment_bytes":
		err = big(&s.AttachmentBytes)
	default:
		return &Error{Source: src, Err: fmt.Errorf("unknown setting %q", key)}
	}
	if err == nil {
		s.sources[key] = src
	}
	return err
}
