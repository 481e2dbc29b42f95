package baseline

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
)

// Feature name prefixes. Text features (words and word pairs) have no
// prefix; the tokenizer never yields a ':' so the spaces cannot collide.
const (
	prefixRule     = "rule:"    // a rule that fired, by id
	prefixRuleCat  = "rulecat:" // the category a fired rule is evidence for
	prefixFact     = "fact:"    // a fact the extractors found (or did not)
	prefixPriv     = "priv:"    // a privilege the report says is needed
	prefixMissing  = "missing:" // information rules.MissingInfo says is lacking
	maxTokenLength = 32         // longer tokens are hashes, base64 or noise
	minTokenLength = 2          // single characters carry no meaning
	hexNoiseLength = 8          // hex-looking tokens this long are addresses
)

// feature is one distinct feature of a report with its weight: how many
// times it counts in the multinomial model.
type feature struct {
	name   string
	weight int
}

// extract returns the distinct features of a report, in a fixed order: the
// rules' features (findings, then facts), then text features in order of
// first occurrence, at most maxText of them, then (when charN > 0) the
// character charN-grams of the words, at most maxText more. Each rule or
// fact feature weighs ruleWeight, each text feature 1.
//
// It is the baseline's share of a report's CPU beside a model (the vote),
// so it allocates a feature's name only when the feature is new: a word
// pair is looked up from a scratch buffer, and the grams of a word of
// ASCII letters are substrings of the framed word (see charGrams).
func extract(r *intake.Report, ev *rules.Evaluation, maxText, ruleWeight, charN int) []feature {
	parts := r.Parts()
	size := 0
	for _, p := range parts {
		size += len(p.Text)
	}
	// Reports of prose and code give about one distinct word or pair in
	// ten bytes, one distinct gram in six.
	hint := min(size/10, maxText)
	if charN > 0 {
		hint += min(size/6, maxText)
	}
	seen := make(map[string]struct{}, hint+32)
	out := make([]feature, 0, hint+32)
	add := func(name string, w int) bool {
		if _, dup := seen[name]; dup {
			return false
		}
		seen[name] = struct{}{}
		out = append(out, feature{name: name, weight: w})
		return true
	}
	for _, name := range ruleFeatures(ev) {
		add(name, ruleWeight)
	}
	// Each part is tokenized once: the words the first pass read are kept
	// for the grams, which go on from where it stopped.
	words := make([]partWords, len(parts))
	n := 0
	var pair []byte
	for i, p := range parts {
		words[i].t = tokenizer{s: p.Text}
		if n >= maxText {
			continue
		}
		prev := ""
		for {
			tok, ok := words[i].t.next()
			if !ok {
				break
			}
			words[i].read = append(words[i].read, tok)
			if add(tok, 1) {
				n++
			}
			if prev != "" && n < maxText {
				pair = append(append(append(pair[:0], prev...), ' '), tok...)
				if _, dup := seen[string(pair)]; !dup && add(string(pair), 1) {
					n++
				}
			}
			if n >= maxText {
				break
			}
			prev = tok
		}
	}
	if charN > 0 {
		n = 0
		for i := range words {
			for tok := range words[i].all() {
				for g := range charGrams(tok, charN) {
					if n >= maxText {
						return out
					}
					if add(g, 1) {
						n++
					}
				}
			}
		}
	}
	return out
}

// partWords are the words of a part: those read so far, and the tokenizer
// that reads the rest.
type partWords struct {
	read []string
	t    tokenizer
}

// all yields every word of the part: those read, then the rest.
func (w *partWords) all() func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for _, tok := range w.read {
			if !yield(tok) {
				return
			}
		}
		for tok, ok := w.t.next(); ok; tok, ok = w.t.next() {
			if !yield(tok) {
				return
			}
		}
	}
}

// charGrams yields the character n-grams of a word framed by '<' and '>'
// ("<pri", "priv", ..., "ged>" for n 4), so that words sharing a stem or a
// root (privilege, privileged, unprivileged) share features even when
// written differently. A word shorter than n-1 characters gives none (it
// is a feature itself). The frame characters never occur in a token, so a
// gram cannot be mistaken for a word. The grams of an ASCII word are
// substrings of one framed string.
func charGrams(tok string, n int) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		framed := "<" + tok + ">"
		if isASCII(tok) {
			if len(framed) < n+1 {
				return
			}
			for i := 0; i+n <= len(framed); i++ {
				if !yield(framed[i : i+n]) {
					return
				}
			}
			return
		}
		rs := []rune(framed)
		if len(rs) < n+1 {
			return
		}
		for i := 0; i+n <= len(rs); i++ {
			if !yield(string(rs[i : i+n])) {
				return
			}
		}
	}
}

