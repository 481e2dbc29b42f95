package intake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// SinceState remembers, between runs, what incremental inputs held: for a
// public-inbox repository the last commit read in each epoch, for a
// Maildir the unique names of its messages. With Options.Since set, Read
// yields only what arrived after the state was saved: the commits after
// the remembered one, the Maildir messages (in new/ or cur/) whose names
// it had not seen. Other inputs are read whole, and named in Whole.
//
// Read records what it saw into the state; the caller saves it (Save)
// only after every Item was handled, so that a run stopped halfway reads
// the same messages again next time. A SinceState is not safe for
// concurrent use.
type SinceState struct {
	// Version is the file format's version.
	Version int `json:"version"`
	// Saved is when the state was last saved.
	Saved time.Time `json:"saved"`
	// Inputs maps an input's absolute path (a public-inbox epoch's git
	// directory, or a Maildir) to what it held.
	Inputs map[string]*SinceInput `json:"inputs"`

	// Warnings say where the state could not be followed (a rewritten
	// history read whole again), one line each.
	Warnings []string `json:"-"`
	// Whole names the inputs read whole because they are not incremental
	// (an mbox, a plain file, a directory of files).
	Whole []string `json:"-"`

	path string
}

// SinceInput is the state of one input.
type SinceInput struct {
	// Commit is the last commit read of a public-inbox epoch.
	Commit string `json:"commit,omitempty"`
	// Seen are the unique names (without the :2,FLAGS suffix) of the
	// messages of a Maildir, sorted.
	Seen []string `json:"seen,omitempty"`
}

const sinceVersion = 1

// DefaultSinceStatePath is the state file used when none is named:
// $XDG_STATE_HOME/secscreen/since-last.json, or
// ~/.local/state/secscreen/since-last.json without that variable.
func DefaultSinceStatePath() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no home directory for the default state file: %w", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "secscreen", "since-last.json"), nil
}

// LoadSinceState reads the state file at path; a missing file is an empty
// state (the first run reads everything).
func LoadSinceState(path string) (*SinceState, error) {
	s := &SinceState{Version: sinceVersion, Inputs: map[string]*SinceInput{}, path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("state file %s is not a secscreen state (%v); remove it to start over", path, err)
	}
	if s.Version != sinceVersion {
		return nil, fmt.Errorf("state file %s has version %d, want %d; remove it to start over", path, s.Version, sinceVersion)
	}
	if s.Inputs == nil {
		s.Inputs = map[string]*SinceInput{}
	}
	s.path = path
	return s, nil
}

// Save writes the state back to its file, atomically.
func (s *SinceState) Save() error {
	s.Saved = time.Now().UTC()
	data, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	f, err := os.CreateTemp(dir, ".state-*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	_, werr := f.Write(append(data, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(f.Name(), s.path); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// input returns the state of the input at path, creating it.
func (s *SinceState) input(path string) *SinceInput {
	key := absPath(path)
	in := s.Inputs[key]
	if in == nil {
		in = &SinceInput{}
		s.Inputs[key] = in
	}
	return in
}

// seen returns the Maildir names remembered for dir.
func (s *SinceState) seen(dir string) map[string]bool {
	in := s.Inputs[absPath(dir)]
	if in == nil {
		return nil
	}
	m := make(map[string]bool, len(in.Seen))
	for _, k := range in.Seen {
		m[k] = true
	}
	return m
}

// setSeen remembers the names a Maildir holds now.
func (s *SinceState) setSeen(dir string, keys []string) {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	s.input(dir).Seen = slices.Compact(keys)
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
