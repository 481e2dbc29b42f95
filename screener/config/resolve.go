package config

import (
	"errors"
	"fmt"
	"os"

	"github.com/secscreen/secscreen/screener/backend"
)

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

	s.Prices = file.Prices
	var errs []error
	for _, st := range table {
		if st.field == nil {
			continue // --config, --offline, --no-cache: below
		}
		if v, ok := fromFile(file, st.Key); ok {
			errs = append(errs, s.set(st, v, Source{Kind: FromFile, Name: st.Key, File: path}))
		}
		if st.Env != "" {
			if text := getenv(st.Env); text != "" {
				src := Source{Kind: FromEnv, Name: st.Env}
				if v, err := st.parse(text); err != nil {
					errs = append(errs, &Error{Source: src, Err: err})
				} else {
					errs = append(errs, s.set(st, v, src))
				}
			}
		}
		// An empty string flag means "not set", as an empty variable
		// does: --backend "" is the default.
		if v, ok := in.Flags[st.Flag]; ok && st.Flag != "" && v != "" {
			errs = append(errs, s.set(st, v, Source{Kind: FromFlag, Name: st.Flag}))
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

// set stores v, a value of st from src, and records src.
func (s *Settings) set(st Setting, v any, src Source) error {
	if err := st.assign(s, v); err != nil {
		return &Error{Source: src, Err: err}
	}
	s.sources[st.Key] = src
	return nil
}
