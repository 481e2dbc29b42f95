package corpus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/secscreen/secscreen/screener/intake"
)

// LabeledReport is a corpus label with the report read from its file, or
// the error that kept the file from yielding exactly one report.
type LabeledReport struct {
	// Label is the corpus label; Report the report read (nil on error).
	Label  Label
	Report *intake.Report
	Err    error
}

// ReadReports reads the report file of every label, in label order. Each
// report's ID is set to its label's id, so that results carry the corpus's
// ids. An mbox holding several messages is one thread, folded into one
// report by intake.JoinThread. A file that yields no report, that cannot be
// read, or whose path (symbolic links resolved) leads outside the corpus
// directory gets Err naming its label instead: every reader of a corpus
// (eval, train, --shots) goes through here, so no label can make secscreen
// read, or send to a model, a file the user did not point at.
func (c *Corpus) ReadReports(ctx context.Context, opt intake.Options) ([]LabeledReport, error) {
	root, err := realRoot(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	seen := map[string]bool{}
	for _, l := range c.Labels {
		if seen[l.ID] {
			return nil, fmt.Errorf("corpus %s: duplicate id %q (run `secscreen corpus check`)", c.Dir, l.ID)
		}
		seen[l.ID] = true
	}
	// The files are read and decoded on every CPU: a warm eval spent a
	// tenth of its time here, on one. Each result goes to its label's
	// place, so the order is the labels' whatever the scheduling.
	out := make([]LabeledReport, len(c.Labels))
	next := make(chan int)
	var wg sync.WaitGroup
	dirs := &realDirs{}
	for range min(runtime.GOMAXPROCS(0), len(c.Labels)) {
		wg.Go(func() {
			for i := range next {
				out[i] = readLabel(ctx, root, dirs, c.Labels[i], opt)
			}
		})
	}
	for i := range c.Labels {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	return out, nil
}

// readLabel reads the report file of one label (see ReadReports).
func readLabel(ctx context.Context, root string, dirs *realDirs, l Label, opt intake.Options) LabeledReport {
	out := LabeledReport{Label: l}
	path, problem := dirs.labelPath(root, l)
	if problem != nil {
		out.Err = fmt.Errorf("label %q: %s", l.ID, problem.msg)
		return out
	}
	var reports []*intake.Report
	var errs []error
	for it := range intake.Read(ctx, []string{path}, opt) {
		if it.Err != nil {
			errs = append(errs, it.Err)
		} else if it.Report != nil {
			reports = append(reports, it.Report)
		}
	}
	switch {
	case len(errs) > 0:
		out.Err = fmt.Errorf("read %s: %w", l.File, errors.Join(errs...))
	case len(reports) == 0:
		out.Err = fmt.Errorf("read %s: no report found", l.File)
	default:
		joined, err := intake.JoinThread(reports)
		if err != nil {
			out.Err = fmt.Errorf("read %s: %w", l.File, err)
			return out
		}
		r := *joined
		r.ID = l.ID
		out.Report = &r
	}
	return out
}

// labelPath returns the real path of a label's file, or the problem that
// keeps it from being read: a path that climbs out of the corpus directory,
// a symbolic link that leads out of it, or no regular file there. It is
// resolveInside's answer, with the directories' links resolved once.
func (d *realDirs) labelPath(root string, l Label) (string, *fileProblem) {
	rel, ok := localPath(l.File)
	if !ok {
		return "", &fileProblem{OutsideDir, fmt.Sprintf("file %q is not inside the corpus directory", l.File)}
	}
	full := filepath.Join(root, filepath.FromSlash(rel))
	dir, base := filepath.Split(full)
	if realDir, ok := d.eval(dir); ok {
		// Not a link itself, the file is where its directory really is.
		if st, err := os.Lstat(full); err == nil && st.Mode().IsRegular() {
			real := filepath.Join(realDir, base)
			if inside, err := filepath.Rel(root, real); err == nil && filepath.IsLocal(inside) {
				return real, nil
			}
		}
	}
	// A link, or a problem: resolveInside follows it or says what it is.
	return resolveInside(root, rel)
}

// realDirs remembers the real location of the directories that hold a
// corpus's reports (filepath.EvalSymlinks), while ReadReports reads them:
// resolving each file's whole path looked at every directory from the
// root down for every report, a fifth of reading the corpus.
type realDirs struct {
	mu   sync.Mutex
	real map[string]string // "" when the directory does not resolve
}

// eval returns the real location of dir, and false when it has none.
func (d *realDirs) eval(dir string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	real, ok := d.real[dir]
	if !ok {
		var err error
		if real, err = filepath.EvalSymlinks(dir); err != nil {
			real = ""
		}
		if d.real == nil {
			d.real = map[string]string{}
		}
		d.real[dir] = real
	}
	return real, real != ""
}
