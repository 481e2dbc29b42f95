package screener

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
)

// RulesFile is a file the rules' evaluations depend on, by the flag that
// named it ("threat-model", "rules", "series").
type RulesFile struct {
	Flag, Path string
}

// RulesFingerprint names everything a rules evaluation depends on besides
// the report, for EvalCache and the fold models kept beside it: the
// running binary (its build id covers the built-in rules, series and
// threat model, and the extractors' code) and the given files, by content;
// files with an empty Path are left out. It is "" when the binary's
// identity or a file cannot be read: no cached entry is then trusted.
func RulesFingerprint(files ...RulesFile) string {
	id := binaryID()
	if id == "" {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "binary %s\n", id)
	for _, f := range files {
		if f.Path == "" {
			continue
		}
		data, err := os.ReadFile(f.Path)
		if err != nil {
			return "" // the run fails on it anyway
		}
		fmt.Fprintf(h, "%s %d\n", f.Flag, len(data))
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
