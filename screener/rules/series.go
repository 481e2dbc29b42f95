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

	"github.com/secscreen/secscreen/internal/builtin"
)

//go:embed series.yaml
var seriesYAML []byte

// Series is one kernel series and its lifetime.
type Series struct {
	// Series is the major.minor number, e.g. "6.1".
	Series string `yaml:"series" json:"series"`
	// Kind is "mainline" (in development), "stable" or "longterm".
	Kind string `yaml:"kind" json:"kind"`
	// Released is the date of the series' first release; zero while it is
	// in development.
	Released time.Time `yaml:"released,omitempty" json:"released,omitzero"`
	// EOL is the (projected) end of life; zero when none was announced, in
	// which case a stable series ends StableGrace after the next release.
	EOL time.Time `yaml:"eol,omitempty" json:"eol,omitzero"`
}

// StableGrace is how long a plain stable series is taken to live on after
// the next series' release, when its list entry gives no end of life.
const StableGrace = 28 * 24 * time.Hour

// SeriesList is the history of kernel series: which were maintained when.
type SeriesList struct {
	// AsOf is the date the list was last brought up to date; it stands for
	// "now" when a report carries no date.
	AsOf time.Time `yaml:"as_of" json:"as_of"`
	// SourceNote says where the facts come from.
	SourceNote string `yaml:"source" json:"source"`
	// Series lists the series, newest first.
	Series []Series `yaml:"series" json:"series"`
	// File is the path the list was read from, or "built-in".
	File string `yaml:"-" json:"file"`

	// nums and eols hold each series' numbers and end of life, worked
	// out once by ParseSeries (every version of every report is judged
	// against the list); a list made otherwise works them out each time.
	// A parsed list must not be changed.
	nums []seriesNumbers
	eols []time.Time
}

type seriesNumbers struct{ major, minor int }

var kernelSeries = sync.OnceValue(func() *SeriesList {
	l, ok := seriesFromGenerated()
	var err error
	if ok {
		l, err = l.checked()
	} else {
		l, err = ParseSeries(seriesYAML, "built-in")
	}
	return builtin.Must("rules: series.yaml", "", l, err)
})

// KernelSeries returns the built-in list of maintained kernel series
// (series.yaml in this package, with its as-of date). Like every loader of
// built-in data it panics if the file does not load, rather than return an
// error: see internal/builtin for why.
func KernelSeries() *SeriesList { return kernelSeries() }

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
	return l.checked()
}

// checked returns the list after checking it and working out each
// series' numbers and end of life (errors name l.File).
func (l *SeriesList) checked() (*SeriesList, error) {
	file := l.File
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
		case "mainline":
		case "stable", "longterm":
			if s.Released.IsZero() {
				return nil, fmt.Errorf("series list %s: series %s: a %s series needs its released date", file, s.Series, s.Kind)
			}
		default:
			return nil, fmt.Errorf("series list %s: series %s: unknown kind %q (want mainline, stable or longterm)", file, s.Series, s.Kind)
		}
	}
	nums := make([]seriesNumbers, len(l.Series))
	for i, s := range l.Series {
		nums[i].major, nums[i].minor, _ = splitSeries(s.Series)
	}
	eols := make([]time.Time, len(l.Series))
	for i := range l.Series {
		eols[i] = l.endOfLife(i)
	}
	l.nums, l.eols = nums, eols
	return l, nil
}

// numbers returns the major and minor numbers of the i-th series.
func (l *SeriesList) numbers(i int) (major, minor int) {
	if l.nums != nil {
		return l.nums[i].major, l.nums[i].minor
	}
	major, minor, _ = splitSeries(l.Series[i].Series)
	return major, minor
}

// Maintained reports whether a major.minor series is maintained on the
// list's AsOf date; see MaintainedAt.
func (l *SeriesList) Maintained(series string) bool { return l.MaintainedAt(series, time.Time{}) }

// MaintainedAt reports whether a major.minor series was maintained at time
// at (AsOf when at is zero): in development then (not yet released, or
// newer than every listed series), or released and before its end of life.
// A series missing from the list, or older than all of it, is not.
func (l *SeriesList) MaintainedAt(series string, at time.Time) bool {
	if at.IsZero() {
		at = l.AsOf
	}
	maj, min, ok := splitSeries(series)
	if !ok {
		return false
	}
	newest := true
	for i, s := range l.Series {
		sm, sn := l.numbers(i)
		if sm == maj && sn == min {
			if s.Released.IsZero() || at.Before(s.Released) {
				return true // mainline development (release candidates)
			}
			return at.Before(l.endOfLife(i))
		}
		if sm > maj || (sm == maj && sn > min) {
			newest = false
		}
	}
	return newest
}

// endOfLife returns the end of life of the i-th series; the zero time
// stands for "none known", i.e. far in the future.
func (l *SeriesList) endOfLife(i int) time.Time {
	if l.eols != nil {
		return l.eols[i]
	}
	s := l.Series[i]
	if !s.EOL.IsZero() || s.Kind != "stable" {
		if s.EOL.IsZero() {
			return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		return s.EOL
	}
	var next time.Time
	maj, min := l.numbers(i)
	for j, o := range l.Series {
		om, on := l.numbers(j)
		newer := om > maj || (om == maj && on > min)
		if newer && !o.Released.IsZero() && (next.IsZero() || o.Released.Before(next)) {
			next = o.Released
		}
	}
	if next.IsZero() {
		return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return next.Add(StableGrace)
}

// released returns the release date of a major.minor series, zero when it
// is not listed or not released.
func (l *SeriesList) released(series string) time.Time {
	for _, s := range l.Series {
		if s.Series == series {
			return s.Released
		}
	}
	return time.Time{}
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
