package rules

import (
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/secscreen/secscreen/screener/intake"
)

func extract(r *intake.Report, parts []intake.Part, texts []*text, pack *RuleSet, series *SeriesList) Facts {
	var f Facts
	at := ReportDate(r)
	for i, p := range parts {
		ts := texts[i]
		if ts == nil || ts.t == "" {
			continue
		}
		if pack.Versions != nil {
			extractVersions(ts, pack.Versions, series, at, &f)
		}
		for j := range pack.Facts {
			if x := &pack.Facts[j]; x.Source != "attachment-name" {
				x.run(ts, &f)
			}
		}
		for _, m := range ts.findAll(patInjection, maxFactMatches) {
			f.add(FactInjection, oneLine(m, 60))
		}
		if p.Name == "subject" || p.Name == "body" {
			f.Words += countFields(ts.t)
		}
	}
	for j := range pack.Facts {
		if x := &pack.Facts[j]; x.Source == "attachment-name" {
			x.runNames(r, &f)
		}
	}
	if at.IsZero() && series != nil {
		// An undated report that tests a release candidate was written
		// before that series was released: judge its versions then.
		if d := rcDate(f.Versions, series); !d.IsZero() {
			for i := range f.Versions {
				f.Versions[i].Maintained = series.MaintainedAt(f.Versions[i].Series, d)
			}
		}
	}
	return f
}

// rcDate returns the day before the release of the newest series named as
// a release candidate the reporter ran ("tested on 6.16-rc3"; not
// "bisected to v6.8-rc3"), or zero when there is none or the series is not
// released in the list.
func rcDate(versions []Version, series *SeriesList) time.Time {
	var d time.Time
	for _, v := range versions {
		if v.Role != "" || !strings.Contains(strings.ToLower(v.Text), "-rc") {
			continue
		}
		if r := series.released(v.Series); !r.IsZero() && r.After(d) {
			d = r
		}
	}
	if d.IsZero() {
		return d
	}
	return d.Add(-24 * time.Hour)
}

