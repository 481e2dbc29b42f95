package injection

import (
	"strings"
	"sync"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// reJSONPair finds a key and a scalar value.
var reJSONPair = lazyre.New(`"([A-Za-z_ -]{1,40})"\s*:\s*("(?:[^"\\\n]|\\.){0,200}"|-?[0-9][0-9.]*|true|false|null)`)

// answerKeys are the keys of a screening model's answer (prompts'
// schema): an object with several of them is an answer written in
// advance. Made at first use.
var answerKeys = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		"verdict": true, "category": true, "confidence": true, "rationale": true, "cited_clauses": true,
		"attacker_privileges": true, "boundary_crossed": true, "missing_information": true, "ai_generated_signs": true,
	}
})

// scanJSON finds JSON objects that are a model's answer: a verdict key
// whose value is a verdict, a category id under "category", a security
// yes/no, or three keys of the answer schema. A crash record with
// "severity": "high" or a netfilter log with "verdict": "drop" is not.
func scanJSON(idx int, name string, v *view) []cand {
	var out []cand
	for _, loc := range flatObjects(v.norm) {
		if loc[1]-loc[0] > 4000 {
			continue
		}
		obj := v.norm[loc[0]:loc[1]]
		if q := strings.IndexByte(obj, '"'); q < 0 || strings.IndexByte(obj[q:], ':') < 0 {
			continue // no pair: each is a quote, then a colon (a C block, say)
		}
		schema := 0
		answer := false
		for _, p := range reJSONPair.FindAllStringSubmatch(obj, -1) {
			key := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(p[1]), " ", "_"))
			val := strings.Trim(p[2], `"`)
			if answerKeys()[key] {
				schema++
			}
			switch key {
			case "verdict", "classification", "decision", "label", "triage", "triage_result", "triage_verdict", "screening_result", "result":
				if reVTWhole.MatchString(val) && (strongVT(val) || exactVerdict(val)) {
					answer = true
				}
			case "category":
				answer = answer || reCatWhole.MatchString(val)
			case "is_security", "is_security_bug", "is_security_issue", "is_vulnerability", "security_relevant", "security_bug", "security_issue":
				answer = answer || val == "true" || val == "false"
			}
		}
		if answer || schema >= 3 {
			out = append(out, newCand(idx, name, v, loc[0], loc[1], KindPrefilled, strong, "prefilled-json"))
		}
	}
	return out
}

var reCatWhole = lazyre.New(`(?i)^\s*` + catID + `\s*$`)

// flatObjects returns where t holds a flat JSON object (nested ones are
// read from the inside out): a {, at least one byte that is not a brace,
// and a }. They are the matches of `\{[^{}]+\}`, found without the
// regular expression: such a match cannot hold a brace, so the one that
// starts at a { ends at the next brace, if that is a } and not the next
// byte.
func flatObjects(t string) [][2]int {
	var out [][2]int
	for i := 0; ; {
		open := strings.IndexByte(t[i:], '{')
		if open < 0 {
			return out
		}
		open += i
		next := strings.IndexAny(t[open+1:], "{}")
		if next < 0 {
			return out
		}
		next += open + 1
		switch {
		case t[next] == '{':
			i = next
		case next == open+1:
			i = next + 1 // "{}"
		default:
			out = append(out, [2]int{open, next + 1})
			i = next + 1
		}
	}
}
