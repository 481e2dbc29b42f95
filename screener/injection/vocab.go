package injection

import (
	"strings"
	"sync"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// The vocabulary the patterns are built from. Every pattern reads the
// normalised text (see view) case-insensitively.

// reader names an automated reader of a report: a model, an AI, or a
// triage or screening system. A generic noun (assistant, system, tool,
// bot) counts only with a word that makes it automated (AI, LLM,
// automated, triage, screening...): "the security team" is people.
const reader = `(?:` +
	`(?:ai|a\.i\.|llms?|gpts?|chatgpt|claude|gemini|copilot|(?:large\s+)?language\s+models?)(?:[\s-]+(?:based|powered|driven|assisted))?` +
	`(?:[\s-]+(?:security|triage|screening|code[\s-]+review|review|analysis|classification|kernel))?` +
	`(?:[\s-]+(?:assistants?|models?|systems?|tools?|tooling|bots?|agents?|reviewers?|classifiers?|screeners?|triagers?|pipelines?|readers?))?` +
	`|(?:automated|automatic|autonomous|machine)(?:[\s-]+[\w-]+){0,2}?[\s-]+(?:assistants?|models?|systems?|tools?|tooling|bots?|agents?|reviewers?|classifiers?|screeners?|triage|triagers?|pipelines?|readers?|screening|processing|analy[sz]ers?)` +
	`|(?:triage|screening|classification)[\s-]+(?:assistants?|models?|systems?|tools?|bots?|agents?|classifiers?|pipelines?|ai|llms?|engines?)` +
	`|screeners?|(?:[\w-]+[\s-]+)?bots?` +
	`)`

// readerLoose adds the bare nouns a model is called by ("the assistant",
// "the model"), for places where what follows makes the address plain:
// a greeting, or an order given to it.
const readerLoose = `(?:` + reader + `|(?:[\w-]+[\s-]+)?(?:assistants?|models?))`

// catID is a category id of the kernel threat model (the verdicts and
// categories a screening model answers with).
const catID = `(?:isolation|capability|userns|config|privilege|weakness|lab|hardening|leak|fs|physical|regression|info|invalid)\.[a-z][a-z-]*`

// vt is a verdict, severity or disposition a report can demand of its
// reader. Longer phrases come first: Go's alternation prefers the earlier
// branch.
const vt = `(?:` +
	`not[\s_-]+(?:an?[\s_-]+)?(?:security|vulnerability|vuln|bug|issue|problem|exploitable|relevant|valid)(?:[\s_-]+(?:bug|issue|vulnerability|problem|relevant|sensitive|flaw|related|report|impact))?` +
	`|non[\s_-]?(?:security|issue|bug|exploitable|vulnerability)(?:[\s_-]+(?:bug|issue|problem|finding|relevant))?` +
	`|no[\s_-]+(?:security[\s_-]+)?(?:impact|issue|relevance|implications?|risk|vulnerability|threat)` +
	`|needs?[\s_-]+(?:more[\s_-]+)?info(?:rmation)?` +
	`|(?:an?[\s_-]+)?(?:(?:confirmed|real|genuine|valid|serious|critical|high|medium|low|severe|major|minor)[\s_-]+)?(?:kernel[\s_-]+)?security[\s_-]+(?:bug|issue|vulnerability|flaw|problem|risk|hole|finding|incident|relevant|sensitive)` +
	`|(?:an?[\s_-]+)?(?:critical|high|medium|low|severe|major|minor|top)[\s_-]+(?:severity|priority|risk|impact|importance)` +
	`|(?:critical|high|severe|major)[\s_/-]+security` +
	`|(?:severity|priority)[\s_-]*(?:critical|high|low|[0-4])` +
	`|(?:an?[\s_-]+)?(?:(?:confirmed|real|genuine|valid)[\s_-]+)?(?:vulnerability|vuln|exploitable)` +
	`|(?:an?[\s_-]+)?(?:normal|regular|ordinary|functional|plain|harmless|benign|simple|mere|non-critical)[\s_-]+(?:bug|issue|defect|problem|crash)` +
	`|` + catID +
	`|security|critical|urgent|high|low|benign|harmless|safe|informational|p[0-4]|sev[\s_-]?[0-4]|won'?t[\s_-]?fix|wontfix|notabug|false[\s_-]+positive|duplicate|invalid|resolved|rejected` +
	`)`

// vtLead is what may stand between a verb and the verdict it demands:
// "as verdict: security", "with severity critical", a quote.
const vtLead = `(?:(?:the\s+|a\s+)?(?:verdict|severity|priority|category|classification|label|rating|status|risk)\s*(?:of\s+)?[:=]?\s*)?["'` + "`" + `(]?`

var (
	// reStrongVT is the part of the vocabulary that only a screening
	// decision uses: the threat model's verdicts and categories, and
	// security or severity words. "invalid", "duplicate", "safe" or
	// "high" alone are common in code and prose.
	reStrongVT = lazyre.New(`(?i)secur|vulnerab|vuln\b|exploit|` + catID + `|need.{0,6}info|not[\s_-]+(?:an?[\s_-]+)?bug|notabug|severity|priority|critical|urgent|\bp[0-4]\b|\bsev`)
	// reVerdictVT is the part of it that names a verdict rather than a
	// severity.
	reVerdictVT = lazyre.New(`(?i)secur|vulnerab|vuln\b|exploit|` + catID + `|need.{0,6}info|not[\s_-]+(?:an?[\s_-]+)?bug|notabug`)
	// reVTWhole matches a whole value that is a verdict.
	reVTWhole = lazyre.New(`(?i)^\s*` + vt + `\s*$`)
	// reReportNoun names the report itself.
	reReportNoun = lazyre.New(`(?i)\b(?:this|report|issue|bug|finding|submission|ticket|e-?mail|message|case|vulnerability|thread|cve)\b`)
	// reAnyVT finds a verdict anywhere.
	reAnyVT = lazyre.New(`(?i)\b` + vt)
)

// strongVT reports whether a matched verdict phrase is one a person would
// rarely write except to a screening decision.
func strongVT(s string) bool { return reStrongVT.MatchString(s) }

// verdictVT reports whether a verdict phrase names a verdict (security or
// not, a category, missing information), not only a severity.
func verdictVT(s string) bool { return reVerdictVT.MatchString(s) }

// vtEndsOK reports whether a verdict phrase that ends at end is a whole
// phrase: followed by punctuation, the end of a line, or a word that can
// follow a demanded verdict ("and", "with", "because", ...), not by a noun
// that makes it something else ("critical section", "invalid pointer",
// "security module").
func vtEndsOK(t string, end int) bool {
	i := end
	for i < len(t) && (t[i] == ' ' || t[i] == '\t') {
		i++
	}
	if i >= len(t) {
		return true
	}
	c := t[i]
	if !isWordByte(c) || (c >= '0' && c <= '9') {
		return true
	}
	j := i
	for j < len(t) && isWordByte(t[j]) {
		j++
	}
	return vtFollowers()[strings.ToLower(t[i:j])]
}

// vtFollowers are the words that may follow a verdict phrase (see
// vtEndsOK); made at first use.
var vtFollowers = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		"and": true, "or": true, "with": true, "because": true, "since": true, "so": true, "category": true,
		"confidence": true, "severity": true, "priority": true, "immediately": true, "please": true, "now": true,
		"not": true, "do": true, "this": true, "it": true, "in": true, "for": true, "to": true, "by": true, "as": true,
		"without": true, "rather": true, "instead": true, "per": true, "at": true, "on": true, "when": true,
		"you": true, "we": true, "i": true, "but": true, "then": true, "no": true, "nothing": true, "asap": true,
		"only": true, "regardless": true, "despite": true, "here": true, "too": true, "also": true, "right": true,
		"status": true, "verdict": true, "of": true, "classification": true, "label": true, "level": true, "queue": true,
	}
})

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
