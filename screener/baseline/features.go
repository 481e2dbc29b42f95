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
func extract(r *intake.Report, ev *rules.Evaluation, maxText, ruleWeight, charN int) []feature {
	seen := map[string]bool{}
	var out []feature
	add := func(name string, w int) bool {
		if seen[name] {
			return false
		}
		seen[name] = true
		out = append(out, feature{name: name, weight: w})
		return true
	}
	for _, name := range ruleFeatures(ev) {
		add(name, ruleWeight)
	}
	n := 0
	for _, p := range r.Parts() {
		if n >= maxText {
			break
		}
		prev := ""
		for tok := range tokens(p.Text) {
			if add(tok, 1) {
				n++
			}
			if prev != "" && n < maxText && add(prev+" "+tok, 1) {
				n++
			}
			if n >= maxText {
				break
			}
			prev = tok
		}
	}
	if charN > 0 {
		n = 0
		for _, p := range r.Parts() {
			for tok := range tokens(p.Text) {
				for _, g := range charGrams(tok, charN) {
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

// charGrams returns the character n-grams of a word framed by '<' and '>'
// ("<pri", "priv", ..., "ged>" for n 4), so that words sharing a stem or a
// root (privilege, privileged, unprivileged) share features even when
// written differently. A word shorter than n-1 characters gives none (it
// is a feature itself). The frame characters never occur in a token, so a
// gram cannot be mistaken for a word.
func charGrams(tok string, n int) []string {
	rs := []rune("<" + tok + ">")
	if len(rs) < n+1 {
		return nil
	}
	out := make([]string, 0, len(rs)-n+1)
	for i := 0; i+n <= len(rs); i++ {
		out = append(out, string(rs[i:i+n]))
	}
	return out
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
		start := -1
		for i := 0; i <= len(s); {
			r, size := rune(0), 1
			if i < len(s) {
				r, size = utf8.DecodeRuneInString(s[i:])
			}
			word := i < len(s) && (r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r))
			switch {
			case word && start < 0:
				start = i
			case !word && start >= 0:
				if tok, ok := keep(s[start:i]); ok && !yield(tok) {
					return
				}
				start = -1
			}
			i += size
		}
	}
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
