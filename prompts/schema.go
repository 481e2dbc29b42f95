package prompts

import (
	"bytes"
	"encoding/json"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// SchemaName names the answer schema for APIs that want a name (OpenAI's
// response_format.json_schema.name).
const SchemaName = "secscreen_answer"

// field is one property of the answer schema.
type field struct {
	name   string
	schema map[string]any
}

// answerFields lists the answer's properties in the order a model should
// write them: the facts first, then the reasoning, then the decision, so
// that the decision is conditioned on what came before.
func answerFields(tm *threatmodel.Model) []field {
	str := func(desc string) map[string]any {
		return map[string]any{"type": "string", "description": desc}
	}
	strs := func(desc string) map[string]any {
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": desc}
	}
	verdicts := make([]string, len(threatmodel.Verdicts))
	for i, v := range threatmodel.Verdicts {
		verdicts[i] = string(v)
	}
	ids := tm.IDs()
	return []field{
		{"attacker_privileges", str("The attacker's starting privileges as the report establishes them; \"unknown\" when it does not say.")},
		{"boundary_crossed", str("The trust boundary the report shows crossed; \"none\" when none.")},
		{"missing_information", strs("Facts the reporter must supply before a decision is possible.")},
		{"ai_generated_signs", strs("Signs that the report is an unverified tool or AI output.")},
		{"cited_clauses", map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": ids}, "description": "Threat model category ids the decision rests on, the chosen category first."}},
		{"rationale", str("Two to four sentences tying the report's facts to the threat model.")},
		{"verdict", map[string]any{"type": "string", "enum": verdicts, "description": "The verdict."}},
		{"category", map[string]any{"type": "string", "enum": ids, "description": "A category id that belongs to the verdict."}},
		{"confidence", map[string]any{"type": "number", "minimum": 0, "maximum": 1, "description": "Probability from 0 to 1 that the verdict is right."}},
	}
}

// Schema returns the JSON Schema of the answer for a threat model: an
// object whose properties are all required and that allows no others, with
// enums for the verdict and for category ids, in the subset of JSON Schema
// (draft 2020-12) that OpenAI's strict structured outputs and Ollama's
// format parameter accept. Properties appear in the order a model should
// fill them (facts, rationale, then the decision).
func Schema(tm *threatmodel.Model) json.RawMessage {
	fields := answerFields(tm)
	var b bytes.Buffer
	b.WriteString(`{"type":"object","properties":{`)
	required := make([]string, len(fields))
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.name)
		v, _ := json.Marshal(f.schema)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
		required[i] = f.name
	}
	req, _ := json.Marshal(required)
	b.WriteString(`},"required":`)
	b.Write(req)
	b.WriteString(`,"additionalProperties":false}`)
	return json.RawMessage(b.Bytes())
}
