// Package config reads secscreen's optional YAML configuration file.
//
// The file holds defaults for the command-line flags: which backend and
// model to use, where the server is, how hard to push it, where to cache,
// what the models cost. The CLI applies the precedence
// flags > environment > file, so every field here is optional and a zero
// value means "not set".
//
// Secrets never live in the file. A key such as api_key is refused; the
// file names the environment variable that holds the key instead:
//
//	backend: openai
//	model: gpt-4o-mini
//	api_key_env: OPENROUTER_API_KEY
//	base_url: https://openrouter.ai/api/v1
//	timeout: 90s
//	concurrency: 4
//	rps: 2
//	cache: readwrite        # or offline, off
//	limits:
//	  message_bytes: 10485760
//	  attachment_bytes: 2097152
//	  body_chars: 60000
//	prices:
//	  gpt-4o-mini: {prompt_per_1m: 0.15, completion_per_1m: 0.60}
//	prompt: screen@v1
//
// Load it with:
//
//	cfg, err := config.Load("") // the default path; a missing file is fine
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/secscreen/secscreen/internal/enum"
	"github.com/secscreen/secscreen/internal/lazyre"
	"github.com/secscreen/secscreen/screener/backend"
)

// Config is the content of a configuration file. Zero fields are unset.
type Config struct {
	// Backend is "auto", "openai", "ollama", "baseline" or "rules".
	Backend string `yaml:"backend"`
	// Model is the model name for the chosen backend.
	Model string `yaml:"model"`
	// BaseURL is an OpenAI-compatible server's API root.
	BaseURL string `yaml:"base_url"`
	// APIKeyEnv names the environment variable holding the API key
	// (OPENAI_API_KEY when unset).
	APIKeyEnv string `yaml:"api_key_env"`
	// OllamaHost is the Ollama server, overriding OLLAMA_HOST.
	OllamaHost string `yaml:"ollama_host"`
	// Timeout bounds one model call ("90s", "2m").
	Timeout time.Duration `yaml:"timeout"`
	// Concurrency is how many reports are screened at once.
	Concurrency int `yaml:"concurrency"`
	// RPS caps model calls per second; Burst allows short bursts above it.
	RPS   float64 `yaml:"rps"`
	Burst int     `yaml:"burst"`
	// CacheDir is the reply cache directory.
	CacheDir string `yaml:"cache_dir"`
	// Cache is the cache mode: "readwrite", "offline" or "off".
	Cache string `yaml:"cache"`
	// Limits bound what intake reads.
	Limits Limits `yaml:"limits"`
	// Prices maps model names to their price per million tokens.
	Prices backend.PriceTable `yaml:"prices"`
	// Prompt is the prompt template, "name@version".
	Prompt string `yaml:"prompt"`
}

// Limits bound the size of what secscreen reads and sends.
type Limits struct {
	// MessageBytes caps one raw message.
	MessageBytes int64 `yaml:"message_bytes"`
	// AttachmentBytes caps one decoded attachment.
	AttachmentBytes int64 `yaml:"attachment_bytes"`
	// BodyChars caps the report text put into a prompt.
	BodyChars int `yaml:"body_chars"`
}

// Backends lists the accepted values of Config.Backend.
var Backends = []string{"auto", "openai", "ollama", "baseline", "rules"}

// backends parses backend names, exactly as Backends spells them.
var backends = enum.Set[string]{What: "backend", Values: Backends}

// ParseBackend returns the backend s names (one of Backends), or an error
// listing them: unknown backend "gpt" (want one of auto, openai, ...).
func ParseBackend(s string) (string, error) { return backends.Parse(s) }

// DefaultPath is os.UserConfigDir()/secscreen/config.yaml, i.e.
// $XDG_CONFIG_HOME/secscreen/config.yaml or ~/.config/secscreen/config.yaml
// on Linux.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config: finding the user config directory: %w", err)
	}
	return filepath.Join(dir, "secscreen", "config.yaml"), nil
}

