package prompts

import (
	"testing"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

// FuzzParseAnswer: any model output is a valid answer or an error, never a
// panic; a valid answer pairs a known category with its verdict.
func FuzzParseAnswer(f *testing.F) {
	f.Add(`{"verdict":"security","category":"isolation.data","confidence":0.9,"attacker_privileges":"x","boundary_crossed":"y","missing_information":[],"ai_generated_signs":[],"rationale":"r","cited_clauses":["isolation.data"]}`)
	f.Add("```json\n{\"verdict\":\"invalid\"}\n```")
	f.Add(`{"verdict":"not-security","category":"isolation.data","confidence":2}`)
	tm := threatmodel.Kernel()
	f.Fuzz(func(t *testing.T, content string) {
		a, err := ParseAnswer(content, tm)
		if err != nil {
			return
		}
		v, ok := tm.VerdictOf(a.Category)
		if !ok || v != a.Verdict {
			t.Fatalf("accepted %s/%s, not a pair of the model", a.Verdict, a.Category)
		}
		if a.Confidence < 0 || a.Confidence > 1 {
			t.Fatalf("accepted confidence %v", a.Confidence)
		}
	})
}
