// Package sourcetree checks the code a report cites against a kernel
// source tree: the files, functions, CONFIG_ options and syscalls it
// names. A report that cites code the tree does not have is evidence for
// the threat model's invalid.nonexistent ("cited code does not exist"), a
// common sign of an unverified, tool-written report.
//
// The tree is a directory (--source DIR). When it is a git checkout and
// the report names the kernel it was tested on (a version such as 6.8.2 or
// v6.9-rc3, or a "base-commit:" line as git format-patch --base and b4
// write), the identifiers are looked up at that revision (the tag v6.8.2,
// else the series' tag v6.8), read with git itself, with nothing checked
// out; otherwise in the working tree. An identifier counts as found when
// any revision read has it.
//
// The check is deliberately lenient, so that "missing" means missing: a
// function or syscall is found when its name occurs as a whole word in any
// C, assembler, Rust or syscall-table file; a CONFIG_FOO option when FOO
// occurs in a Kconfig file or CONFIG_FOO in code; a file when that exact
// path exists. A reproducer's own helper functions (defined in the report)
// and names macros generate (trace_*, __x64_sys_*, ...) are not looked
// up, or are looked up as what they stand for.
package sourcetree

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/secscreen/secscreen/internal/lazyre"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
)

// Tree is a kernel source tree. It is safe for concurrent use.
type Tree struct {
	dir  string
	git  bool
	work *worktree

	mu   sync.Mutex
	revs map[string]*revision // by commit
	// names maps a revision name to its commit ("" when it resolves to
	// none), so that each name is resolved once.
	names map[string]string
}

// Open returns the tree at dir. A directory holding .git is read as a git
// checkout when git is installed.
func Open(dir string) (*Tree, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("source tree: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("source tree: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("source tree: %s is not a directory", dir)
	}
	t := &Tree{dir: abs, work: &worktree{dir: abs}, revs: map[string]*revision{}, names: map[string]string{}}
	if _, err := os.Stat(filepath.Join(abs, ".git")); err == nil {
		if _, err := runGit(context.Background(), abs, "rev-parse", "--git-dir"); err == nil {
			t.git = true
		}
	}
	return t, nil
}

// Dir is the tree's absolute path.
func (t *Tree) Dir() string { return t.dir }

// Check is what a tree says about the code one report cites.
type Check struct {
	// Tree is the directory read.
	Tree string `json:"tree"`
	// At names what was read: "the working tree", or revisions such as
	// "v6.8 (1a2b3c4d5e6f)".
	At []string `json:"at"`
	// Cited lists every identifier looked up, found or not.
	Cited []Citation `json:"cited"`
	// Missing lists the cited identifiers the tree does not have.
	Missing []Citation `json:"missing"`
	// Notes say what the check had to work around: versions that are not
	// in the checkout, citations left out over MaxCitations.
	Notes []string `json:"notes,omitempty"`
}

// Confidence in [0, 0.9] says how strongly the missing citations show that
// the report cites code that does not exist: a missing file or syscall
// weighs 0.4, a missing function or option 0.25, summed and capped at 0.9,
// then scaled by the share of citations missing (half counts for nothing
// missing, all of it for everything missing). Zero when nothing is
// missing. One missing function among five cited gives 0.15; a missing
// file and function among three cited, 0.54.
func (c *Check) Confidence() float64 {
	if c == nil || len(c.Missing) == 0 || len(c.Cited) == 0 {
		return 0
	}
	w := 0.0
	for _, m := range c.Missing {
		switch m.Kind {
		case KindFile, KindSyscall:
			w += 0.4
		default:
			w += 0.25
		}
	}
	share := float64(len(c.Missing)) / float64(len(c.Cited))
	conf := min(w, 0.9) * (0.5 + 0.5*share)
	return float64(int(conf*1000+0.5)) / 1000
}

// MissingText lists the missing citations for a person, e.g.
// "net/foo/bar.c, tcp_frobnicate()".
func (c *Check) MissingText() string {
	if c == nil {
		return ""
	}
	parts := make([]string, len(c.Missing))
	for i, m := range c.Missing {
		parts[i] = m.String()
	}
	return strings.Join(parts, ", ")
}

