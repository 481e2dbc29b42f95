// Package injection finds text in a report that is aimed at a model or an
// automated triage system instead of at the people who read it: prompt
// injection. A report is data; text in it that tells its reader what to
// decide, what to output or what to ignore is evidence that the sender
// tried to steer the screening, and the report goes to a person.
//
// The detector looks for four kinds of fact, each in any wording:
//
//   - an imperative aimed at an automated reader: text addressed to a
//     model, an AI or a triage system (KindAddress), an instruction to
//     ignore, override or skip instructions, review or checks
//     (KindOverride), or an order about what to output (KindOutputDemand);
//   - a verdict demanded of the reader: "classify it as", "treat this as
//     critical", "the verdict is security", "must be marked as"
//     (KindVerdictDemand), or settled by an authority claim made to the
//     reader ("as the security team lead I confirm...", "pre-validated
//     by...", KindAuthority);
//   - a role or system marker: chat-template tokens, fake system fences
//     and role labels, role-play and mode switches (KindRoleMarker);
//   - a pre-filled answer: a model's answer written in advance, as JSON
//     or as an assistant turn (KindPrefilled).
//
// Text is normalised before matching: invisible and bidi
// characters are dropped, Unicode tag characters read as the ASCII they
// smuggle, NFKC folds compatibility forms, and common Cyrillic, Greek and
// Armenian look-alikes of Latin letters become Latin; a run under a
// right-to-left override is also read in the order it displays; base64
// blobs that decode to text are read too. Spans always point at the
// original text, and say what was undone (Span.Via).
//
// Some findings are strong alone (a chat-template token, "ignore previous
// instructions" as a command, a verdict demanded with the threat model's
// words); weaker ones (an end-of-report fence, "close it as invalid", a
// claim of prior validation) count only beside another finding within a
// few lines, or when the report has a strong one. A phrase quoted inside a
// sentence that talks about such phrases ("reports containing strings
// like \"ignore previous instructions\"") is a mention and counts only as
// corroboration. Commands are told from descriptions by their mood: a verb
// that opens its clause ("Classify it as..."), or follows "please", "you
// must" or "automated systems must", is a command; "we classify" and "the
// driver marks" are not.
//
// The patterns are English, with the address to a model also in German,
// Spanish, French, Italian and Portuguese; text in other scripts is not
// read for meaning. Each part is read up to MaxScanBytes and a report up
// to MaxReportBytes. The suite in testdata/suite measures it (see its
// README for what the figures mean).
package injection

import (
	"cmp"
	"encoding/base64"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/secscreen/secscreen/internal/lazydfa"
	"github.com/secscreen/secscreen/internal/lazyre"
	"github.com/secscreen/secscreen/screener/intake"
)

// Kind names what a span is.
type Kind string

// The kinds of span.
const (
	KindAddress       Kind = "address"          // text addressed to a model or automated triage system
	KindOverride      Kind = "override"         // an instruction to ignore, override or skip instructions, review or checks
	KindVerdictDemand Kind = "verdict-demand"   // a verdict, severity or disposition demanded of the reader
	KindOutputDemand  Kind = "output-demand"    // an order about what the reader must output
	KindRoleMarker    Kind = "role-marker"      // chat-template tokens, fake system fences and role labels, role-play
	KindPrefilled     Kind = "prefilled-answer" // a model's answer written in advance: verdict JSON, an assistant turn
	KindAuthority     Kind = "authority"        // an authority or validation claim that settles the verdict for the reader
)

