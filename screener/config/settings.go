package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secscreen/secscreen/internal/cliflag"
	"github.com/secscreen/secscreen/screener/backend"
)

// Settings are the options of a run after the command line, the
// environment and the configuration file were merged (flags > environment
// > file > default). Every command that screens reads them from here, so a
// value set in the file means the same to screen, check, reply and eval.
// Table lists how each is named, typed, defaulted and explained.
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

// Group says which commands take a setting's flag.
type Group int

const (
	// ScreeningGroup flags choose and tune the model and the run: every command
	// that screens reports takes them.
	ScreeningGroup Group = iota
	// InputGroup flags bound what is read: every command that reads reports
	// takes them.
	InputGroup
)

// Setting describes one setting: its names in the configuration file, on
// the command line and in the environment, its type and default, its help,
// and the field of Settings it fills. A few entries are flags that are not
// settings of their own (Key ""): --config names the file, --offline and
// --no-cache set the cache mode; Resolve reads those itself.
type Setting struct {
	// Key is the setting's name in messages and, when Config has it, in
	// the file (dotted below a mapping: "limits.body_chars"); "" for a
	// flag that is not a setting.
	Key string
	// Flag is the long flag ("" when the setting is the file's only);
	// Aliases are its other names ("j" for -j).
	Flag    string
	Aliases []string
	// Env is the environment variable that stands for the flag ("" when
	// none).
	Env string
	// Default is the value when nothing is given. Its type is the
	// setting's: string, bool, int, int64, float64 or time.Duration.
	Default any
	// DefaultText, when set, is shown as the default in help instead of
	// Default (a default that depends on the backend, say).
	DefaultText string
	// Usage is the flag's help; a `NAME` in back quotes is the value's
	// placeholder.
	Usage string
	// Group says which commands take the flag.
	Group Group

	// field points into Settings at the value's field; nil when Key is "".
	field func(*Settings) any
}

// ConfigEnv names the configuration file when --config does not.
const ConfigEnv = "SECSCREEN_CONFIG"

// table lists every setting, in the order the CLI shows their flags.
var table = []Setting{
	{Key: "concurrency", Flag: "concurrency", Aliases: []string{"j"}, Default: 4, Usage: "reports screened at once", field: func(s *Settings) any { return &s.Concurrency }},
	{Flag: "config", Env: ConfigEnv, Default: "", Usage: "config `FILE` (default $XDG_CONFIG_HOME/secscreen/config.yaml)"},
	{Key: "backend", Flag: "backend", Aliases: []string{"b"}, Env: "SECSCREEN_BACKEND", Default: "auto", field: func(s *Settings) any { return &s.Backend },
		Usage: "`NAME`: auto (stays on this machine: Ollama on loopback, else an OpenAI-compatible server at a loopback --base-url, else baseline), rules, baseline, openai, ollama"},
	{Key: "model", Flag: "model", Aliases: []string{"m"}, Env: "SECSCREEN_MODEL", Default: "", Usage: "model `NAME` for openai or ollama", field: func(s *Settings) any { return &s.Model }},
	{Key: "base_url", Flag: "base-url", Env: "OPENAI_BASE_URL", Default: "", field: func(s *Settings) any { return &s.BaseURL },
		Usage: "OpenAI-compatible API root `URL` (vLLM, llama.cpp, LM Studio, OpenRouter, Ollama's /v1)"},
	{Key: "api_key_env", Flag: "api-key-env", Default: "", field: func(s *Settings) any { return &s.APIKeyEnv },
		Usage: "environment variable `NAME` holding the API key (default OPENAI_API_KEY); the key itself is never a flag"},
	{Key: "ollama_host", Flag: "ollama-host", Default: "", Usage: "Ollama server `URL` (default $OLLAMA_HOST, else http://localhost:11434)", field: func(s *Settings) any { return &s.OllamaHost }},
	{Key: "baseline_model", Flag: "baseline-model", Default: "", Usage: "baseline model `FILE` from 'secscreen train' (default: the embedded one)", field: func(s *Settings) any { return &s.BaselineModel }},
	{Key: "prompt", Flag: "prompt", Default: "", Usage: "prompt template: NAME@VERSION (e.g. screen@v1) or a template `FILE`", field: func(s *Settings) any { return &s.Prompt }},
	{Key: "timeout", Flag: "timeout", Default: time.Duration(0), DefaultText: "2m for openai, 5m for ollama", Usage: "bound on one model call, retries excluded", field: func(s *Settings) any { return &s.Timeout }},
	{Key: "retries", Flag: "retries", Default: 3, Usage: "retries after a 429, 5xx or timeout (with backoff, honouring Retry-After)", field: func(s *Settings) any { return &s.Retries }},
	{Key: "rps", Flag: "rps", Default: 0.0, Usage: "most model calls per second (0: no limit)", field: func(s *Settings) any { return &s.RPS }},
	{Key: "burst", Flag: "burst", Default: 1, Usage: "calls allowed at once above --rps", field: func(s *Settings) any { return &s.Burst }},
	{Key: "cache_dir", Flag: "cache", Default: "", Usage: "reply cache `DIR` (default: the user cache dir)", field: func(s *Settings) any { return &s.CacheDir }},
	{Key: "cache", Default: "", field: func(s *Settings) any { return &s.Cache }}, // the file's "readwrite", "offline" or "off"
	{Flag: "no-cache", Default: false, Usage: "neither read nor write the reply cache"},
	{Flag: "offline", Default: false, Usage: "replay model answers from the cache only; a miss is an error row"},
	{Key: "limits.body_chars", Flag: "max-body-chars", Default: 60000, field: func(s *Settings) any { return &s.BodyChars },
		Usage: "most report characters sent to a model (0: no limit); longer reports are cut with a marker"},
	{Key: "seed", Flag: "seed", Default: 42, Usage: "sampling seed sent to the model", field: func(s *Settings) any { return &s.Seed }},
	{Key: "skip_model_when_rules_decide", Flag: "skip-model-when-rules-decide", Default: false, field: func(s *Settings) any { return &s.SkipModelWhenDecisive },
		Usage: "do not ask the model when the rules alone are decisive (counted as saved calls)"},
	{Key: "shots", Flag: "shots", Default: 0, Usage: "few-shot examples from --corpus shown to the model (never the report itself)", field: func(s *Settings) any { return &s.Shots }},
	{Key: "shots_corpus", Flag: "corpus", Default: "", Usage: "labeled corpus `DIR` for --shots", field: func(s *Settings) any { return &s.ShotsCorpus }},
	// 0: intake's defaults, which setup.InputFlags shows as the flags' defaults.
	{Key: "limits.message_bytes", Flag: "max-message-bytes", Group: InputGroup, Default: int64(0), field: func(s *Settings) any { return &s.MessageBytes },
		Usage: "largest message or file read as one report; larger ones become error rows"},
	{Key: "limits.attachment_bytes", Flag: "max-attachment-bytes", Group: InputGroup, Default: int64(0), field: func(s *Settings) any { return &s.AttachmentBytes },
		Usage: "most text kept from one attachment"},
}