// Load reads the configuration file at path. An empty path means
// DefaultPath, and then a missing file yields an empty Config and no error;
// a file named explicitly must exist. Unknown keys, values of the wrong
// type, and anything that looks like a literal secret are errors that name
// the file and line.
func Load(path string) (Config, error) {
	optional := path == ""
	if optional {
		p, err := DefaultPath()
		if err != nil {
			return Config{}, err
		}
		path = p
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return Config{}, nil
		}
		return Config{}, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		var le *LineError
		if errors.As(err, &le) {
			le.File = path
		}
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

// LineError is a mistake at a line of a configuration file.
type LineError struct {
	// File is the file's path ("" when parsing bytes).
	File string
	// Line is the 1-based line number (0 when unknown).
	Line int
	// Msg says what is wrong.
	Msg string
}

// Error reads "file:line: msg", the form editors jump to.
func (e *LineError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

func lineError(line int, msg string) error { return &LineError{Line: line, Msg: msg} }

// Parse reads configuration YAML; see Load. Its errors are *LineError.
func Parse(data []byte) (Config, error) {
	var cfg Config
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return cfg, lineError(yamlErrLine(err), oneLine(err))
	}
	if len(root.Content) == 0 {
		return cfg, nil // empty file
	}
	doc := root.Content[0]
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		return cfg, nil // only comments
	}
	if doc.Kind != yaml.MappingNode {
		return cfg, lineError(doc.Line, "the file must be a mapping of keys to values")
	}
	if err := checkKeys(doc, reflect.TypeOf(cfg), ""); err != nil {
		return cfg, err
	}
	if err := doc.Decode(&cfg); err != nil {
		return cfg, lineError(yamlErrLine(err), oneLine(err))
	}
	if err := cfg.validate(doc); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// secretKey matches key names that would hold a credential itself.
var secretKey = lazyre.New(`(?i)(^|_)(api_?key|key|token|secret|password|passwd|bearer)$`)

// checkKeys walks a mapping against the yaml tags of struct type t,
// refusing unknown keys and literal secrets. prefix is the dotted path.
func checkKeys(n *yaml.Node, t reflect.Type, prefix string) error {
	known := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "" && name != "-" {
			known[name] = f.Type
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		full := prefix + k.Value
		if secretKey.MatchString(k.Value) {
			return lineError(k.Line, fmt.Sprintf(
				"%q would hold a secret, and secrets do not belong in a config file; put the key in an environment variable and set api_key_env to its name", full))
		}
		ft, ok := known[k.Value]
		if !ok {
			names := make([]string, 0, len(known))
			for name := range known {
				names = append(names, name)
			}
			sort.Strings(names)
			return lineError(k.Line, fmt.Sprintf("unknown key %q (known: %s)", full, strings.Join(names, ", ")))
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)) && v.Kind == yaml.MappingNode {
			if err := checkKeys(v, ft, full+"."); err != nil {
				return err
			}
		}
		if ft == reflect.TypeOf(backend.PriceTable(nil)) && v.Kind == yaml.MappingNode {
			for j := 1; j < len(v.Content); j += 2 {
				if v.Content[j].Kind == yaml.MappingNode {
					if err := checkKeys(v.Content[j], reflect.TypeOf(backend.Price{}), full+"."+v.Content[j-1].Value+"."); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// envName is what an environment variable's name looks like.
var envName = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validate checks values that decode fine but make no sense.
func (c *Config) validate(doc *yaml.Node) error {
	line := func(key string) int {
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == key {
				return doc.Content[i].Line
			}
		}
		return doc.Line
	}
	if c.Backend != "" {
		b, err := ParseBackend(c.Backend)
		if err != nil {
			return lineError(line("backend"), err.Error())
		}
		c.Backend = b
	}
	if c.APIKeyEnv != "" && !envName.MatchString(c.APIKeyEnv) {
		return lineError(line("api_key_env"), "api_key_env must be the NAME of an environment variable (like OPENAI_API_KEY), not a key")
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		return lineError(line("base_url"), fmt.Sprintf("base_url %q must start with http:// or https://", c.BaseURL))
	}
	if c.Cache != "" {
		if _, err := backend.ParseCacheMode(c.Cache); err != nil {
			return lineError(line("cache"), err.Error())
		}
	}
	for _, n := range []struct {
		key string
		bad bool
	}{
		{"timeout", c.Timeout < 0},
		{"concurrency", c.Concurrency < 0},
		{"rps", c.RPS < 0},
		{"burst", c.Burst < 0},
		{"limits", c.Limits.MessageBytes < 0 || c.Limits.AttachmentBytes < 0 || c.Limits.BodyChars < 0},
	} {
		if n.bad {
			return lineError(line(n.key), n.key+" must not be negative")
		}
	}
	for model, p := range c.Prices {
		if p.PromptPer1M < 0 || p.CompletionPer1M < 0 {
			return lineError(line("prices"), fmt.Sprintf("price of %q must not be negative", model))
		}
	}
	return nil
}

// lineRe finds the line number yaml puts in its messages.
var lineRe = lazyre.New(`line (\d+)`)

func yamlErrLine(err error) int {
	var n int
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		fmt.Sscan(m[1], &n)
	}
	return n
}

// oneLine flattens yaml's messages, which may span lines, into one line
// without the "yaml:" and "line N:" parts, since lineError carries the line.
func oneLine(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:")
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if loc := linePrefix.FindStringIndex(l); loc != nil {
			l = l[loc[1]:]
		}
		if l != "" {
			parts = append(parts, l)
		}
	}
	msg := strings.Join(parts, "; ")
	if strings.Contains(msg, "time.Duration") {
		msg += " (write a duration such as 90s or 2m)"
	}
	return msg
}

var linePrefix = lazyre.New(`^line \d+: `)
