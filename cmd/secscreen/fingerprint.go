package main

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
)

// cacheRoot is the reply cache's directory: dir, or the default one; ""
// when there is none.
func cacheRoot(dir string) string {
	if dir != "" {
		return dir
	}
	d, err := backend.DefaultCacheDir()
	if err != nil {
		return ""
	}
	return d
}

// newEvalCache is the cache of the rules' evaluations kept beside the
// reply cache in dir, or nil when the rules in force cannot be
// fingerprinted.
func newEvalCache(c *cli.Context, dir string) *screener.EvalCache {
	fp := rulesFingerprint(c)
	if fp == "" {
		return nil
	}
	return screener.NewEvalCache(filepath.Join(dir, "rules"), fp)
}

// rulesFingerprint names everything an evaluation depends on besides the
// report: the binary (its build id covers the built-in rules, series and
// threat model, and the extractors' code) and the files given by
// --threat-model, --rules and --series, by content. "" when the binary's
// identity is unknown: no entry is then trusted.
func rulesFingerprint(c *cli.Context) string {
	id := binaryID()
	if id == "" {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "binary %s\n", id)
	for _, f := range []*cli.StringFlag{threatModelFlag, rulesFlag, seriesFlag} {
		path := c.String(f.Name)
		if path == "" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return "" // the run fails on it anyway
		}
		fmt.Fprintf(h, "%s %d\n", f.Name, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var (
	binaryIDOnce sync.Once
	binaryIDHex  string
)

// binaryID identifies the running executable: the Go build id from its
// ELF note when there is one, else the SHA-256 of the whole file; "" when
// neither can be read.
func binaryID() string {
	binaryIDOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			return
		}
		if f, err := elf.Open(exe); err == nil {
			defer f.Close()
			if s := f.Section(".note.go.buildid"); s != nil {
				if data, err := s.Data(); err == nil && len(data) > 16 {
					sum := sha256.Sum256(data)
					binaryIDHex = "go-buildid:" + hex.EncodeToString(sum[:])
					return
				}
			}
		}
		f, err := os.Open(exe)
		if err != nil {
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err == nil {
			binaryIDHex = "sha256:" + hex.EncodeToString(h.Sum(nil))
		}
	})
	return binaryIDHex
}
