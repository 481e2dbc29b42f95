package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// NoPack is the rule pack of a threat model that has none: no rules and no
// fact extractors. An engine built on it gives no opinion (needs-info with
// confidence 0), so the model and the baseline decide.
func NoPack() *RuleSet { return &RuleSet{Source: "no rule pack", Name: "none"} }

// PackFor returns the rule pack that belongs to threat model tm, and a
// sentence saying which and why:
//
//   - the built-in kernel model: the built-in kernel pack;
//   - a model that names a pack (a YAML model's "rules: FILE"): that file,
//     or NoPack for "rules: none";
//   - a model file with a pack beside it, NAME.rules.yaml next to
//     NAME.yaml, NAME.md or NAME.rst: that file;
//   - a model that has every category the kernel pack's rules use (the
//     kernel's own threat-model.rst, say): the built-in kernel pack;
//   - otherwise NoPack.
func PackFor(tm *threatmodel.Model) (*RuleSet, string, error) {
	if tm.Source == "built-in" {
		return KernelRules(), "the built-in kernel rule pack", nil
	}
	switch tm.RulePack {
	case threatmodel.NoRulePack:
		return NoPack(), fmt.Sprintf("no rule pack (threat model %s says none)", tm.Name), nil
	case "":
	default:
		set, err := LoadFile(tm.RulePack)
		if err != nil {
			return nil, "", fmt.Errorf("threat model %s names rule pack %s: %w", tm.Name, tm.RulePack, err)
		}
		return set, fmt.Sprintf("rule pack %s, named by threat model %s", tm.RulePack, tm.Name), nil
	}
	if beside := strings.TrimSuffix(tm.Source, filepath.Ext(tm.Source)) + ".rules.yaml"; beside != tm.Source {
		if _, err := os.Stat(beside); err == nil {
			set, err := LoadFile(beside)
			if err != nil {
				return nil, "", err
			}
			return set, fmt.Sprintf("rule pack %s, beside threat model %s", beside, tm.Source), nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("rule pack beside threat model: %w", err)
		}
	}
	kernel := KernelRules()
	for _, r := range kernel.Rules {
		if _, ok := tm.Clause(r.Category); !ok {
			return NoPack(), fmt.Sprintf("no rule pack: threat model %s names none, has none beside it (%s), and lacks the kernel pack's category %s",
				tm.Name, strings.TrimSuffix(filepath.Base(tm.Source), filepath.Ext(tm.Source))+".rules.yaml", r.Category), nil
		}
	}
	return kernel, fmt.Sprintf("the built-in kernel rule pack (threat model %s has all its categories)", tm.Name), nil
}
