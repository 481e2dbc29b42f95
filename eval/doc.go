// Package eval measures how well secscreen screens a labeled corpus.
//
// Run screens every report of a corpus.Corpus (or of one of its splits)
// through the same screener.Screener that `secscreen screen` uses and pairs
// each Result with the report's label. A run first counts the public leaks
// (true security reports whose final route is public: an embargo breach),
// then compares the final decision with each voter alone ("cross-check
// value": accuracy, security recall and the leaks each would cause alone),
// then the review load (the share flagged for a person, by reason); every
// report format opens with these three.
//
// It scores up to four predictors separately: the final decision, the rules
// alone (Result.RulesVerdict), the model alone (Result.Model) where a model
// answered, and the baseline alone (Result.Baseline) where it voted beside
// a model. Each gets verdict and
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
//
// Simulated is a stand-in model that knows the labels and is wrong on a
// seeded share of the reports, so that the decision policy can be measured
// on any labeled corpus without a model server.
package eval
