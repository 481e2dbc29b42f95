package prompts

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

func TestSchema(t *testing.T) {
	tm := threatmodel.Kernel()
	raw := Schema(tm)
	require.True(t, json.Valid(raw))
	var s struct {
		Type                 string                     `json:"type"`
		Properties           map[string]json.RawMessage `json:"properties"`
		Required             []string                   `json:"required"`
		AdditionalProperties *bool                      `json:"additionalProperties"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&s))
	assert.Equal(t, "object", s.Type)
	require.NotNil(t, s.AdditionalProperties)
	assert.False(t, *s.AdditionalProperties)

	props := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		props = append(props, k)
	}
	assert.ElementsMatch(t, props, s.Required, "every property is required")
	assert.ElementsMatch(t, answerKeys, s.Required)
	// The answer struct has exactly the schema's fields.
	b, err := json.Marshal(Answer{})
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(b, &fields))
	assert.Len(t, fields, len(s.Required))
	for _, k := range s.Required {
		assert.Contains(t, fields, k)
	}

	type prop struct {
		Type    string   `json:"type"`
		Enum    []string `json:"enum"`
		Minimum *float64 `json:"minimum"`
		Maximum *float64 `json:"maximum"`
		Items   *prop    `json:"items"`
		Desc    string   `json:"description"`
	}
	get := func(k string) prop {
		var p prop
		require.NoError(t, json.Unmarshal(s.Properties[k], &p), k)
		assert.NotEmpty(t, p.Desc, k)
		return p
	}
	assert.Equal(t, []string{"security", "not-security", "needs-info", "invalid"}, get("verdict").Enum)
	assert.Equal(t, tm.IDs(), get("category").Enum)
	c := get("confidence")
	assert.Equal(t, "number", c.Type)
	require.NotNil(t, c.Minimum)
	require.NotNil(t, c.Maximum)
	assert.Equal(t, 0.0, *c.Minimum)
	assert.Equal(t, 1.0, *c.Maximum)
	for _, k := range []string{"attacker_privileges", "boundary_crossed", "rationale", "verdict", "category"} {
		assert.Equal(t, "string", get(k).Type, k)
	}
	for _, k := range []string{"missing_information", "ai_generated_signs", "cited_clauses"} {
		p := get(k)
		assert.Equal(t, "array", p.Type, k)
		require.NotNil(t, p.Items, k)
		assert.Equal(t, "string", p.Items.Type, k)
	}
	assert.Equal(t, tm.IDs(), get("cited_clauses").Items.Enum)

	// The decision comes last, after the facts and the rationale.
	assert.Less(t, slices.Index(answerKeys, "rationale"), slices.Index(answerKeys, "verdict"))
	assert.Less(t, strings.Index(string(raw), `"rationale"`), strings.Index(string(raw), `"verdict"`))
	// Deterministic bytes, so the system message and caches are stable.
	assert.Equal(t, raw, Schema(tm))
}

const goodAnswer = `{
  "attacker_privileges": "unprivileged local user",
  "boundary_crossed": "reads kernel memory",
  "missing_information": [],
  "ai_generated_signs": [],
  "cited_clauses": ["isolation.memory"],
  "rationale": "Any user reaches the freed object and reads kernel memory.",
  "verdict": "security",
  "category": "isolation.memory",
  "confidence": 0.8
}`

func TestParseAnswerAccepts(t *testing.T) {
	tm := threatmodel.Kernel()
	want := Answer{
		Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}, Confidence: 0.8,
		AttackerPrivileges: "unprivileged local user", BoundaryCrossed: "reads kernel memory",
		MissingInformation: []string{}, AIGeneratedSigns: []string{},
		Rationale: "Any user reaches the freed object and reads kernel memory.", CitedClauses: []string{"isolation.memory"},
	}
	for name, content := range map[string]string{
		"plain":          goodAnswer,
		"white space":    "\n\t  " + goodAnswer + "  \n\n",
		"json fence":     "```json\n" + goodAnswer + "\n```",
		"bare fence":     "  ```\n" + goodAnswer + "\n```\n",
		"JSON fence":     "```JSON\n" + goodAnswer + "```",
		"confidence 0":   strings.Replace(goodAnswer, "0.8", "0", 1),
		"confidence 1":   strings.Replace(goodAnswer, "0.8", "1.0", 1),
		"int confidence": strings.Replace(goodAnswer, "0.8", "1", 1),
	} {
		t.Run(name, func(t *testing.T) {
			a, err := ParseAnswer(content, tm)
			require.NoError(t, err)
			w := want
			switch name {
			case "confidence 0":
				w.Confidence = 0
			case "confidence 1", "int confidence":
				w.Confidence = 1
			}
			assert.Equal(t, w, a)
		})
	}
}

// edit returns goodAnswer with one field replaced (or removed when value
// is empty) and extra fields added.
func edit(t *testing.T, changes map[string]string) string {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(goodAnswer), &m))
	for k, v := range changes {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = json.RawMessage(v)
		}
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func TestParseAnswerRejects(t *testing.T) {
	tm := threatmodel.Kernel()
	cases := []struct {
		name    string
		content string
		want    []string
	}{
		{"empty", "  \n", []string{"the reply is empty"}},
		{"prose before", "Here is my answer: " + goodAnswer, []string{"not a JSON object"}},
		{"prose after", goodAnswer + "\nHope this helps!", []string{"text after the JSON object"}},
		{"two objects", goodAnswer + goodAnswer, []string{"text after the JSON object"}},
		{"text after fence", "```json\n" + goodAnswer + "\n```\nThanks", []string{"not closed, or text follows it"}},
		{"unclosed fence", "```json\n" + goodAnswer, []string{"not closed"}},
		{"fence only", "```json", []string{"unterminated code fence"}},
		{"other language", "```yaml\nverdict: security\n```", []string{`fenced as "yaml"`}},
		{"array", "[1, 2]", []string{"not a JSON object"}},
		{"null", "null", []string{"not a JSON object"}},
		{"unknown fields", edit(t, map[string]string{"severity": `"high"`, "cvss": `9.8`}), []string{`unknown field "cvss"`, `unknown field "severity"`}},
		{"missing fields", edit(t, map[string]string{"rationale": "", "confidence": "", "cited_clauses": ""}),
			[]string{`missing field "rationale"`, `missing field "confidence"`, `missing field "cited_clauses"`, "3 problems"}},
		{"confidence as string", edit(t, map[string]string{"confidence": `"0.9"`}), []string{`field "confidence" must be a number, got a string "0.9"`}},
		{"confidence null", edit(t, map[string]string{"confidence": `null`}), []string{`field "confidence" must be a number, got null`}},
		{"confidence above 1", edit(t, map[string]string{"confidence": `1.5`}), []string{`field "confidence": 1.5 is outside [0, 1]`}},
		{"confidence below 0", edit(t, map[string]string{"confidence": `-0.1`}), []string{`-0.1 is outside [0, 1]`}},
		{"verdict as number", edit(t, map[string]string{"verdict": `3`}), []string{`field "verdict" must be a string, got a number 3`}},
		{"verdict null", edit(t, map[string]string{"verdict": `null`}), []string{`field "verdict" must be a string, got null`}},
		{"rationale object", edit(t, map[string]string{"rationale": `{"a":1}`}), []string{`field "rationale" must be a string, got an object`}},
		{"empty rationale", edit(t, map[string]string{"rationale": `"  "`}), []string{`field "rationale" is empty`}},
		{"array of numbers", edit(t, map[string]string{"missing_information": `[1]`}), []string{`field "missing_information" must be an array of strings, got an array [1]`}},
		{"array null", edit(t, map[string]string{"ai_generated_signs": `null`}), []string{`field "ai_generated_signs" must be an array of strings, got null`}},
		{"array as string", edit(t, map[string]string{"cited_clauses": `"isolation.memory"`}), []string{`field "cited_clauses" must be an array of strings`}},
		{"bool", edit(t, map[string]string{"boundary_crossed": `true`}), []string{`got a boolean true`}},
		{"unknown verdict", edit(t, map[string]string{"verdict": `"maybe"`}), []string{`field "verdict": unknown verdict "maybe"`}},
		{"unknown category", edit(t, map[string]string{"category": `"privilege.kernel"`}), []string{`field "category": "privilege.kernel" is not a category`}},
		{"category of another verdict", edit(t, map[string]string{"category": `"privilege.root"`}),
			[]string{`"verdict" and "category" do not match`, `"privilege.root" belongs to verdict "not-security", not "security"`}},
		{"unknown cited clause", edit(t, map[string]string{"cited_clauses": `["isolation.memory", "cve.2024.1234", "bogus"]`}),
			[]string{`"cve.2024.1234" is not a category`, `"bogus" is not a category`}},
		{"many problems at once", edit(t, map[string]string{"verdict": `"maybe"`, "confidence": `7`, "extra": `1`}),
			[]string{"3 problems", `unknown field "extra"`, `"maybe"`, "7 is outside"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseAnswer(c.content, tm)
			require.Error(t, err)
			var ae *AnswerError
			require.True(t, errors.As(err, &ae), "error is an *AnswerError")
			require.NotEmpty(t, ae.Problems)
			assert.True(t, strings.HasPrefix(err.Error(), "invalid answer: "))
			assert.NotContains(t, err.Error(), "\n", "the message is one line")
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseAnswerUsesTheGivenModel(t *testing.T) {
	tm, err := threatmodel.ParseYAML([]byte("name: w\nclauses:\n  - id: w.a\n    verdict: security\n"), "w.yaml")
	require.NoError(t, err)
	content := edit(t, map[string]string{"category": `"w.a"`, "cited_clauses": `["w.a"]`})
	a, err := ParseAnswer(content, tm)
	require.NoError(t, err)
	assert.Equal(t, "w.a", a.Category)
	_, err = ParseAnswer(goodAnswer, tm)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"isolation.memory" is not a category`)
}

func TestRepairInstruction(t *testing.T) {
	_, err := ParseAnswer(edit(t, map[string]string{"confidence": `2`, "verdict": `"maybe"`}), threatmodel.Kernel())
	require.Error(t, err)
	msg := RepairInstruction(err)
	var ae *AnswerError
	require.True(t, errors.As(err, &ae))
	for _, p := range ae.Problems {
		assert.Contains(t, msg, "\n- "+p+"\n")
	}
	assert.True(t, strings.HasPrefix(msg, "Your previous answer could not be used. The problems:\n"))
	assert.Contains(t, msg, "only the corrected JSON object")

	other := RepairInstruction(errors.New("backend said no"))
	assert.Contains(t, other, "\n- backend said no\n")
	assert.Contains(t, RepairInstruction(nil), "only the corrected JSON object")
	assert.NotContains(t, RepairInstruction(nil), "The problems")
}