// Table lists every setting, in the order the CLI shows their flags.
func Table() []Setting { return slices.Clone(table) }

// Flags describes the flags of the settings in group g, named, typed,
// defaulted and explained as the table says, with the variable that stands
// for each named in its help. The variable is not the flag's own (Env):
// Resolve reads the variables itself (flags > environment > file), so a
// command line gives only the flags typed on it.
func Flags(g Group) []cliflag.Flag {
	var flags []cliflag.Flag
	for _, st := range table {
		if st.Flag == "" || st.Group != g {
			continue
		}
		f := cliflag.Flag{Name: st.Flag, Aliases: st.Aliases, Default: st.Default, DefaultText: st.DefaultText, Usage: st.Usage}
		if st.Env != "" {
			f.Usage += " [$" + st.Env + "]"
		}
		flags = append(flags, f)
	}
	return flags
}

// Defaults are the settings when nothing is given: each Setting's Default.
func Defaults() Settings {
	var s Settings
	for _, st := range table {
		if st.field != nil {
			if err := st.assign(&s, st.Default); err != nil {
				panic("config: the table's default of " + st.Key + ": " + err.Error()) // TestTable catches it
			}
		}
	}
	return s
}

// Value returns the setting's value in s (nil for a flag that is not a
// setting).
func (st Setting) Value(s Settings) any {
	if st.field == nil {
		return nil
	}
	return reflect.ValueOf(st.field(&s)).Elem().Interface()
}

// assign stores v in the setting's field of s; v must have the setting's
// type (a string for the cache mode).
func (st Setting) assign(s *Settings, v any) error {
	ok := false
	switch p := st.field(s).(type) {
	case *string:
		ok = put(p, v)
	case *bool:
		ok = put(p, v)
	case *int:
		ok = put(p, v)
	case *int64:
		ok = put(p, v)
	case *float64:
		ok = put(p, v)
	case *time.Duration:
		ok = put(p, v)
	case *backend.CacheMode:
		var mode string
		if ok = put(&mode, v); ok {
			m, err := backend.ParseCacheMode(mode)
			if err != nil {
				return err
			}
			*p = m
		}
	}
	if !ok {
		return fmt.Errorf("a value of type %T does not fit this setting", v)
	}
	return nil
}

func put[T any](p *T, v any) bool {
	x, ok := v.(T)
	if ok {
		*p = x
	}
	return ok
}

// parse reads text, an environment variable's value, as a value of the
// setting's type.
func (st Setting) parse(text string) (any, error) {
	switch st.Default.(type) {
	case bool:
		return strconv.ParseBool(text)
	case int:
		return strconv.Atoi(text)
	case int64:
		return strconv.ParseInt(text, 10, 64)
	case float64:
		return strconv.ParseFloat(text, 64)
	case time.Duration:
		return time.ParseDuration(text)
	}
	return text, nil
}

// InFile reports whether the configuration file can set the setting.
func (st Setting) InFile() bool {
	_, ok := fileField(st.Key)
	return ok
}

// fromFile returns the value the file gives key, if it gives one.
func fromFile(c Config, key string) (any, bool) {
	index, ok := fileField(key)
	if !ok {
		return nil, false
	}
	v := reflect.ValueOf(c).FieldByIndex(index)
	return v.Interface(), !v.IsZero()
}

// fileField is the index of the field of Config whose yaml tags spell
// the dotted key, if there is one.
func fileField(key string) ([]int, bool) {
	t := reflect.TypeOf(Config{})
	var index []int
	for name := range strings.SplitSeq(key, ".") {
		i := -1
		for j := 0; t.Kind() == reflect.Struct && j < t.NumField() && i < 0; j++ {
			if tag, _, _ := strings.Cut(t.Field(j).Tag.Get("yaml"), ","); tag == name {
				i = j
			}
		}
		if i < 0 {
			return nil, false
		}
		index = append(index, i)
		t = t.Field(i).Type
	}
	return index, true
}
