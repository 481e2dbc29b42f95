package injection

import (
	"regexp"
	"sync"
)

// lazyRE is a regular expression compiled on first use. The detector has
// some sixty patterns, several of a few thousand states; compiling them
// all when the package loads cost 40–60 ms of every process's start-up,
// screening one report or none. Most reports reach only a few of them
// (a matcher runs only where its anchors and need are), so each is
// compiled when first asked for, once, safely from many goroutines.
type lazyRE struct {
	src  string
	once sync.Once
	re   *regexp.Regexp
}

// lazy returns a pattern for src compiled on first use; src must compile
// (as with regexp.MustCompile, a bad pattern panics, at first use; the
// package's tests use every pattern).
func lazy(src string) *lazyRE { return &lazyRE{src: src} }

// get returns the compiled expression.
func (l *lazyRE) get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.src) })
	return l.re
}

// String returns the source text of the pattern.
func (l *lazyRE) String() string { return l.src }

// MatchString is regexp.Regexp.MatchString.
func (l *lazyRE) MatchString(s string) bool { return l.get().MatchString(s) }

// FindStringIndex is regexp.Regexp.FindStringIndex.
func (l *lazyRE) FindStringIndex(s string) []int { return l.get().FindStringIndex(s) }

// FindAllStringIndex is regexp.Regexp.FindAllStringIndex.
func (l *lazyRE) FindAllStringIndex(s string, n int) [][]int {
	return l.get().FindAllStringIndex(s, n)
}

// FindAllStringSubmatch is regexp.Regexp.FindAllStringSubmatch.
func (l *lazyRE) FindAllStringSubmatch(s string, n int) [][]string {
	return l.get().FindAllStringSubmatch(s, n)
}

// FindAllStringSubmatchIndex is regexp.Regexp.FindAllStringSubmatchIndex.
func (l *lazyRE) FindAllStringSubmatchIndex(s string, n int) [][]int {
	return l.get().FindAllStringSubmatchIndex(s, n)
}

// ReplaceAllString is regexp.Regexp.ReplaceAllString.
func (l *lazyRE) ReplaceAllString(src, repl string) string {
	return l.get().ReplaceAllString(src, repl)
}
