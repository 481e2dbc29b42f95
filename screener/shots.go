package screener

import (
	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// ShotPicker returns an LLMConfig.Shots function that shows the model n labeled
// examples, spread over the verdicts in turn (security, not-security,
// needs-info, invalid, then again) in the order given, so every report sees
// the same examples. A report never sees itself: an example with the same
// id or the same content hash is passed over.
func ShotPicker(examples []prompts.Shot, n int) func(r *intake.Report) []prompts.Shot {
	byVerdict := map[threatmodel.Verdict][]prompts.Shot{}
	for _, ex := range examples {
		byVerdict[ex.Verdict] = append(byVerdict[ex.Verdict], ex)
	}
	return func(r *intake.Report) []prompts.Shot {
		var out []prompts.Shot
		next := map[threatmodel.Verdict]int{}
		for progress := true; len(out) < n && progress; {
			progress = false
			for _, v := range threatmodel.Verdicts {
				list := byVerdict[v]
				for next[v] < len(list) && len(out) < n {
					ex := list[next[v]]
					next[v]++
					if same(ex.Report, r) {
						continue
					}
					out = append(out, ex)
					progress = true
					break
				}
			}
		}
		return out
	}
}

func same(a, b *intake.Report) bool {
	return a != nil && b != nil && ((a.ID != "" && a.ID == b.ID) || (a.Hash != "" && a.Hash == b.Hash))
}
