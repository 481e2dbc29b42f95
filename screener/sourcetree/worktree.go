package sourcetree

import (
	"context"
	"fmt"
	"hash/maphash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/secscreen/secscreen/internal/ascii"
)

// maxFileBytes bounds the size of one source file read into the index;
// larger files (generated register headers) are skipped, with a note.
const maxFileBytes = 32 << 20

// worktree is the tree on disk, indexed once on first use: the set of its
// file paths, and the hashes of the identifiers in its code files and in
// its Kconfig files. For the kernel (about 90,000 files, 1.5 GB) the index
// takes a few seconds to build and some tens of MB; every lookup after
// that is a map access.
type worktree struct {
	dir  string
	once sync.Once
	err  error
	idx  *index
}

type index struct {
	files   map[string]struct{}
	code    map[uint64]struct{}
	kconfig map[uint64]struct{}
	skipped []string
}

var seed = maphash.MakeSeed()

func (w *worktree) describe() string { return "the working tree" }

func (w *worktree) load(ctx context.Context) (*index, error) {
	w.once.Do(func() { w.idx, w.err = buildIndex(ctx, w.dir) })
	return w.idx, w.err
}

func (w *worktree) hasFile(ctx context.Context, path string) (bool, error) {
	idx, err := w.load(ctx)
	if err != nil {
		return false, err
	}
	_, ok := idx.files[path]
	return ok, nil
}

func (w *worktree) words(ctx context.Context, names []string, kconfig bool) (map[string]bool, error) {
	idx, err := w.load(ctx)
	if err != nil {
		return nil, err
	}
	set := idx.code
	if kconfig {
		set = idx.kconfig
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		_, out[n] = set[maphash.String(seed, n)]
	}
	return out, nil
}

// buildIndex walks dir, skipping hidden entries (.git) and not following
// symbolic links.
func buildIndex(ctx context.Context, dir string) (*index, error) {
	idx := &index{files: map[string]struct{}{}, code: map[uint64]struct{}{}, kconfig: map[uint64]struct{}{}}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		idx.files[rel] = struct{}{}
		code, kconfig := isCodeFile(rel), isKconfigFile(rel)
		if !code && !kconfig {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > maxFileBytes {
			idx.skipped = append(idx.skipped, rel)
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		set := idx.code
		if kconfig {
			set = idx.kconfig
		}
		addWords(set, data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", dir, err)
	}
	return idx, nil
}

// addWords adds the hash of every identifier in data to set.
func addWords(set map[uint64]struct{}, data []byte) {
	start := -1
	for i := 0; i <= len(data); i++ {
		if i < len(data) && ascii.IsWordByte(data[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if w := data[start:i]; len(w) >= 2 && !isDigit(w[0]) {
				set[maphash.Bytes(seed, w)] = struct{}{}
			}
			start = -1
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
