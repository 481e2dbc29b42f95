package rules

import "github.com/secscreen/secscreen/screener/threatmodel"

// Span locates matched text inside one part of a report.
type Span struct {
	// Part is the intake.Part name: "subject", "body" or "attachment:NAME".
	Part string `json:"part"`
	// Line is the 1-based line of the match's start.
	Line int `json:"line"`
	// Column is the 1-based byte column of the match's start in that line.
	Column int `json:"column"`
	// Start and End are byte offsets of the match within the part.
	Start int `json:"start"`
	End   int `json:"end"`
}

// Finding is one rule that fired.
type Finding struct {
	// RuleID is the id of the rule that fired.
	RuleID string `json:"rule"`
	// Description is the rule's description.
	Description string `json:"description"`
	// Category is the taxonomy id the rule is evidence for.
	Category string `json:"category"`
	// Weight is the rule's weight (positive: evidence for Category).
	Weight float64 `json:"weight"`
	// Span is where the rule matched.
	Span Span `json:"span"`
	// Excerpt is the matched text, shortened for display.
	Excerpt string `json:"excerpt"`
}

// Evaluation is the rules-only judgement of one report.
type Evaluation struct {
	// Findings lists every rule that fired, in rule order.
	Findings []Finding `json:"findings"`
	// Facts holds what the extractors found.
	Facts Facts `json:"facts"`
	// Label is the rules-only label ("verdict" and "category" on the
	// wire).
	threatmodel.Label
	// Score is the summed weight behind Category.
	Score float64 `json:"score"`
	// Confidence in [0,1] expresses how strongly the findings support the
	// label.
	Confidence float64 `json:"confidence"`
	// Decisive is true when a decisive rule fired (one whose fitted,
	// held-out precision meets MeetsDecisive): the evidence is strong
	// enough that a model's answer need not be asked for.
	Decisive bool `json:"decisive"`
	// Missing lists what the report lacks among "version", "reproducer",
	// "conditions", "description" and "privileges".
	Missing []string `json:"missing"`
	// Injection is true when the report contains instructions aimed at a
	// screening model.
	Injection bool `json:"injection"`
	// Truncated lists the parts the rules read only in part (see
	// Options.MaxPartBytes); empty when they read everything.
	Truncated []Truncation `json:"truncated,omitempty"`
}
