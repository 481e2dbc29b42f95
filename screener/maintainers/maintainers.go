// Package maintainers reads the kernel's MAINTAINERS file and finds the
// sections that cover a set of files, the way scripts/get_maintainer.pl
// does, so that a report can name the people and lists it should go to.
//
// A section is a title line followed by entries "T:\tvalue", one per line,
// up to a blank line. The entries read here:
//
//	M: a maintainer, "Name <address>"
//	R: a designated reviewer, "Name <address>"
//	L: a mailing list, "list@host (moderated for non-subscribers)"
//	S: the status: Supported, Maintained, Odd Fixes, Orphan, Obsolete...
//	F: a file pattern: a trailing slash covers everything below a
//	   directory; otherwise * and ? are wildcards and the pattern covers
//	   paths with as many slashes as itself ("drivers/net/*" is the files
//	   in drivers/net, not below it)
//	X: an excluded file pattern, same rules as F:, tested first: a file a
//	   section excludes is not that section's
//	N: a regular expression matched against file paths
//	K: a regular expression matched against the text of a report or patch
//
// Other entry types (W:, Q:, B:, C:, P:, T:) are kept as they are. Lines
// before the first section (the file's own description of the format) are
// skipped: a run of lines without entries is not a section.
//
// Matches come most specific first, as get_maintainer.pl orders them: by
// the depth of the F: pattern that matched (its number of path components;
// 0 for an N: match; -1 for a catch-all pattern starting with "*"), then
// sections that only a K: keyword matched.
package maintainers

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// Section is one entry of MAINTAINERS.
type Section struct {
	// Name is the section's title, e.g. "NETWORKING [TCP]".
	Name string `json:"name"`
	// Line is the 1-based line of the title in the file.
	Line int `json:"line"`
	// Status is the S: entry ("Maintained", "Orphan", ...).
	Status string `json:"status,omitempty"`
	// Maintainers (M:) and Reviewers (R:) are "Name <address>" entries.
	Maintainers []string `json:"maintainers,omitempty"`
	Reviewers   []string `json:"reviewers,omitempty"`
	// Lists are the L: entries, with their remarks ("(moderated ...)").
	Lists []string `json:"lists,omitempty"`
	// Files, Excludes, Regexes and Keywords are the F:, X:, N: and K:
	// entries as written.
	Files    []string `json:"files,omitempty"`
	Excludes []string `json:"excludes,omitempty"`
	Regexes  []string `json:"regexes,omitempty"`
	Keywords []string `json:"keywords,omitempty"`
	// Other holds the other entries by type letter.
	Other map[string][]string `json:"other,omitempty"`

	files, excludes   []pattern
	regexes, keywords []entryRegexp
}

// entryRegexp is an N: or K: entry with its compiled form.
type entryRegexp struct {
	text string
	re   *regexp.Regexp
}

// CatchAll reports whether every F: pattern of the section starts with a
// wildcard ("THE REST": F: * and F: */): it covers every file, so it names
// the general list but says nothing about who maintains the code.
func (s *Section) CatchAll() bool {
	if len(s.files) == 0 {
		return false
	}
	for _, p := range s.files {
		if p.depth >= 0 {
			return false
		}
	}
	return true
}

// File is a parsed MAINTAINERS file.
type File struct {
	// Sections in file order.
	Sections []*Section
	// Warnings name entries that could not be used (a regular expression
	// Go cannot compile), one line each with its line number.
	Warnings []string
}

// Load reads the MAINTAINERS file at path.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("maintainers: %w", err)
	}
	defer f.Close()
	m, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("maintainers: %s: %w", path, err)
	}
	return m, nil
}

// reEntry is one entry line: a capital letter, a colon, the value.
var reEntry = lazyre.New(`^([A-Z]):\s*(.*?)\s*$`)

// Parse reads a MAINTAINERS file. It fails only when no section is found.
func Parse(r io.Reader) (*File, error) {
	out := &File{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var cur *Section
	title, titleLine := "", 0
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" {
			cur, title = nil, ""
			continue
		}
		m := reEntry.FindStringSubmatch(line)
		if m == nil {
			// A title, or prose before the sections.
			cur, title, titleLine = nil, strings.TrimSpace(line), n
			continue
		}
		if cur == nil {
			if title == "" {
				continue // an entry with no title: not a section
			}
			cur = &Section{Name: title, Line: titleLine}
			out.Sections = append(out.Sections, cur)
		}
		out.add(cur, m[1], m[2], n)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out.Sections) == 0 {
		return nil, fmt.Errorf("no sections (a title line followed by M:, L:, F: ... entries)")
	}
	return out, nil
}

