// Package lazyre holds regular expressions compiled on first use, so that a
// package's patterns cost nothing when it loads: a command that screens one
// report, or none, pays only for the patterns it runs.
package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is a regular expression compiled on first use, once, safely
// from many goroutines. Its methods are those of regexp.Regexp that the
// project uses.
type Regexp struct {
	src  string
	once sync.Once
	re   *regexp.Regexp
}

// New returns a pattern for src compiled on first use. As with
// regexp.MustCompile, a src that does not compile panics, at first use:
// use it for the fixed patterns of a package whose tests run them all.
func New(src string) *Regexp { return &Regexp{src: src} }

// Get returns the compiled expression.
func (l *Regexp) Get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.src) })
	return l.re
}

// String returns the source text of the pattern.
func (l *Regexp) String() string { return l.src }

// MatchString is regexp.Regexp.MatchString.
func (l *Regexp) MatchString(s string) bool { return l.Get().MatchString(s) }

// FindStringIndex is regexp.Regexp.FindStringIndex.
func (l *Regexp) FindStringIndex(s string) []int { return l.Get().FindStringIndex(s) }

// FindAllStringIndex is regexp.Regexp.FindAllStringIndex.
func (l *Regexp) FindAllStringIndex(s string, n int) [][]int {
	return l.Get().FindAllStringIndex(s, n)
}

// FindAllString is regexp.Regexp.FindAllString.
func (l *Regexp) FindAllString(s string, n int) []string { return l.Get().FindAllString(s, n) }

// FindStringSubmatch is regexp.Regexp.FindStringSubmatch.
func (l *Regexp) FindStringSubmatch(s string) []string { return l.Get().FindStringSubmatch(s) }

// SubexpIndex is regexp.Regexp.SubexpIndex.
func (l *Regexp) SubexpIndex(name string) int { return l.Get().SubexpIndex(name) }

// FindAllStringSubmatch is regexp.Regexp.FindAllStringSubmatch.
func (l *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return l.Get().FindAllStringSubmatch(s, n)
}

// FindAllStringSubmatchIndex is regexp.Regexp.FindAllStringSubmatchIndex.
func (l *Regexp) FindAllStringSubmatchIndex(s string, n int) [][]int {
	return l.Get().FindAllStringSubmatchIndex(s, n)
}

// ReplaceAllString is regexp.Regexp.ReplaceAllString.
func (l *Regexp) ReplaceAllString(src, repl string) string {
	return l.Get().ReplaceAllString(src, repl)
}

// Match is regexp.Regexp.Match.
func (l *Regexp) Match(b []byte) bool { return l.Get().Match(b) }

// FindString is regexp.Regexp.FindString.
func (l *Regexp) FindString(s string) string { return l.Get().FindString(s) }

// ReplaceAll is regexp.Regexp.ReplaceAll.
func (l *Regexp) ReplaceAll(src, repl []byte) []byte { return l.Get().ReplaceAll(src, repl) }