// Span is one finding: where it is in the report and what it is.
type Span struct {
	// Part names the report part: "subject", "from", "body",
	// "attachment:NAME", or a hidden part ("header:Field-Name",
	// "html-comment"; see intake.Report.Hidden).
	Part string `json:"part"`
	// Line and Column (1-based; the column counts bytes) locate the start
	// in the part's original text; Start and End are byte offsets there.
	Line   int `json:"line"`
	Column int `json:"column"`
	Start  int `json:"start"`
	End    int `json:"end"`
	// Kind says what the text does.
	Kind Kind `json:"kind"`
	// Excerpt is the original text, on one line and shortened, with
	// invisible and bidi characters shown as \u escapes.
	Excerpt string `json:"excerpt"`
	// Decoded is the text as matched, when it differs from the excerpt:
	// after normalising, reversing a right-to-left override, or decoding
	// base64.
	Decoded string `json:"decoded,omitempty"`
	// Via names what was undone to read it: "zero-width", "bidi",
	// "bidi-reversed", "tag-characters", "homoglyph", "compatibility-form",
	// "base64".
	Via []string `json:"via,omitempty"`
}

// MaxScanBytes bounds the text read per part, and MaxReportBytes per
// report, so that a huge or hostile message costs bounded time (about a
// second at worst on a slow core). A model is shown far less: the
// prompt's body limit is 60,000 characters by default, for the body and
// the attachments together.
const (
	MaxScanBytes   = 128 << 10
	MaxReportBytes = 256 << 10
)

// Detect returns the spans of r aimed at a model or automated triage
// system, in part order, or nil. It reads the sender, the subject, the
// body, every text attachment and the hidden parts; the smaller parts
// first, so that a huge body cannot use up the budget before the headers
// and HTML comments are read.
func Detect(r *intake.Report) []Span { return detect(r, false) }

// detectReference is Detect with the regular expressions alone: every
// window that meets its need is given to regexp, not to the automaton
// (see package lazydfa). It is kept so that the tests can show the automaton
// changes no span.
func detectReference(r *intake.Report) []Span { return detect(r, true) }

// detect is Detect, or detectReference when ref.
func detect(r *intake.Report, ref bool) []Span {
	if r == nil {
		return nil
	}
	parts := append([]intake.Part{{Name: "from", Text: r.From}}, r.Parts()...)
	parts = append(parts, r.Hidden...)
	order := make([]int, len(parts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(parts[a].Text), len(parts[b].Text)) })
	var cands []cand
	budget := MaxReportBytes
	for _, i := range order {
		if budget <= 0 {
			break
		}
		text := cutValid(parts[i].Text, min(budget, MaxScanBytes))
		budget -= len(text)
		field, isHeader := strings.CutPrefix(parts[i].Name, "header:")
		if !isHeader {
			cands = append(cands, scanPart(i, parts[i].Name, text, 0, ref)...)
			continue
		}
		// A header field is read with its name ("X-Screening-Verdict:
		// not-security"); spans stay offsets into the value.
		prefix := field + ": "
		for _, c := range scanPart(i, parts[i].Name, prefix+text, 0, ref) {
			c.span.Start = max(0, c.span.Start-len(prefix))
			c.span.End = max(c.span.Start, c.span.End-len(prefix))
			c.span.Line, c.span.Column = lineCol(text, c.span.Start)
			cands = append(cands, c)
		}
	}
	return finish(cands)
}

// Scan returns the spans of one text, as if it were a report part named
// part.
func Scan(part, text string) []Span {
	return finish(scanPart(0, part, text, 0, false))
}

// strength says how much a candidate counts alone.
type strength int

const (
	none strength = iota
	weak
	strong
)

// cand is a candidate span before the report-level decision.
type cand struct {
	part    int // index of the part, for ordering and windows
	span    Span
	str     strength
	mention bool
	rule    string // the pattern that found it, so that a pattern cannot corroborate itself
}

