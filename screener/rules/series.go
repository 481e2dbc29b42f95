package rules

import (
	_ "embed"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed series.yaml
var seriesYAML []byte

// Series is one kernel series on kernel.org's release page.
type Series struct {
	// Series is the major.minor number, e.g. "6.1".
	Series string `yaml:"series" json:"series"`
	// Kind is "mainline", "stable" or "longterm".
	Kind string `yaml:"kind" json:"kind"`
	// EOL is the projected end of life; zero when none was announced.
	EOL time.Time `yaml:"eol,omitempty" json:"eol,omitzero"`
}

// SeriesList says which kernel series are maintained, as of a date.
type SeriesList struct {
	// AsOf is the date the list describes.
	AsOf time.Time `yaml:"as_of" json:"as_of"`
	// Source says where the facts come from.
	SourceNote string `yaml:"source" json:"source"`
	// Series lists the maintained series, newest first.
	Series []Series `yaml:"series" json:"series"`
	// File is the path the list was read from, or "built-in".
	File string `yaml:"-" json:"file"`
}

var kernelSeries = sync.OnceValues(func() (*SeriesList, error) {
	return ParseSeries(seriesYAML, "built-in")
})

// KernelSeries returns the built-in list of maintained kernel series
// (series.yaml in this package, with its as-of date).
func KernelSeries() (*SeriesList, error) { return kernelSeries() }

// LoadSeries reads a series list file in the format of the built-in one.
func LoadSeries(path string) (*SeriesList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read series list: %w", err)
	}
	return ParseSeries(data, path)
}

// ParseSeries parses a series list; file names the source in errors.
func ParseSeries(data []byte, file string) (*SeriesList, error) {
	l := &SeriesList{File: file}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(l); err != nil {
		return nil, fmt.Errorf("series list %s: %w", file, err)
	}
	if l.AsOf.IsZero() {
		return nil, fmt.Errorf("series list %s: as_of date is missing", file)
	}
	if len(l.Series) == 0 {
		return nil, fmt.Errorf("series list %s: no series listed", file)
	}
	for _, s := range l.Series {
		if _, _, ok := splitSeries(s.Series); !ok {
			return nil, fmt.Errorf("series list %s: %q is not a major.minor series", file, s.Series)
		}
		switch s.Kind {
		case "mainline", "stable", "longterm":
		default:
			return nil, fmt.Errorf("series list %s: series %s: unknown kind %q (want mainline, stable or longterm)", file, s.Series, s.Kind)
		}
	}
	return l, nil
}

// Maintained reports whether a major.minor series is maintained as of the
// list's date: listed with no end of life before AsOf, or newer than every
// listed series (a release candidate of the next mainline, linux-next).
func (l *SeriesList) Maintained(series string) bool {
	maj, min, ok := splitSeries(series)
	if !ok {
		return false
	}
	newest := true
	for _, s := range l.Series {
		sm, sn, _ := splitSeries(s.Series)
		if sm == maj && sn == min {
			return s.EOL.IsZero() || !s.EOL.Before(l.AsOf)
		}
		if sm > maj || (sm == maj && sn > min) {
			newest = false
		}
	}
	return newest
}

// Names returns the listed series, in list order.
func (l *SeriesList) Names() []string {
	out := make([]string, len(l.Series))
	for i, s := range l.Series {
		out[i] = s.Series
	}
	return out
}

func splitSeries(s string) (major, minor int, ok bool) {
	a, b, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	return major, minor, err1 == nil && err2 == nil
}
