// Package catalog lists versioned templates embedded as files:
// DIR/NAME/VERSION+SUFFIX, such as templates/screen/v1.system.tmpl. The
// prompt templates and the reply templates are both kept this way, so both
// read their versions, list them and resolve a "name@version" spec here.
package catalog

import (
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// Catalog maps each template name to its versions, oldest first.
type Catalog map[string][]string

// Read lists the versions under dir in fsys: every file NAME/VERSION+suffix.
// Errors reading the (embedded) file system leave names out.
func Read(fsys fs.FS, dir, suffix string) Catalog {
	out := Catalog{}
	names, _ := fs.ReadDir(fsys, dir)
	for _, n := range names {
		if !n.IsDir() {
			continue
		}
		files, _ := fs.ReadDir(fsys, dir+"/"+n.Name())
		for _, f := range files {
			if v, ok := strings.CutSuffix(f.Name(), suffix); ok {
				out[n.Name()] = append(out[n.Name()], v)
			}
		}
		slices.SortFunc(out[n.Name()], CompareVersions)
	}
	return out
}

var versionRe = lazyre.New(`^v(\d+)$`)

// CompareVersions orders "v2" before "v10"; other strings sort after
// numbered versions, alphabetically.
func CompareVersions(a, b string) int {
	ma, mb := versionRe.FindStringSubmatch(a), versionRe.FindStringSubmatch(b)
	switch {
	case ma != nil && mb != nil:
		x, _ := strconv.Atoi(ma[1])
		y, _ := strconv.Atoi(mb[1])
		return x - y
	case ma != nil:
		return -1
	case mb != nil:
		return 1
	}
	return strings.Compare(a, b)
}

// List returns the ids ("name@version"), sorted by name, then version.
func (c Catalog) List() []string {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	slices.Sort(names)
	var ids []string
	for _, n := range names {
		for _, v := range c[n] {
			ids = append(ids, n+"@"+v)
		}
	}
	return ids
}

// Resolve reads a spec: "name@version", "name" (its latest version) or ""
// (the latest of def). A numeric version ("screen@1") names "v1". ok is
// false when the catalogue has no such template.
func (c Catalog) Resolve(spec, def string) (name, version string, ok bool) {
	name, version, _ = strings.Cut(strings.TrimSpace(spec), "@")
	if name == "" {
		name = def
	}
	versions := c[name]
	if len(versions) == 0 {
		return name, version, false
	}
	if version == "" {
		version = versions[len(versions)-1]
	}
	if !slices.Contains(versions, version) && slices.Contains(versions, "v"+version) {
		version = "v" + version
	}
	return name, version, slices.Contains(versions, version)
}
