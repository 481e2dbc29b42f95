package screener

import (
	_ "embed"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed routes.yaml
var routesYAML []byte

// Routes says where a report goes next: a route per verdict, overridden per
// category. It is data (routes.yaml, embedded) so a project can replace it.
type Routes struct {
	Verdicts   map[string]string `yaml:"verdicts"`
	Categories map[string]string `yaml:"categories"`
}

// DefaultRoutes returns the kernel's routes.
func DefaultRoutes() Routes {
	r, err := ParseRoutes(routesYAML)
	if err != nil {
		panic("screener: built-in routes do not load: " + err.Error())
	}
	return r
}

// ParseRoutes reads routes from YAML.
func ParseRoutes(data []byte) (Routes, error) {
	var r Routes
	if err := yaml.Unmarshal(data, &r); err != nil {
		return Routes{}, fmt.Errorf("routes: %w", err)
	}
	return r, nil
}

// For returns the route of a verdict and category; for needs-info it names
// what to ask for.
func (rt Routes) For(verdict, category string, missing []string) string {
	route, ok := rt.Categories[category]
	if !ok {
		route = rt.Verdicts[verdict]
	}
	if verdict == "needs-info" && len(missing) > 0 {
		route += " (" + strings.Join(missing, ", ") + ")"
	}
	return route
}