// CheckReport looks up what r cites (see Cite; f is the rules' facts of r)
// in the tree. A report that cites nothing checkable gets a Check with no
// citations.
func (t *Tree) CheckReport(ctx context.Context, r *intake.Report, f *rules.Facts) (*Check, error) {
	cited, all := Cite(r, f)
	c := &Check{Tree: t.dir, Cited: cited, Missing: []Citation{}}
	if !all {
		c.Notes = append(c.Notes, fmt.Sprintf("the report cites more than %d identifiers; the first %d were checked", MaxCitations, MaxCitations))
	}
	if len(cited) == 0 {
		return c, nil
	}
	snaps, notes, err := t.snapshots(ctx, r, f)
	if err != nil {
		return nil, err
	}
	c.Notes = append(c.Notes, notes...)
	for _, s := range snaps {
		if err := lookup(ctx, s, c.Cited); err != nil {
			return nil, fmt.Errorf("source tree %s at %s: %w", t.dir, s.describe(), err)
		}
		c.At = append(c.At, s.describe())
	}
	for _, x := range c.Cited {
		if !x.Found {
			c.Missing = append(c.Missing, x)
		}
	}
	return c, nil
}

// maxRevisions bounds the revisions read for one report.
const maxRevisions = 3

// snapshots picks what to read for r: the revisions it names, when the
// tree is a git checkout that has them, else the working tree.
func (t *Tree) snapshots(ctx context.Context, r *intake.Report, f *rules.Facts) ([]snapshot, []string, error) {
	if !t.git {
		return []snapshot{t.work}, nil, nil
	}
	var snaps []snapshot
	var notes, unresolved []string
	seen := map[string]bool{}
	for _, want := range Revisions(r, f) {
		if len(snaps) == maxRevisions {
			break
		}
		var got *revision
		var gotName string
		for _, name := range want.Names {
			rev, err := t.revision(ctx, name)
			if err != nil {
				return nil, nil, err
			}
			if rev != nil {
				got, gotName = rev, name
				if name != want.Names[0] {
					notes = append(notes, fmt.Sprintf("%s is not in the checkout; read %s instead", want.Names[0], name))
				}
				break
			}
		}
		switch {
		case got == nil:
			unresolved = append(unresolved, want.From)
		case !seen[got.commit]:
			seen[got.commit] = true
			snaps = append(snaps, named{got, gotName})
		}
	}
	if len(snaps) == 0 {
		if len(unresolved) > 0 {
			notes = append(notes, fmt.Sprintf("no revision for %s in the checkout; read the working tree", strings.Join(unresolved, ", ")))
		}
		return []snapshot{t.work}, notes, nil
	}
	return snaps, notes, nil
}

// revision returns the revision a name resolves to, or nil.
func (t *Tree) revision(ctx context.Context, name string) (*revision, error) {
	t.mu.Lock()
	commit, known := t.names[name]
	t.mu.Unlock()
	if !known {
		var err error
		if commit, err = resolve(ctx, t.dir, name); err != nil {
			return nil, err
		}
		t.mu.Lock()
		t.names[name] = commit
		t.mu.Unlock()
	}
	if commit == "" {
		return nil, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	rev, ok := t.revs[commit]
	if !ok {
		rev = &revision{dir: t.dir, commit: commit}
		t.revs[commit] = rev
	}
	return rev, nil
}

// Wanted is a revision a report names, with the git names to try in order.
type Wanted struct {
	// From is what the report wrote: "6.8.2", "base-commit 1a2b3c4d".
	From string
	// Names are git revision names: "v6.8.2", then "v6.8".
	Names []string
}

var (
	reBaseCommit = lazyre.New(`(?m)^base-commit:[ \t]*([0-9a-f]{7,40})[ \t]*$`)
	reKernelVer  = lazyre.New(`^(?:v|linux-)?(\d{1,2})\.(\d{1,2})(?:\.(\d{1,3}))?(-rc\d{1,2})?`)
)

// Revisions lists the revisions r names, in order: its base-commit lines
// (git format-patch --base, b4), then the kernel versions the rules found
// (vendor versions left out: their source is the vendor's). A version
// x.y.z is tried as the tag vx.y.z, then as the series' tag vx.y; x.y.0 is
// vx.y.
func Revisions(r *intake.Report, f *rules.Facts) []Wanted {
	var out []Wanted
	for _, p := range r.Parts() {
		for _, m := range reBaseCommit.FindAllStringSubmatch(p.Text, 4) {
			out = append(out, Wanted{From: "base-commit " + m[1], Names: []string{m[1]}})
		}
	}
	for _, v := range f.Versions {
		if v.Vendor {
			continue
		}
		m := reKernelVer.FindStringSubmatch(v.Text)
		if m == nil {
			continue
		}
		series := "v" + m[1] + "." + m[2]
		var names []string
		switch {
		case m[4] != "":
			names = []string{series + m[4]}
		case m[3] != "" && m[3] != "0":
			n, _ := strconv.Atoi(m[3])
			names = []string{series + "." + strconv.Itoa(n), series}
		default:
			names = []string{series}
		}
		out = append(out, Wanted{From: v.Text, Names: names})
	}
	return out
}
