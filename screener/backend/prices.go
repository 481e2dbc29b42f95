package backend

import "strings"

// Price is what a model costs, in dollars (or any one currency) per
// million tokens.
type Price struct {
	PromptPer1M     float64 `json:"prompt_per_1m" yaml:"prompt_per_1m"`
	CompletionPer1M float64 `json:"completion_per_1m" yaml:"completion_per_1m"`
}

// PriceTable maps model names to prices. Users fill it from their config
// file; secscreen ships no prices because they change too often.
type PriceTable map[string]Price

// Lookup finds the price of model: an exact entry first, else the longest
// entry that is a prefix of model followed by '-', ':', '@' or '/', so that
// "gpt-4o-mini" prices "gpt-4o-mini-2024-07-18" as servers report it.
func (t PriceTable) Lookup(model string) (Price, bool) {
	if p, ok := t[model]; ok {
		return p, true
	}
	best, found := "", false
	for name := range t {
		if len(name) <= len(best) || !strings.HasPrefix(model, name) || len(model) == len(name) {
			continue
		}
		if strings.ContainsRune("-:@/", rune(model[len(name)])) {
			best, found = name, true
		}
	}
	return t[best], found
}

// Cost returns the price of the call described by u and whether the model
// has a price. A reply replayed from the cache costs 0.
func (t PriceTable) Cost(u Usage) (float64, bool) {
	p, ok := t.Lookup(u.Model)
	if !ok {
		return 0, false
	}
	if u.Cached {
		return 0, true
	}
	return (float64(u.PromptTokens)*p.PromptPer1M + float64(u.CompletionTokens)*p.CompletionPer1M) / 1e6, true
}
