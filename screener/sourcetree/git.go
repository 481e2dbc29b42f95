package sourcetree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// revision is one commit of a git checkout, read with git itself (ls-tree
// for paths, grep for words) so that nothing is checked out. Answers are
// cached: reports that name the same version share them.
type revision struct {
	dir, commit string

	filesOnce sync.Once
	files     map[string]struct{}
	filesErr  error

	mu    sync.Mutex
	known map[string]bool // "c:" or "k:" + name → found
}

func (r *revision) describe() string { return r.short() }

func (r *revision) short() string {
	if len(r.commit) > 12 {
		return r.commit[:12]
	}
	return r.commit
}

// named is a revision under the name a report gave it, which it describes
// itself by: "v6.8 (1a2b3c4d5e6f)".
type named struct {
	*revision
	name string
}

func (n named) describe() string {
	if n.name == "" || strings.HasPrefix(n.commit, n.name) {
		return n.short()
	}
	return n.name + " (" + n.short() + ")"
}

func (r *revision) hasFile(ctx context.Context, path string) (bool, error) {
	r.filesOnce.Do(func() {
		out, err := runGit(ctx, r.dir, "ls-tree", "-r", "-z", "--name-only", r.commit)
		if err != nil {
			r.filesErr = err
			return
		}
		r.files = map[string]struct{}{}
		for _, p := range bytes.Split(out, []byte{0}) {
			if len(p) > 0 {
				r.files[string(p)] = struct{}{}
			}
		}
	})
	if r.filesErr != nil {
		return false, r.filesErr
	}
	_, ok := r.files[path]
	return ok, nil
}

// codeSpecs and kconfigSpecs are the pathspecs git grep reads ("*" crosses
// slashes in a pathspec).
var (
	codeSpecs    = []string{"*.c", "*.h", "*.S", "*.rs", "*.tbl", "*.lds"}
	kconfigSpecs = []string{"*Kconfig*"}
)

func (r *revision) words(ctx context.Context, names []string, kconfig bool) (map[string]bool, error) {
	prefix, specs := "c:", codeSpecs
	if kconfig {
		prefix, specs = "k:", kconfigSpecs
	}
	out := make(map[string]bool, len(names))
	var ask []string
	r.mu.Lock()
	for _, n := range names {
		if found, ok := r.known[prefix+n]; ok {
			out[n] = found
		} else if !containsString(ask, n) {
			ask = append(ask, n)
		}
	}
	r.mu.Unlock()
	if len(ask) == 0 {
		return out, nil
	}
	// Every name is a validated identifier, passed with -e: none can be
	// read as an option.
	args := []string{"grep", "-h", "-o", "-w", "-I", "-F", "--no-color"}
	for _, n := range ask {
		args = append(args, "-e", n)
	}
	args = append(args, r.commit, "--")
	args = append(args, specs...)
	res, err := runGit(ctx, r.dir, args...)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1: no match
		return nil, err
	}
	found := map[string]bool{}
	for _, line := range strings.Split(string(res), "\n") {
		found[strings.TrimSpace(line)] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.known == nil {
		r.known = map[string]bool{}
	}
	for _, n := range ask {
		out[n] = found[n]
		r.known[prefix+n] = found[n]
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// resolve returns the commit a revision name points to in the checkout at
// dir, or "" when there is none.
func resolve(ctx context.Context, dir, rev string) (string, error) {
	out, err := runGit(ctx, dir, "rev-parse", "-q", "--verify", "--end-of-options", rev+"^{commit}")
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return "", nil // not a revision here
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// runGit runs git in dir with a fixed, quiet environment and returns its
// standard output; a failure's error carries the first line git printed.
func runGit(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir, "-c", "core.quotepath=off"}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "GIT_OPTIONAL_LOCKS=0", "GIT_TERMINAL_PROMPT=0", "GIT_PAGER=cat")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 {
			return out, err // "no match" or "not a revision": the caller decides
		}
		msg, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		return out, fmt.Errorf("git %s: %w: %s", args[0], err, msg)
	}
	return out, nil
}