func (f *File) add(s *Section, typ, value string, line int) {
	if value == "" {
		return
	}
	warn := func(err error) {
		f.Warnings = append(f.Warnings, fmt.Sprintf("line %d: %s: %s: %v (skipped)", line, s.Name, typ, err))
	}
	switch typ {
	case "M":
		s.Maintainers = append(s.Maintainers, value)
	case "R":
		s.Reviewers = append(s.Reviewers, value)
	case "L":
		s.Lists = append(s.Lists, value)
	case "S":
		s.Status = value
	case "F":
		s.Files = append(s.Files, value)
		s.files = append(s.files, newPattern(value))
	case "X":
		s.Excludes = append(s.Excludes, value)
		s.excludes = append(s.excludes, newPattern(value))
	case "N":
		s.Regexes = append(s.Regexes, value)
		if re, err := regexp.Compile(extended(value)); err != nil {
			warn(err)
		} else {
			s.regexes = append(s.regexes, entryRegexp{value, re})
		}
	case "K":
		s.Keywords = append(s.Keywords, value)
		if re, err := regexp.Compile(extended(value)); err != nil {
			warn(err)
		} else {
			s.keywords = append(s.keywords, entryRegexp{value, re})
		}
	default:
		if s.Other == nil {
			s.Other = map[string][]string{}
		}
		s.Other[typ] = append(s.Other[typ], value)
	}
}

