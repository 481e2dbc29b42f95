package screener

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/secscreen/secscreen/internal/builtin"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

//go:embed routes.yaml
var routesYAML []byte

// Route is one place a report can go next.
type Route struct {
	// To says where, in words for the person who forwards the report.
	To string `yaml:"to"`
	// Public is true when the place is readable by anyone (a mailing list,
	// an archive): a real vulnerability must never go there before a fix.
	Public bool `yaml:"public"`
}

// Routes says where a report goes next: a route per verdict, overridden per
// category. It is data (routes.yaml, embedded) so a project can replace it.
type Routes struct {
	Verdicts   map[threatmodel.Verdict]Route `yaml:"verdicts"`
	Categories map[string]Route              `yaml:"categories"`
}

// DefaultRoutes returns the kernel's routes (routes.yaml). Like every
// loader of built-in data it panics if the file does not load, rather than
// return an error: see internal/builtin for why.
func DefaultRoutes() Routes {
	r := defaultRoutes()
	return Routes{Verdicts: maps.Clone(r.Verdicts), Categories: maps.Clone(r.Categories)}
}

// defaultRoutes parses routes.yaml once: setup starts it on another core
// while the rules load (PrefetchDefaultRoutes), where the first screener
// would otherwise parse it before its first report (~0.4 ms).
var defaultRoutes = sync.OnceValue(func() Routes {
	r, err := ParseRoutes(routesYAML)
	return builtin.Must("screener: routes.yaml", "", r, err)
})

// PrefetchDefaultRoutes parses the built-in routes on another goroutine,
// for a caller that will build a screener with them soon.
func PrefetchDefaultRoutes() { go defaultRoutes() }

// ParseRoutes reads routes from YAML. Every route needs a destination
// (to); public defaults to false.
func ParseRoutes(data []byte) (Routes, error) {
	var r Routes
	if err := yaml.Unmarshal(data, &r); err != nil {
		return Routes{}, fmt.Errorf("routes: %w", err)
	}
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(r.Verdicts)) {
		if strings.TrimSpace(r.Verdicts[k].To) == "" {
			errs = append(errs, fmt.Errorf("routes: %s: no destination (to)", k))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Categories)) {
		if strings.TrimSpace(r.Categories[k].To) == "" {
			errs = append(errs, fmt.Errorf("routes: %s: no destination (to)", k))
		}
	}
	return r, errors.Join(errs...)
}

// Of returns the route of a verdict and category: the category's when it
// has one, else the verdict's.
func (rt Routes) Of(verdict threatmodel.Verdict, category string) Route {
	if route, ok := rt.Categories[category]; ok {
		return route
	}
	return rt.Verdicts[verdict]
}

// For returns where a report of that verdict and category goes, in words;
// for needs-info it names what to ask for.
func (rt Routes) For(verdict threatmodel.Verdict, category string, missing []string) string {
	route := rt.Of(verdict, category).To
	if verdict == threatmodel.NeedsInfo && len(missing) > 0 {
		route += " (" + strings.Join(missing, ", ") + ")"
	}
	return route
}
