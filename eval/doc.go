// Package eval measures how well secscreen screens a labeled corpus.
//
// Run screens every report of a corpus.Corpus through the same
// screener.Screener that `secscreen screen` uses and pairs each Result with
// the report's label. From those rows it scores three predictors separately:
// the final decision, the rules alone (Result.RulesVerdict) and, where a
// model answered, the model alone (Result.Model). Each gets verdict and
// category accuracy, per-verdict precision, recall and F1 with their macro
// average, confusion matrices, Cohen's kappa, the recall of security reports
// with the ids of those missed, calibration of the stated confidence (Brier
// score, expected calibration error, reliability bins) and seeded bootstrap
// confidence intervals. A run also counts rule hits per true category (how
// precise each rule is), rule/model agreement, answer consistency over
// repeated runs, latency, tokens and cost.
//
// All metrics are pure functions over Pairs (metrics.go), so they are tested
// on hand-computed cases. A metric with a zero denominator is undefined
// (NaN in a Num, null in JSON, "n/a" in text), never silently zero.
//
// A run is written as text, Markdown, a self-contained HTML page, or JSON
// (RunJSON, versioned by its schema field). Two JSON runs compare with
// Compare, which tests the difference in paired correctness with McNemar's
// exact test and lists the reports that flipped. Gate turns minimum scores
// into an error for CI.
package eval
