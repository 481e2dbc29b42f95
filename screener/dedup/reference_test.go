package dedup

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/secscreen/secscreen/screener/intake"
)

// This file keeps the fingerprint as it was computed before the fast path
// (one string per step, a token slice, 128 hashes of every shingle, repeats
// included): the reference the fast path must equal, value for value, since
// signatures and hashes are stored in the history and compared across
// versions. TestFastFingerprintEqualsReference compares them.

// refOf is the reference Of.
func refOf(r *intake.Report) Fingerprint {
	text := refText(r)
	canon := refCanonical(text)
	sum := sha256.Sum256([]byte(canon))
	return Fingerprint{
		Hash:    hex.EncodeToString(sum[:]),
		Sig:     refSign(refTokens(head(canon, MaxSignedBytes))),
		Signals: refSignals(r.Subject, head(text, MaxSignedBytes)),
	}
}

func refText(r *intake.Report) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(subjectTags.ReplaceAllString(r.Subject, "")))
	b.WriteByte('\n')
	b.WriteString(refDequote(r.Body))
	for _, a := range r.Attachments {
		if !a.Binary && a.Text != "" {
			b.WriteByte('\n')
			b.WriteString(a.Text)
		}
	}
	return b.String()
}

func refDequote(body string) string {
	lines := strings.Split(body, "\n")
	out := make([]string, 0, len(lines))
	for i, l := range lines {
		t := strings.TrimRight(l, "\r")
		if t == "-- " {
			break
		}
		if strings.HasPrefix(strings.TrimLeft(t, " \t"), ">") {
			continue
		}
		if attribution.MatchString(t) && refNextQuoted(lines[i+1:]) {
			continue
		}
		out = append(out, t)
	}
	return strings.Join(out, "\n")
}

func refNextQuoted(lines []string) bool {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" {
			continue
		}
		return strings.HasPrefix(t, ">")
	}
	return false
}

func refCanonical(text string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(norm.NFKC.String(text)), unicode.IsSpace), " ")
}

func refTokens(canonical string) []string {
	var toks []string
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		toks = append(toks, refMaskToken(canonical[start:end]))
		start = -1
	}
	for i, c := range canonical {
		word := c == '_' || c == '.' || c == '/' || c == '-' || unicode.IsLetter(c) || unicode.IsDigit(c)
		if word {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(canonical))
	out := toks[:0]
	for _, t := range toks {
		t = strings.Trim(t, ".-/")
		if t == "" || refIsTimestamp(t) {
			continue
		}
		out = append(out, t)
	}
	return out
}

func refMaskToken(t string) string {
	if strings.HasPrefix(t, "0x") && len(t) > 2 && refIsHex(t[2:]) {
		return "0x#"
	}
	if len(t) >= 8 && refIsHex(t) && strings.ContainsAny(t, "0123456789") {
		return "#h"
	}
	if strings.HasPrefix(t, "0x") && strings.Contains(t, "/0x") {
		return "0x#"
	}
	return t
}

func refIsTimestamp(t string) bool {
	dot := strings.IndexByte(t, '.')
	if dot < 1 || len(t)-dot-1 != 6 {
		return false
	}
	for i, c := range t {
		if i != dot && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func refIsHex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func refSign(tokens []string) Signature {
	if len(tokens) == 0 {
		return nil
	}
	sig := make(Signature, NumHashes)
	for i := range sig {
		sig[i] = math.MaxUint32
	}
	n := max(len(tokens)-ShingleWords+1, 1)
	for i := range n {
		base := uint64(fnvOffset)
		for j := i; j < i+ShingleWords && j < len(tokens); j++ {
			for k := 0; k < len(tokens[j]); k++ {
				base = (base ^ uint64(tokens[j][k])) * fnvPrime
			}
			base *= fnvPrime // a 0 byte between tokens
		}
		for k := range sig {
			if v := uint32(mix64(base^seeds[k]) >> 32); v < sig[k] {
				sig[k] = v
			}
		}
	}
	return sig
}

// refSignals is the reference Signals: the text split into a new slice,
// lowered into a new string.
func refSignals(subject, text string) []Signal {
	var out []Signal
	add := func(kind, value string) {
		s := Signal{Kind: kind, Value: value}
		if value != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if m := syzTitle.FindStringSubmatch(strings.TrimSpace(subjectTags.ReplaceAllString(subject, ""))); m != nil {
		add(SignalTitle, normalType(m[syzTitle.SubexpIndex("typ")])+" in "+funcName(m[syzTitle.SubexpIndex("fn")]))
	}
	lines := strings.Split(text, "\n")
	if c, ok := readCrash(lines); ok {
		if c.culprit != "" {
			add(SignalTitle, c.typ+" in "+c.culprit)
		}
		if len(c.frames) > 0 {
			add(SignalCrash, c.typ+": "+strings.Join(c.frames, " "))
		}
	}
	lower := strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, text)
	if strings.Contains(lower, "cve-") {
		for _, m := range cveID.FindAllStringSubmatch(text, -1) {
			add(SignalCVE, "CVE-"+m[1]+"-"+m[2])
		}
	}
	if strings.Contains(lower, "fixes:") || strings.Contains(lower, "commit") {
		for _, m := range commitID.FindAllStringSubmatch(text, -1) {
			add(SignalCommit, strings.ToLower(m[1][:12]))
		}
	}
	pairs := 0
	for i, l := range lines {
		if pairs == maxFileFunctions {
			break
		}
		paths := filePath.FindAllString(l, -1)
		if len(paths) != 1 {
			continue
		}
		fns := functionsIn(l)
		if len(fns) == 0 && i > 0 && !filePath.MatchString(lines[i-1]) {
			fns = functionsIn(lines[i-1])
		}
		if len(fns) == 0 && i+1 < len(lines) && !filePath.MatchString(lines[i+1]) {
			fns = functionsIn(lines[i+1])
		}
		for _, fn := range fns {
			if generic(fn) || utility(fn) || pairs == maxFileFunctions {
				continue
			}
			n := len(out)
			add(SignalFileFunction, paths[0]+":"+fn)
			if len(out) > n {
				pairs++
			}
		}
	}
	slices.SortFunc(out, compareSignals)
	return out
}

// refCompare is the reference Options.Compare: the whole similarity
// counted for every pair and every signal compared, then the same
// decision (Options.match).
func refCompare(o Options, q, c Fingerprint) (Match, bool) {
	o = o.withDefaults()
	if q.Hash != "" && q.Hash == c.Hash {
		return Match{Signal: SignalExact, Similarity: 1}, true
	}
	sim := 0.0
	if len(q.Sig) == NumHashes && len(c.Sig) == NumHashes {
		same := 0
		for i := range q.Sig {
			if q.Sig[i] == c.Sig[i] {
				same++
			}
		}
		sim = float64(same) / NumHashes
	}
	var shared []Signal
	for _, s := range q.Signals {
		if slices.Contains(c.Signals, s) {
			shared = append(shared, s)
		}
	}
	slices.SortStableFunc(shared, func(x, y Signal) int { return strength(x.Kind) - strength(y.Kind) })
	return o.match(shared, sim)
}