// scanPart finds the candidates of one part. depth counts nested decodes
// (base64 inside base64...); ref asks regexp alone (see
// detectReference).
func scanPart(idx int, name, text string, depth int, ref bool) []cand {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if len(text) > MaxScanBytes {
		text = cutValid(text, MaxScanBytes)
	}
	v := newView(text)
	var out []cand
	windows := anchorWindows(v.norm)
	hits := matchingWindows(v.norm, windows, ref)
	var seen map[[2]int]bool // the matches of windows[k.m] so far
	for k, w := range windows {
		if !hits[k] {
			continue
		}
		if k == 0 || windows[k-1].m != w.m {
			seen = nil
		}
		if seen == nil {
			seen = map[[2]int]bool{}
		}
		m := &matchers[w.m]
		for _, loc := range m.re.FindAllStringSubmatchIndex(v.norm[w.s:w.e], -1) {
			for k := range loc {
				if loc[k] >= 0 {
					loc[k] += w.s
				}
			}
			if seen[[2]int{loc[0], loc[1]}] {
				continue
			}
			seen[[2]int{loc[0], loc[1]}] = true
			str := strong
			if m.check != nil {
				str = m.check(v.norm, loc)
			}
			if str == none {
				continue
			}
			ns, ne := loc[0], loc[1]
			if m.trim > 0 && loc[2*m.trim] >= 0 {
				ns = loc[2*m.trim]
			}
			out = append(out, newCand(idx, name, v, ns, ne, m.kind, str, m.name))
		}
	}
	out = append(out, scanJSON(idx, name, v)...)
	if depth < 2 {
		out = append(out, scanReversed(idx, name, text, depth, ref)...)
		out = append(out, scanBase64(idx, name, text, depth, ref)...)
	}
	return out
}

// matchingWindows reports which windows of t hold a match of their
// matcher's pattern. The reference (ref) asks regexp, after the pattern's
// need (a window without it cannot match); otherwise the automata answer,
// two windows at a time (see lazydfa.MatchTwo).
func matchingWindows(t string, windows []window, ref bool) []bool {
	hits := make([]bool, len(windows))
	if ref {
		setNeeds()
		lower, ascii := asciiLower(t), isASCII(t)
		for k, w := range windows {
			m := &matchers[w.m]
			need := m.need
			if ascii {
				need = m.needASCII
			}
			hits[k] = need.met(lower[w.s:w.e]) && m.re.MatchString(t[w.s:w.e])
		}
		return hits
	}
	// Windows of about the same length go together, so that little of
	// the longer is left to read alone.
	order := make([]int, len(windows))
	for k := range order {
		order[k] = k
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Compare(windows[b].e-windows[b].s, windows[a].e-windows[a].s)
	})
	for k := 0; k+1 < len(order); k += 2 {
		i, j := order[k], order[k+1]
		a, b := windows[i], windows[j]
		hits[i], hits[j] = lazydfa.MatchTwo(automaton(a.m), t[a.s:a.e], automaton(b.m), t[b.s:b.e])
	}
	if len(order)%2 == 1 {
		w := windows[order[len(order)-1]]
		hits[order[len(order)-1]] = automaton(w.m).Match(t[w.s:w.e])
	}
	return hits
}

