package intake

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/emersion/go-maildir"
)

// isMaildir reports whether dir holds cur/ and new/ directories. tmp/ is
// not required: Maildirs kept in git or archives often lose the empty tmp/.
func isMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		fi, err := os.Stat(filepath.Join(dir, sub))
		if err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

// maildirFile is one message file of a Maildir.
type maildirFile struct {
	key, path string
}

// maildir reads the messages of a Maildir in cur/ and new/, sorted by their
// unique key (so a message keeps its index when it moves from new/ to cur/),
// one Item each with Source "dir:N". tmp/ holds unfinished deliveries and is
// skipped, as are dot files and plain files beside cur/ and new/ (index
// files of mail programs). Other subdirectories, such as Maildir++ folders,
// are read in turn. Nothing in the Maildir is modified.
func (rd *reader) maildir(dir string) bool {
	var files []maildirFile
	seen := map[string]bool{}
	// go-maildir lists cur/; its only reader of new/ (Unseen) moves files
	// to cur/, so new/ and any cur/ entry it rejects for a non-standard
	// name are listed directly. Walk's error only names such rejects.
	_ = maildir.Dir(dir).Walk(func(m *maildir.Message) error {
		files = append(files, maildirFile{key: m.Key(), path: m.Filename()})
		seen[m.Filename()] = true
		return nil
	})
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			if !rd.fail(dir, fmt.Errorf("read Maildir: %w", err)) {
				return false
			}
			continue
		}
		for _, e := range entries {
			p := filepath.Join(dir, sub, e.Name())
			if strings.HasPrefix(e.Name(), ".") || seen[p] {
				continue
			}
			key, _, _ := strings.Cut(e.Name(), ":")
			files = append(files, maildirFile{key: key, path: p})
		}
	}
	slices.SortFunc(files, func(a, b maildirFile) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.path, b.path))
	})
	var keys []string
	if rd.since != nil {
		// Only the messages not seen last time; all of them are seen now.
		seen := rd.since.seen(dir)
		keys = make([]string, len(files))
		fresh := files[:0:0]
		for i, f := range files {
			keys[i] = f.key
			if !seen[f.key] {
				fresh = append(fresh, f)
			}
		}
		files = fresh
	}
	for _, f := range files {
		if !rd.alive() {
			return false
		}
		// The source names the message's file, so that an error row can
		// be traced to it.
		if !rd.maildirMessage(f.path, f.path) {
			return false
		}
	}

	if rd.since != nil {
		rd.since.setSeen(dir, keys)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		return rd.fail(dir, fmt.Errorf("read Maildir: %w", err))
	}
	for _, e := range entries {
		switch e.Name() {
		case "cur", "new", "tmp":
			continue
		}
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		ok := true
		if isMaildir(p) {
			ok = rd.maildir(p)
		} else {
			ok = rd.walk(p)
		}
		if !ok {
			return false
		}
	}
	return true
}

// maildirMessage reads one Maildir message file as an email.
func (rd *reader) maildirMessage(src, path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return rd.fail(src, fmt.Errorf("read Maildir message: %w", err))
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return rd.fail(src, fmt.Errorf("the Maildir entry %s is a directory", path))
	}
	return rd.stream(src, f, FormatMaildir, false)
}

// maildirID is the stable id of a Maildir message file without a
// Message-ID: the Maildir and the file's unique name, without the cur/ or
// new/ directory and the ":2,FLAGS" suffix, which change as the message is
// read and flagged.
func maildirID(path string) string {
	sub := filepath.Dir(path)
	key, _, _ := strings.Cut(filepath.Base(path), ":")
	return filepath.Join(filepath.Dir(sub), key)
}
