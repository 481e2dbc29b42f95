package intake

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A public-inbox repository keeps one message per commit, in a file named
// "m" at the top of the commit's tree; a later commit that removes a
// message (spam, a purge) deletes "m". lore.kernel.org's mirrors, cloned
// with grokmirror or `git clone --mirror`, come in two layouts:
//
//   - v1: one git repository (usually bare) for the whole inbox;
//   - v2: a directory whose git/ holds one bare repository per epoch,
//     git/0.git, git/1.git, ..., read in that order.
//
// A non-bare clone (a work tree with .git beside a file "m") is read as
// v1 too. Messages are read from each epoch's history, oldest first,
// following first parents, with the git command (which must be on PATH).

// isGitDir reports whether dir is a git directory (a bare repository).
func isGitDir(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "HEAD"))
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	for _, sub := range []string{"objects", "refs"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// publicInboxEpochs returns the git directories of a public-inbox at dir
// in reading order, or nil when dir is not one.
func publicInboxEpochs(dir string) []string {
	if entries, err := os.ReadDir(filepath.Join(dir, "git")); err == nil {
		type epoch struct {
			n    int
			path string
		}
		var eps []epoch
		for _, e := range entries {
			num, ok := strings.CutSuffix(e.Name(), ".git")
			n, err := strconv.Atoi(num)
			p := filepath.Join(dir, "git", e.Name())
			if ok && err == nil && n >= 0 && isGitDir(p) {
				eps = append(eps, epoch{n, p})
			}
		}
		if len(eps) > 0 {
			slices.SortFunc(eps, func(a, b epoch) int { return a.n - b.n })
			out := make([]string, len(eps))
			for i, e := range eps {
				out[i] = e.path
			}
			return out
		}
	}
	if isGitDir(dir) {
		return []string{dir}
	}
	if fi, err := os.Stat(filepath.Join(dir, "m")); err == nil && fi.Mode().IsRegular() {
		if isGitDir(filepath.Join(dir, ".git")) {
			return []string{filepath.Join(dir, ".git")}
		}
	}
	return nil
}

// publicInbox reads the messages of the public-inbox at dir.
func (rd *reader) publicInbox(dir string, epochs []string) bool {
	if _, err := exec.LookPath("git"); err != nil {
		return rd.fail(dir, errors.New("a public-inbox repository is read with git, which is not on PATH"))
	}
	for _, ep := range epochs {
		if !rd.epoch(ep) {
			return false
		}
	}
	return true
}

// epoch reads one public-inbox git repository: the commits since the
// state's last one (all of them without Options.Since), oldest first.
func (rd *reader) epoch(gitDir string) bool {
	head, err := gitOutput(rd.ctx, gitDir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	if err != nil {
		// An epoch with no commit yet holds no message.
		if _, e2 := gitOutput(rd.ctx, gitDir, "rev-parse", "--git-dir"); e2 == nil {
			return true
		}
		return rd.fail(gitDir, fmt.Errorf("not a readable git repository: %w", err))
	}
	rangeArg := head
	var state *SinceInput
	if rd.since != nil {
		state = rd.since.input(gitDir)
		if last := state.Commit; last != "" {
			switch {
			case last == head:
				return true // nothing new
			case isAncestor(rd.ctx, gitDir, last, head):
				rangeArg = last + ".." + head
			default:
				rd.since.Warnings = append(rd.since.Warnings, fmt.Sprintf(
					"%s: the commit read last time (%.12s) is not in the history any more (rewritten or purged); reading it all again", gitDir, last))
			}
		}
	}
	if !rd.commits(gitDir, rangeArg) {
		return false
	}
	if state != nil && rd.ctx.Err() == nil {
		state.Commit = head
	}
	return true
}

// commits reads the message of every commit in rangeArg, oldest first,
// but for the messages a later commit of the range removed (see
// removedBlobs).
func (rd *reader) commits(gitDir, rangeArg string) bool {
	ctx, cancel := context.WithCancel(rd.ctx)
	defer cancel()
	removed, err := removedBlobs(ctx, gitDir, rangeArg)
	if err != nil {
		return rd.fail(gitDir, err)
	}
	list := exec.CommandContext(ctx, "git", "--git-dir", gitDir, "rev-list", "--reverse", "--first-parent", rangeArg)
	list.Env = gitEnv()
	listOut, err := list.StdoutPipe()
	if err != nil {
		return rd.fail(gitDir, fmt.Errorf("git rev-list: %w", err))
	}
	var listErr bytes.Buffer
	list.Stderr = &listErr
	if err := list.Start(); err != nil {
		return rd.fail(gitDir, fmt.Errorf("git rev-list: %w", err))
	}
	defer func() { _ = list.Wait() }() // a second Wait only reports that the first ran

	cat := exec.CommandContext(ctx, "git", "--git-dir", gitDir, "cat-file", "--batch")
	cat.Env = gitEnv()
	catIn, err := cat.StdinPipe()
	if err != nil {
		return rd.fail(gitDir, fmt.Errorf("git cat-file: %w", err))
	}
	catOutPipe, err := cat.StdoutPipe()
	if err != nil {
		return rd.fail(gitDir, fmt.Errorf("git cat-file: %w", err))
	}
	if err := cat.Start(); err != nil {
		return rd.fail(gitDir, fmt.Errorf("git cat-file: %w", err))
	}
	defer func() {
		catIn.Close()
		cancel()
		_ = cat.Wait()
	}()
	catOut := bufio.NewReaderSize(catOutPipe, 64<<10)
	commits := bufio.NewScanner(listOut)
	for commits.Scan() {
		if !rd.alive() {
			return false
		}
		commit := strings.TrimSpace(commits.Text())
		if commit == "" {
			continue
		}
		src := gitDir + "@" + commit[:min(12, len(commit))]
		if _, err := io.WriteString(catIn, commit+":m\n"); err != nil {
			return rd.fail(src, fmt.Errorf("git cat-file: %w", err))
		}
		oid, data, found, err := readBlob(catOut, rd.lim.MaxMessageBytes)
		switch {
		case err != nil && !isLimit(err):
			return rd.fail(src, fmt.Errorf("git cat-file: %w", err))
		case !found:
			continue // a commit that removed a message
		case removed[oid]:
			continue // removed later: spam, or purged
		case err != nil:
			if !rd.fail(src, err) {
				return false
			}
			continue
		}
		if !rd.message(src, data, FormatPublicInbox, false) {
			return false
		}
	}
	if err := commits.Err(); err != nil && rd.alive() {
		return rd.fail(gitDir, fmt.Errorf("git rev-list: %w", err))
	}
	if err := list.Wait(); err != nil && rd.alive() {
		return rd.fail(gitDir, fmt.Errorf("git rev-list %s: %v: %s", rangeArg, err, strings.TrimSpace(listErr.String())))
	}
	return true
}

func isLimit(err error) bool {
	var le *LimitError
	return errors.As(err, &le)
}

// readBlob reads one answer of git cat-file --batch: the object's id and
// content, found false for a missing one, or a *LimitError (the content
// skipped) when it is over max bytes.
func readBlob(r *bufio.Reader, max int64) (oid string, data []byte, found bool, err error) {
	header, err := r.ReadString('\n')
	if err != nil {
		return "", nil, false, err
	}
	fields := strings.Fields(header)
	if len(fields) == 2 && fields[1] == "missing" {
		return "", nil, false, nil
	}
	if len(fields) != 3 {
		return "", nil, false, fmt.Errorf("unexpected answer %q", strings.TrimSpace(header))
	}
	size, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil || size < 0 {
		return "", nil, false, fmt.Errorf("unexpected answer %q", strings.TrimSpace(header))
	}
	if fields[1] != "blob" || size > max {
		if _, err := r.Discard(int(size) + 1); err != nil {
			return "", nil, false, err
		}
		if fields[1] != "blob" {
			return "", nil, false, nil // "m" is a directory: not a message
		}
		return fields[0], nil, true, &LimitError{Limit: "MaxMessageBytes", Max: max, Size: size}
	}
	data = make([]byte, size+1)
	if _, err := io.ReadFull(r, data); err != nil {
		return "", nil, false, err
	}
	return fields[0], data[:size], true, nil
}

// removedBlobs returns the messages (blob ids) that commits of rangeArg
// remove, as public-inbox removes spam: a commit whose tree holds "d",
// the removed message, instead of "m" (v2), or that deletes "m". Reading
// the range's history once (one short line per file a commit changes) is
// what it costs; the set holds only the removed messages.
func removedBlobs(ctx context.Context, gitDir, rangeArg string) (map[string]bool, error) {
	cmd := exec.CommandContext(ctx, "git", "--git-dir", gitDir, "log", "--first-parent", "--no-renames", "--no-abbrev",
		"--raw", "--format=commit %H", rangeArg, "--", "m", "d")
	cmd.Env = gitEnv()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("git log: %w", err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("git log: %w", err)
	}
	removed := map[string]bool{}
	// Per commit: the "d" it adds names the removed message; without one,
	// the "m" it deletes is. (A v2 removal deletes "m" too, but that "m"
	// was the message before, not the one removed.)
	var dBlob, mGone string
	flush := func() {
		if dBlob != "" {
			removed[dBlob] = true
		} else if mGone != "" {
			removed[mGone] = true
		}
		dBlob, mGone = "", ""
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, ":") {
			flush() // the next commit's line
			continue
		}
		// ":100644 000000 OLD NEW D\tm", ":000000 100644 OLD NEW A\td"
		meta, path, ok := strings.Cut(line, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 5 {
			continue
		}
		switch {
		case path == "m" && f[4] == "D":
			mGone = f[2]
		case path == "d" && (f[4] == "A" || f[4] == "M"):
			dBlob = f[3]
		}
	}
	flush()
	scanErr := sc.Err()
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("git log %s: %w: %s", rangeArg, err, strings.TrimSpace(stderr.String()))
	}
	if scanErr != nil {
		return nil, fmt.Errorf("git log: %w", scanErr)
	}
	return removed, nil
}

// isAncestor reports whether commit a is an ancestor of b.
func isAncestor(ctx context.Context, gitDir, a, b string) bool {
	cmd := exec.CommandContext(ctx, "git", "--git-dir", gitDir, "merge-base", "--is-ancestor", a, b)
	cmd.Env = gitEnv()
	return cmd.Run() == nil
}

func gitOutput(ctx context.Context, gitDir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"--git-dir", gitDir}, args...)...)
	cmd.Env = gitEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", fmt.Errorf("%w: %s", err, msg)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// gitEnv is the environment git runs with: the user's, without hooks or
// configuration that could make reading a repository do anything else,
// and without a pager or prompts.
func gitEnv() []string {
	return append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_PAGER=cat", "GIT_OPTIONAL_LOCKS=0")
}