// reDateLine finds a "Date:" or "Submitted:" line. It is compiled at first
// use: a report without a Date header, rarely an email, needs it.
var reDateLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?mi)^(?:date|submitted):[ \t]*(.+?)\s*$`)
})

// ReportDate returns the report's date: its Date header, or else a
// "Date:" or "Submitted:" line (a web form's) among the first lines of a
// plain-text body (RFC 5322, or starting with YYYY-MM-DD); zero when there
// is none.
func ReportDate(r *intake.Report) time.Time {
	if !r.Date.IsZero() {
		return r.Date
	}
	head := r.Body
	if n := nthIndex(head, '\n', 30); n >= 0 {
		head = head[:n]
	}
	head = head[:min(len(head), 4096)]
	m := reDateLine().FindStringSubmatch(head)
	if m == nil {
		return time.Time{}
	}
	if d, err := mail.ParseDate(m[1]); err == nil {
		return d
	}
	for _, layout := range []string{time.DateOnly, time.DateTime, time.RFC3339} {
		if d, err := time.Parse(layout, m[1]); err == nil {
			return d
		}
	}
	// "2024-05-21 14:38 UTC": the day is enough to judge a series.
	if len(m[1]) > len(time.DateOnly) && m[1][len(time.DateOnly)] == ' ' {
		if d, err := time.Parse(time.DateOnly, m[1][:len(time.DateOnly)]); err == nil {
			return d
		}
	}
	return time.Time{}
}

func nthIndex(s string, c byte, n int) int {
	i := -1
	for range n {
		j := strings.IndexByte(s[i+1:], c)
		if j < 0 {
			return -1
		}
		i += j + 1
	}
	return i
}

// --- versions -------------------------------------------------------------

// extractVersions adds the versions that spec finds in one part, judged
// maintained or not on date at.
func extractVersions(ts *text, spec *VersionSpec, series *SeriesList, at time.Time, f *Facts) {
	t := ts.t
	for _, m := range ts.findAt(spec.m, maxFactMatches) {
		start, end := m[0], m[1]
		prefix, _ := spec.group(t, m, "prefix")
		prefix = strings.ToLower(prefix)
		majorS, numStart := spec.group(t, m, "major")
		minorS, _ := spec.group(t, m, "minor")
		patch, _ := spec.group(t, m, "patch")
		rc, _ := spec.group(t, m, "rc")
		suffix, _ := spec.group(t, m, "suffix")
		major, minor := atoi(majorS), atoi(minorS)
		if numStart > 0 {
			c := t[numStart-1]
			if prefix == "" && (c == '.' || c == '-' || c == '_' || c == '/' || isAlnum(c)) {
				continue
			}
		}
		if strings.HasPrefix(suffix, ".") && len(suffix) > 1 && suffix[1] >= '0' && suffix[1] <= '9' {
			continue // a fourth number: an address or a different scheme
		}
		mx, ok := spec.MaxMinor[major]
		if !ok || minor > mx || (major == 2 && (minor != 6 || patch == "")) {
			continue
		}
		line := lineAround(t, start)
		before := t[max(0, strings.LastIndexByte(t[:start], '\n')+1, start-200):start]
		if spec.notAfter != nil && ts.aux(spec.notAfter).MatchString(before) {
			continue
		}
		if spec.skipLine != nil && ts.aux(spec.skipLine).MatchString(line) {
			continue
		}
		if prefix == "" && rc == "" && spec.context != nil && !ts.aux(spec.context).MatchString(linesBefore(t, start, 2)+line) {
			continue
		}
		txt := strings.TrimRight(t[start:end], ".-+~_")
		if strings.HasSuffix(t[start:end], "+") {
			txt += "+"
		}
		s := strconv.Itoa(major) + "." + strconv.Itoa(minor)
		v := Version{Text: txt, Series: s, Vendor: suffix != "" && spec.vendor != nil && ts.aux(spec.vendor).MatchString(suffix),
			Role: spec.role(ts, start)}
		if series != nil {
			v.Maintained = series.MaintainedAt(s, at)
		}
		if len(f.Versions) < maxFactValues && !slices.ContainsFunc(f.Versions, func(x Version) bool { return x.Text == v.Text && x.Role == v.Role }) {
			f.Versions = append(f.Versions, v)
		}
	}
}

// reSentenceEnd ends a sentence or clause for the purpose of a version's
// role: a full stop, semicolon or other end mark before white space, a
// blank line, or the start of a list item.
var reSentenceEnd = mustAuxRe(`[.!?;](?:\s|$)|\n[ \t]*\n|\n[ \t]*(?:[-*+]|\d{1,2}[.)])[ \t]`)

// role returns the Role of the version that starts at offset start: the
// nearest role word before it in the same sentence (within 300 bytes)
// decides; a running word, or none, gives "".
func (v *VersionSpec) role(ts *text, start int) string {
	t := ts.t
	w := t[max(0, start-300):start]
	if end := ts.aux(reSentenceEnd).LastEnd(w); end >= 0 {
		w = w[end:]
	}
	best, role := -1, ""
	for _, c := range []struct {
		re   *auxRe
		role string
	}{{v.introduced, RoleIntroduced}, {v.fixed, RoleFixed}, {v.running, ""}} {
		if c.re == nil {
			continue
		}
		// A later kind wins a tie: "not fixed" is a running word that ends
		// where "fixed" does.
		if end := ts.aux(c.re).LastEnd(w); end >= 0 && end >= best {
			best, role = end, c.role
		}
	}
	return role
}

// countFields returns len(strings.Fields(s)) without making the fields:
// the runs of runes that are not white space (unicode.IsSpace).
func countFields(s string) int {
	n, inField := 0, false
	for i := 0; i < len(s); {
		var space bool
		if c := s[i]; c < utf8.RuneSelf {
			space = asciiSpace[c]
			i++
		} else {
			r, w := utf8.DecodeRuneInString(s[i:])
			space = unicode.IsSpace(r)
			i += w
		}
		if !space && !inField {
			n++
		}
		inField = !space
	}
	return n
}

// asciiSpace marks the ASCII bytes unicode.IsSpace accepts.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// linesBefore returns up to n whole lines before the line holding i,
// looking at most 800 bytes back.
func linesBefore(t string, i, n int) string {
	w := t[max(0, i-800):i]
	end := strings.LastIndexByte(w, '\n')
	if end < 0 {
		return ""
	}
	start := end
	for range n {
		p := strings.LastIndexByte(w[:start], '\n')
		if p < 0 {
			return w[:end+1]
		}
		start = p
	}
	return w[start+1 : end+1]
}

// lineAround returns the line holding offset i, at most 400 bytes either
// side of it.
func lineAround(t string, i int) string {
	lo := max(0, i-400)
	s := lo + strings.LastIndexByte(t[lo:i], '\n') + 1
	hi := min(len(t), i+400)
	e := strings.IndexByte(t[i:hi], '\n')
	if e < 0 {
		return t[s:hi]
	}
	return t[s : i+e]
}

// --- negation ------------------------------------------------------------------

var reNegation = mustAuxRe(`(?i)(?:\bnot\b|n't\b|\bwithout\b|\bno\b|\bnever\b|\bcannot\b|\black\w*|\binstead of\b|\bdrop\w*|\bunless\b)`)

// negated reports whether the few words before i in t negate what follows
// (the test of a negatable fact extractor).
func negated(ts *text, i int) bool {
	t := ts.t
	s := max(0, i-40)
	if nl := strings.LastIndexAny(t[s:i], ".\n;"); nl >= 0 {
		s += nl + 1
	}
	return ts.aux(reNegation).MatchString(ts.aux(reNoPrivilege).ReplaceAllString(t[s:i], " "))
}

// --- injection -------------------------------------------------------------------

// patInjection finds text addressed to a screening model. It is not pack
// data: every threat model needs it, and its findings are the "injection"
// fact whatever the pack.
var patInjection = mustPattern(wrapSpaces(`(?i)\b(?:ignore|disregard|forget) (?:all |any )?(?:of )?(?:the |your )?(?:previous|prior|above|earlier|preceding|system) (?:instructions|prompts?|rules|guidelines|messages?)\b|\bclassify (?:this|the|it)(?: report| issue| bug)? as\b|\byou are (?:a|an|the) (?:[\w-]+ ){0,3}(?:screening|triage|classification|classifier|security review) (?:model|assistant|bot|system|agent|llm)\b|(?m:^\s*(?:system|assistant)(?: prompt)?\s*:\s*(?:you|ignore|disregard|from now on|new instructions|override))|<\|(?:im_start|system|endoftext)\|>|\[/?INST\]|\b(?:verdict|category)"?\s*[:=]\s*"?(?:security|not-security|needs-info|invalid|capability\.[a-z-]+|isolation\.[a-z]+)\b|\b(?:note|instructions?|message) (?:to|for) (?:the |any )?(?:AI|LLM|language model|model|screener|classifier|bot)\b|\bmark (?:this|it) as (?:a )?(?:security|critical|valid|high)`))

// oneLine collapses whitespace in s and shortens it to at most n runes,
// ending with "…" when cut.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
