package sourcetree

import (
	"context"
	"strings"
)

// snapshot is one state of the tree that can answer lookups: the working
// tree, or a git revision.
type snapshot interface {
	// hasFile reports whether the tree has the file at path.
	hasFile(ctx context.Context, path string) (bool, error)
	// words returns which of names occur as whole words in the tree's
	// source files (code: C, assembler, Rust, syscall tables) or in its
	// Kconfig files (kconfig true).
	words(ctx context.Context, names []string, kconfig bool) (map[string]bool, error)
	// describe names the snapshot: "the working tree", "v6.8 (1a2b3c4d5e6f)".
	describe() string
}

// lookup finds which citations a snapshot has; it sets Found on those and
// leaves the others as they were (so that several snapshots can be asked
// in turn).
func lookup(ctx context.Context, s snapshot, cs []Citation) error {
	var code, kconfig []string
	for _, c := range cs {
		if c.Found {
			continue
		}
		switch c.Kind {
		case KindFunction:
			code = append(code, c.Name)
		case KindSyscall:
			code = append(code, c.Name, "sys_"+c.Name)
		case KindConfig:
			sym := strings.TrimPrefix(c.Name, "CONFIG_")
			code = append(code, c.Name)
			kconfig = append(kconfig, sym)
			if base, ok := strings.CutSuffix(sym, "_MODULE"); ok && base != "" {
				// CONFIG_FOO_MODULE is what a tristate FOO=m defines.
				kconfig = append(kconfig, base)
			}
		}
	}
	inCode, err := s.words(ctx, code, false)
	if err != nil {
		return err
	}
	inKconfig, err := s.words(ctx, kconfig, true)
	if err != nil {
		return err
	}
	for i := range cs {
		c := &cs[i]
		if c.Found {
			continue
		}
		switch c.Kind {
		case KindFile:
			if c.Found, err = s.hasFile(ctx, c.Name); err != nil {
				return err
			}
		case KindFunction:
			c.Found = inCode[c.Name]
		case KindSyscall:
			c.Found = inCode[c.Name] || inCode["sys_"+c.Name]
		case KindConfig:
			sym := strings.TrimPrefix(c.Name, "CONFIG_")
			base, _ := strings.CutSuffix(sym, "_MODULE")
			c.Found = inCode[c.Name] || inKconfig[sym] || (base != sym && inKconfig[base])
		}
	}
	return nil
}

// isCodeFile reports whether a file's words count as code identifiers.
func isCodeFile(name string) bool {
	for _, ext := range []string{".c", ".h", ".S", ".rs", ".tbl", ".lds"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// isKconfigFile reports whether a file is a Kconfig file (Kconfig,
// Kconfig.debug, ...), by its base name.
func isKconfigFile(name string) bool {
	return strings.HasPrefix(name[strings.LastIndexByte(name, '/')+1:], "Kconfig")
}