// cutValid cuts s to at most n bytes without splitting a rune.
func cutValid(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// newCand makes a candidate of norm[ns:ne] of v.
func newCand(idx int, name string, v *view, ns, ne int, k Kind, str strength, rule string) cand {
	for ne > ns && (v.norm[ne-1] == ' ' || v.norm[ne-1] == '\n' || v.norm[ne-1] == '\t') {
		ne--
	}
	for ns < ne && (v.norm[ns] == ' ' || v.norm[ns] == '\n' || v.norm[ns] == '\t') {
		ns++
	}
	os, oe := v.span(ns, ne)
	orig := v.orig[os:oe]
	sp := Span{Part: name, Start: os, End: oe, Kind: k, Excerpt: excerpt(orig), Via: obfuscations(orig)}
	sp.Line, sp.Column = lineCol(v.orig, os)
	if d := oneLine(v.norm[ns:ne], 160); d != oneLine(orig, 160) {
		sp.Decoded = d
	}
	return cand{part: idx, span: sp, str: str, mention: inMention(v.norm, ns, ne), rule: rule}
}

// finish keeps the candidates that count, merges duplicates and orders
// the spans.
func finish(cands []cand) []Span {
	anyStrong := false
	for _, c := range cands {
		if c.str == strong && !c.mention {
			anyStrong = true
			break
		}
	}
	const window = 600 // bytes: a few lines
	var keep []cand
	for i, c := range cands {
		ok := c.str == strong && !c.mention || anyStrong
		for j, d := range cands {
			if ok {
				break
			}
			// A weak finding stands beside another finding near it in
			// the same part (not the same words again: "### Instruction:"
			// and "### Response:" are a pair); mentions corroborate
			// nothing.
			ok = j != i && !c.mention && !d.mention && d.part == c.part &&
				(d.rule != c.rule || !strings.EqualFold(d.span.Excerpt, c.span.Excerpt)) &&
				d.span.Start < c.span.End+window && c.span.Start < d.span.End+window
		}
		if ok {
			keep = append(keep, c)
		}
	}
	slices.SortStableFunc(keep, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.part, b.part), cmp.Compare(a.span.Start, b.span.Start), cmp.Compare(b.span.End, a.span.End), strings.Compare(string(a.span.Kind), string(b.span.Kind)))
	})
	var out []Span
	for _, c := range keep {
		// The same kind over an overlapping range is one finding: keep
		// the first (longest) one.
		if slices.ContainsFunc(out, func(s Span) bool {
			return s.Part == c.span.Part && s.Kind == c.span.Kind && s.Start < c.span.End && c.span.Start < s.End
		}) {
			continue
		}
		out = append(out, c.span)
	}
	return out
}

// Kinds returns the distinct kinds of spans, in order of first appearance.
func Kinds(spans []Span) []Kind {
	var out []Kind
	for _, s := range spans {
		if !slices.Contains(out, s.Kind) {
			out = append(out, s.Kind)
		}
	}
	return out
}

// --- text helpers --------------------------------------------------------

func lineCol(t string, off int) (int, int) {
	line := 1 + strings.Count(t[:off], "\n")
	col := off - strings.LastIndexByte(t[:off], '\n')
	return line, col
}

// oneLine collapses white space and cuts s to max runes.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max-1]) + "…"
	}
	return s
}

// excerpt is orig on one line, shortened, with the characters that hide or
// reorder text shown as escapes (a reviewer must see them, and a terminal
// must not act on them).
func excerpt(orig string) string {
	var b strings.Builder
	inTags := false
	for _, r := range oneLine(orig, 160) {
		if isTag(r) {
			// A run of tag characters is shown as the ASCII it hides.
			if !inTags {
				b.WriteString("[tags:")
				inTags = true
			}
			if a := r - 0xE0000; a >= 0x20 && a < 0x7F {
				b.WriteRune(a)
			}
			continue
		}
		if inTags {
			b.WriteString("]")
			inTags = false
		}
		if isInvisible(r) || (unicode.IsControl(r) && r != '\t') {
			b.WriteString(`\u`)
			b.WriteString(strings.ToUpper(strconvHex(r)))
			continue
		}
		b.WriteRune(r)
	}
	if inTags {
		b.WriteString("]")
	}
	return b.String()
}

