package prompts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// AnswerError is a reply that is not a valid answer. It lists every
// problem found, so that one repair request can fix them all.
type AnswerError struct {
	// Problems are short, self-contained descriptions, e.g.
	// `field "confidence": 1.5 is outside [0, 1]`.
	Problems []string
}

// Error joins the problems on one line.
func (e *AnswerError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid answer: " + e.Problems[0]
	}
	return fmt.Sprintf("invalid answer: %d problems: %s", len(e.Problems), strings.Join(e.Problems, "; "))
}

// answerKeys are the answer's fields in schema order.
var answerKeys = []string{
	"attacker_privileges", "boundary_crossed", "missing_information", "ai_generated_signs",
	"cited_clauses", "rationale", "verdict", "category", "confidence",
}

// ParseAnswer parses and validates a model's reply. The reply must be one
// JSON object, optionally surrounded by white space or wrapped in a
// Markdown code fence (```json ... ``` or ``` ... ```); any other text
// around it is an error. Every field of the schema must be present with
// the right type and no other field may appear; confidence must lie in
// [0, 1]; verdict, category and every cited clause must exist in tm, and
// category must belong to verdict. On failure the error is an
// *AnswerError listing every problem.
func ParseAnswer(content string, tm *threatmodel.Model) (Answer, error) {
	body, problem := unwrap(content)
	if problem != "" {
		return Answer{}, &AnswerError{Problems: []string{problem}}
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(body))
	if err := dec.Decode(&raw); err != nil || raw == nil {
		msg := "the reply is not a JSON object"
		if err != nil {
			msg += ": " + err.Error()
		}
		return Answer{}, &AnswerError{Problems: []string{msg}}
	}
	if dec.More() || dec.InputOffset() < int64(len(strings.TrimSpace(body))) {
		return Answer{}, &AnswerError{Problems: []string{"the reply has text after the JSON object"}}
	}

	var a Answer
	var probs []string
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	var unknown []string
	for k := range raw {
		if !slices.Contains(answerKeys, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		bad("unknown field %q", k)
	}
	str := func(key string, dst *string) bool {
		v, ok := raw[key]
		if !ok {
			bad("missing field %q", key)
			return false
		}
		if err := json.Unmarshal(v, dst); err != nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			bad("field %q must be a string, got %s", key, describe(v))
			return false
		}
		return true
	}
	strs := func(key string, dst *[]string) bool {
		v, ok := raw[key]
		if !ok {
			bad("missing field %q", key)
			return false
		}
		if err := json.Unmarshal(v, dst); err != nil || *dst == nil {
			bad("field %q must be an array of strings, got %s", key, describe(v))
			return false
		}
		return true
	}
	str("attacker_privileges", &a.AttackerPrivileges)
	str("boundary_crossed", &a.BoundaryCrossed)
	strs("missing_information", &a.MissingInformation)
	strs("ai_generated_signs", &a.AIGeneratedSigns)
	if strs("cited_clauses", &a.CitedClauses) && tm != nil {
		for _, id := range a.CitedClauses {
			if _, ok := tm.Clause(id); !ok {
				bad("field \"cited_clauses\": %q is not a category of the threat model", id)
			}
		}
	}
	if str("rationale", &a.Rationale) && strings.TrimSpace(a.Rationale) == "" {
		bad("field \"rationale\" is empty")
	}
	verdictOK := false
	var verdict string
	if str("verdict", &verdict) {
		if v, err := threatmodel.ParseVerdict(verdict); err != nil {
			bad("field \"verdict\": %v", err)
		} else {
			a.Verdict, verdictOK = v, true
		}
	}
	if str("category", &a.Category) && tm != nil {
		if _, ok := tm.Clause(a.Category); !ok {
			bad("field \"category\": %q is not a category of the threat model", a.Category)
		} else if verdictOK {
			if err := tm.Check(a.Verdict, a.Category); err != nil {
				bad("fields \"verdict\" and \"category\" do not match: %v", err)
			}
		}
	}
	if v, ok := raw["confidence"]; !ok {
		bad("missing field %q", "confidence")
	} else if err := json.Unmarshal(v, &a.Confidence); err != nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		bad("field \"confidence\" must be a number, got %s", describe(v))
	} else if a.Confidence < 0 || a.Confidence > 1 {
		bad("field \"confidence\": %v is outside [0, 1]", a.Confidence)
	}
	if len(probs) > 0 {
		return Answer{}, &AnswerError{Problems: probs}
	}
	return a, nil
}

// unwrap strips surrounding white space and one Markdown code fence, and
// returns a problem when other text surrounds the JSON.
func unwrap(content string) (string, string) {
	s := strings.TrimSpace(content)
	if s == "" {
		return "", "the reply is empty"
	}
	if !strings.HasPrefix(s, "```") {
		return s, ""
	}
	nl := strings.IndexByte(s, '\n')
	if nl < 0 {
		return "", "the reply is an unterminated code fence"
	}
	if lang := strings.TrimSpace(s[3:nl]); lang != "" && !strings.EqualFold(lang, "json") {
		return "", fmt.Sprintf("the reply is fenced as %q, not JSON", lang)
	}
	inner, ok := strings.CutSuffix(s[nl+1:], "```")
	if !ok {
		return "", "the reply's code fence is not closed, or text follows it"
	}
	return strings.TrimSpace(inner), ""
}

// describe names the JSON type of v for error messages, with a short
// excerpt.
func describe(v json.RawMessage) string {
	t := strings.TrimSpace(string(v))
	kind := "a value"
	switch {
	case t == "null":
		return "null"
	case strings.HasPrefix(t, `"`):
		kind = "a string"
	case strings.HasPrefix(t, "{"):
		kind = "an object"
	case strings.HasPrefix(t, "["):
		kind = "an array"
	case t == "true" || t == "false":
		kind = "a boolean"
	default:
		kind = "a number"
	}
	if len(t) > 40 {
		t = t[:40] + "..."
	}
	return kind + " " + t
}

// RepairInstruction is the user message asking the model to fix an
// answer: it quotes each problem (or the error) and asks for the corrected
// JSON object alone.
func RepairInstruction(err error) string {
	var b strings.Builder
	b.WriteString("Your previous answer could not be used.")
	var ae *AnswerError
	if e, ok := err.(*AnswerError); ok {
		ae = e
	} else if err != nil {
		ae = &AnswerError{Problems: []string{err.Error()}}
	}
	if ae != nil && len(ae.Problems) > 0 {
		b.WriteString(" The problems:\n")
		for _, p := range ae.Problems {
			b.WriteString("- ")
			b.WriteString(p)
			b.WriteByte('\n')
		}
	} else {
		b.WriteByte('\n')
	}
	b.WriteString("\nReply again with only the corrected JSON object: every field of the schema, no other fields, a category that belongs to the verdict, and no text before or after the object.")
	return b.String()
}