// extended turns a Perl /x pattern (white space ignored outside character
// classes, as get_maintainer.pl compiles N: and K:) into Go syntax.
func extended(p string) string {
	var b strings.Builder
	inClass, escaped := false, false
	for _, r := range p {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case inClass && r == ']':
			inClass = false
		case !inClass && r == '[':
			inClass = true
		case !inClass && (r == ' ' || r == '\t'):
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pattern is an F: or X: pattern compiled as get_maintainer.pl does.
type pattern struct {
	text string
	re   *regexp.Regexp
	// dir: the pattern ends with a slash and covers everything below.
	dir bool
	// slashes is the pattern's number of slashes: a non-directory
	// pattern matches paths with exactly as many.
	slashes int
	// depth is how specific a match is (get_maintainer.pl's value_pd).
	depth int
	// alsoDir: a pattern whose last element has no dot and no wildcard
	// names a directory without its slash (get_maintainer.pl checks the
	// tree for that; without a tree, it is tried both ways).
	alsoDir *regexp.Regexp
}

func newPattern(v string) pattern {
	p := pattern{text: v, dir: strings.HasSuffix(v, "/"), slashes: strings.Count(v, "/")}
	p.re = regexp.MustCompile("^" + globToRegexp(v))
	p.depth = p.slashes
	if !p.dir {
		p.depth++
	}
	if strings.HasPrefix(v, "*") {
		p.depth = -1
	}
	last := v[strings.LastIndexByte(v, '/')+1:]
	if !p.dir && last != "" && !strings.ContainsAny(last, ".*?[") {
		p.alsoDir = regexp.MustCompile("^" + globToRegexp(v+"/"))
	}
	return p
}

// globToRegexp quotes a pattern for a regular expression, with * and ? as
// get_maintainer.pl reads them (".*" and ".": they cross slashes).
func globToRegexp(v string) string {
	var b strings.Builder
	for _, r := range v {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	return b.String()
}

func (p pattern) match(path string) bool {
	if p.re.MatchString(path) && (p.dir || strings.Count(path, "/") == p.slashes) {
		return true
	}
	return p.alsoDir != nil && p.alsoDir.MatchString(path)
}

// Match is one section that covers some of the files or text asked about.
type Match struct {
	Section *Section `json:"section"`
	// Depth orders matches: the deepest matching F: pattern's number of
	// path components, 0 for an N: match, -1 for a catch-all pattern.
	// Keyword-only matches have no depth (they come last).
	Depth int `json:"depth"`
	// By names the entry that matched first, e.g. "F: net/ipv4/".
	By string `json:"by"`
	// Paths lists the files the section covers among those asked about;
	// empty for a keyword-only match.
	Paths []string `json:"paths,omitempty"`
	// Keyword is true when only a K: entry matched (the text, not a file).
	Keyword bool `json:"keyword,omitempty"`
}

// Match returns the sections covering paths, most specific first, then the
// sections whose K: keywords match text (when text is not empty) that no
// file matched. Paths are relative to the top of the kernel tree; a
// leading "./", "a/" or "b/" (from a diff) is ignored.
func (f *File) Match(paths []string, text string) []Match {
	var out []Match
	at := map[*Section]int{}
	for _, raw := range paths {
		path := cleanPath(raw)
		if path == "" {
			continue
		}
		for _, s := range f.Sections {
			depth, by, ok := s.matchPath(path)
			if !ok {
				continue
			}
			i, seen := at[s]
			if !seen {
				at[s] = len(out)
				out = append(out, Match{Section: s, Depth: depth, By: by})
				i = len(out) - 1
			} else if depth > out[i].Depth {
				out[i].Depth, out[i].By = depth, by
			}
			if !slices.Contains(out[i].Paths, path) {
				out[i].Paths = append(out[i].Paths, path)
			}
		}
	}
	// Most specific first; equal depths keep file order (a stable sort).
	slices.SortStableFunc(out, func(a, b Match) int { return cmp.Compare(b.Depth, a.Depth) })
	if text == "" {
		return out
	}
	for _, s := range f.Sections {
		if _, seen := at[s]; seen {
			continue
		}
		for _, k := range s.keywords {
			if k.re.MatchString(text) {
				out = append(out, Match{Section: s, By: "K: " + k.text, Keyword: true})
				break
			}
		}
	}
	return out
}

// matchPath tests one path against a section: X: first, then F: (the
// deepest matching pattern counts) and N:.
func (s *Section) matchPath(path string) (depth int, by string, ok bool) {
	for _, x := range s.excludes {
		if x.match(path) {
			return 0, "", false
		}
	}
	depth = -2
	for _, p := range s.files {
		if p.match(path) && p.depth > depth {
			depth, by, ok = p.depth, "F: "+p.text, true
		}
	}
	for _, n := range s.regexes {
		if n.re.MatchString(path) && depth < 0 {
			depth, by, ok = 0, "N: "+n.text, true
		}
	}
	return depth, by, ok
}

// cleanPath trims what a diff or a shell adds to a kernel path.
func cleanPath(p string) string {
	p = strings.TrimSpace(p)
	for _, pre := range []string{"./", "a/", "b/"} {
		p = strings.TrimPrefix(p, pre)
	}
	return strings.TrimLeft(p, "/")
}

// Recipients are the people and lists a set of matches names, each once,
// in match order.
type Recipients struct {
	// Maintainers are the M: entries of the matched sections; the
	// catch-all section's only when no other section names one.
	Maintainers []string `json:"maintainers"`
	// Reviewers are the R: entries.
	Reviewers []string `json:"reviewers"`
	// Lists are the L: addresses, without remarks.
	Lists []string `json:"lists"`
	// Orphans names matched sections whose status is Orphan or Obsolete
	// or that list no maintainer.
	Orphans []string `json:"orphans,omitempty"`
}

// RecipientsOf collects the recipients of ms.
func RecipientsOf(ms []Match) Recipients {
	var r Recipients
	specific := false
	for _, m := range ms {
		if !m.Section.CatchAll() && len(m.Section.Maintainers) > 0 {
			specific = true
		}
	}
	for _, m := range ms {
		s := m.Section
		if !s.CatchAll() || !specific {
			r.Maintainers = addAll(r.Maintainers, s.Maintainers...)
			r.Reviewers = addAll(r.Reviewers, s.Reviewers...)
		}
		for _, l := range s.Lists {
			r.Lists = addAll(r.Lists, ListAddress(l))
		}
		st := strings.ToLower(s.Status)
		if !s.CatchAll() && (len(s.Maintainers) == 0 || strings.HasPrefix(st, "orphan") || strings.HasPrefix(st, "obsolete")) {
			r.Orphans = addAll(r.Orphans, s.Name)
		}
	}
	return r
}

// ListAddress is the address of an L: entry, without its remarks.
func ListAddress(l string) string {
	if f := strings.Fields(l); len(f) > 0 {
		return f[0]
	}
	return l
}

func addAll(list []string, items ...string) []string {
	for _, it := range items {
		if it != "" && !slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, it) }) {
			list = append(list, it)
		}
	}
	return list
}