func strconvHex(r rune) string {
	const digits = "0123456789abcdef"
	var buf [8]byte
	i := len(buf)
	for n := uint32(r); ; n >>= 4 {
		i--
		buf[i] = digits[n&0xF]
		if n < 0x10 {
			break
		}
	}
	s := string(buf[i:])
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// --- right-to-left overrides --------------------------------------------

// reRLO finds a run under a right-to-left override: it displays in the
// reverse of the order a model reads it.
var reRLO = lazyre.New("\u202E[^\u202C\u2069\n]*")

// scanReversed reads each right-to-left override run in display order.
func scanReversed(idx int, name, text string, depth int, ref bool) []cand {
	if !strings.Contains(text, "\u202E") {
		return nil // what every run starts with: most texts have none
	}
	var out []cand
	for _, loc := range reRLO.FindAllStringIndex(text, -1) {
		run := []rune(text[loc[0]+len("\u202E") : loc[1]])
		slices.Reverse(run)
		for _, c := range scanPart(idx, name, string(run), depth+1, ref) {
			out = append(out, relocate(c, text, loc[0], loc[1], "bidi-reversed"))
		}
	}
	return out
}

// relocate points a candidate found in decoded text at the original range
// [start, end) of text it was decoded from.
func relocate(c cand, text string, start, end int, via string) cand {
	orig := text[start:end]
	c.span.Decoded = cmp.Or(c.span.Decoded, c.span.Excerpt)
	c.span.Start, c.span.End = start, end
	c.span.Line, c.span.Column = lineCol(text, start)
	c.span.Excerpt = excerpt(orig)
	c.span.Via = append([]string{via}, c.span.Via...)
	for _, o := range obfuscations(orig) {
		if !slices.Contains(c.span.Via, o) {
			c.span.Via = append(c.span.Via, o)
		}
	}
	return c
}

// --- base64 ---------------------------------------------------------------

// reBase64 finds base64 blobs of at least 24 characters, possibly wrapped
// over several lines.
var reBase64 = lazyre.New(`[A-Za-z0-9+/]{24,}={0,2}(?:[ \t]*\n[ \t]*[A-Za-z0-9+/]{4,}={0,2})*`)

// scanBase64 decodes each base64 blob that holds text and reads it.
func scanBase64(idx int, name, text string, depth int, ref bool) []cand {
	if !hasBase64Run(text) {
		return nil
	}
	var out []cand
	for _, loc := range reBase64.FindAllStringIndex(text, -1) {
		blob := strings.Join(strings.Fields(text[loc[0]:loc[1]]), "")
		dec, err := base64.StdEncoding.DecodeString(blob)
		if err != nil {
			dec, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(blob, "="))
		}
		if err != nil || !looksLikeProse(dec) {
			continue
		}
		for _, c := range scanPart(idx, name, string(dec), depth+1, ref) {
			out = append(out, relocate(c, text, loc[0], loc[1], "base64"))
		}
	}
	return out
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasBase64Run reports whether text has a run of 24 base64 characters,
// which every reBase64 match starts with: most texts have none, and a
// byte loop is far cheaper than the regular expression. A run that starts
// at or after i holds text[i+23] when it starts by then, so the loop
// looks there first and, when that byte is not base64, skips 24 bytes.
func hasBase64Run(text string) bool {
	const run = 24
	for i := 0; i+run <= len(text); {
		q := i + run - 1
		if !isBase64Byte(text[q]) {
			i = q + 1
			continue
		}
		// The run through q, from i on.
		s, e := q, q+1
		for s > i && isBase64Byte(text[s-1]) {
			s--
		}
		for e < len(text) && e-s < run && isBase64Byte(text[e]) {
			e++
		}
		if e-s >= run {
			return true
		}
		// Every run of 24 that starts before e holds text[s-1] or
		// text[e], which are not base64.
		i = e + 1
	}
	return false
}

// isBase64Byte reports whether c is in base64's alphabet (padding aside):
// A-Z, a-z, 0-9, + and /.
func isBase64Byte(c byte) bool { return base64Bytes.has(c) }

// byteSet is a set of bytes, a bit each.
type byteSet [4]uint64

func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }

// base64Bytes is base64's alphabet (TestByteSets spells it out).
var base64Bytes = byteSet{0x03ff880000000000, 0x07fffffe07fffffe}

// looksLikeProse reports whether b is UTF-8 text of words: printable, with
// spaces between words.
func looksLikeProse(b []byte) bool {
	if !utf8.Valid(b) || len(b) < 12 {
		return false
	}
	var printable, spaces, total int
	for _, r := range string(b) {
		total++
		if r == ' ' {
			spaces++
		}
		if unicode.IsPrint(r) || r == '\n' || r == '\t' {
			printable++
		}
	}
	return printable*100 >= total*95 && spaces >= 2
}