// isASCII reports whether s is all ASCII, one byte a character.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// ruleFeatures names what the rules saw: each fired rule and its category,
// and a fixed set of facts. Facts that matter both ways (a reproducer, a
// stack trace) get a feature for their absence too, because a multinomial
// model learns nothing from a feature that is missing.
func ruleFeatures(ev *rules.Evaluation) []string {
	if ev == nil {
		return nil
	}
	var out []string
	for _, f := range ev.Findings {
		out = append(out, prefixRule+f.RuleID, prefixRuleCat+f.Category)
	}
	fa := &ev.Facts
	both := func(name string, has bool) {
		if has {
			out = append(out, prefixFact+name)
		} else {
			out = append(out, prefixFact+"no-"+name)
		}
	}
	some := func(name string, n int) {
		if n > 0 {
			out = append(out, prefixFact+name)
		}
	}
	both("reproducer", fa.HasReproducer)
	both("stack-trace", fa.HasStackTrace)
	switch {
	case (rules.Requires{Versions: "none"}).Holds(fa):
		out = append(out, prefixFact+"versions-none")
	case (rules.Requires{Versions: "eol-only"}).Holds(fa):
		out = append(out, prefixFact+"versions-eol-only")
	case (rules.Requires{Versions: "maintained"}).Holds(fa):
		out = append(out, prefixFact+"versions-maintained")
	}
	if slices.ContainsFunc(fa.Versions, func(v rules.Version) bool { return v.Vendor }) {
		out = append(out, prefixFact+"versions-vendor")
	}
	some("config-options", len(fa.ConfigOptions))
	some("debug-features", len(fa.DebugFeatures))
	some("out-of-tree", len(fa.OutOfTree))
	some("crafted-image", len(fa.CraftedImage))
	some("hardware-emulation", len(fa.HardwareEmulation))
	some("physical-access", len(fa.PhysicalAccess))
	some("cvss", len(fa.CVSS))
	some("ai-markers", len(fa.AIMarkers))
	some("injection", len(fa.Injection))
	some("files", len(fa.Files))
	some("functions", len(fa.Functions))
	if len(fa.Privileges) == 0 {
		out = append(out, prefixPriv+"none-stated")
	}
	for _, p := range fa.Privileges {
		out = append(out, prefixPriv+strings.ToLower(p))
	}
	for _, m := range ev.Missing {
		out = append(out, prefixMissing+m)
	}
	return out
}

// tokens yields the lowercased words of s: maximal runs of letters, digits
// and underscores (so CONFIG_KASAN and cap_sys_admin stay whole), leaving
// out single characters, numbers, hex addresses and overlong tokens.
func tokens(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		t := tokenizer{s: s}
		for tok, ok := t.next(); ok; tok, ok = t.next() {
			if !yield(tok) {
				return
			}
		}
	}
}

// tokenizer reads the words of s (see tokens) one at a time.
type tokenizer struct {
	s string
	i int // the next byte to look at; len(s)+1 once done
}

// next returns the next word, or false when there is none left.
func (t *tokenizer) next() (string, bool) {
	s, start := t.s, -1
	for t.i <= len(s) {
		i := t.i
		r, size := rune(0), 1
		if i < len(s) {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		t.i += size
		word := i < len(s) && (r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r))
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			if tok, ok := keep(s[start:i]); ok {
				return tok, true
			}
			start = -1
		}
	}
	return "", false
}

// keep lowercases a raw token and says whether it is worth a feature.
func keep(raw string) (string, bool) {
	n := utf8.RuneCountInString(raw)
	if n < minTokenLength || n > maxTokenLength {
		return "", false
	}
	tok := strings.ToLower(raw)
	digits, hex := 0, true
	for _, c := range tok {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'f':
		default:
			hex = false
		}
	}
	switch {
	case digits == n: // a plain number
		return "", false
	case strings.HasPrefix(tok, "0x"): // a hex literal
		return "", false
	case hex && digits > 0 && n >= hexNoiseLength: // an address or hash
		return "", false
	}
	return tok, true
}
