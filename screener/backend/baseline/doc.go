// Package baseline is secscreen's offline classifier: a statistical model
// trained on the labeled corpus that answers like a language model but
// needs no server, no key and no network. It is the floor every model
// backend must beat, and the backend of last resort.
//
// # Method
//
// The classifier is multinomial naive Bayes with binary (per-report) term
// counts. Naive Bayes suits the task better than, say, L2-regularised
// logistic regression because the corpus is small (a few hundred reports)
// and spread over some forty categories, many with a handful of examples:
// naive Bayes needs no iterative optimisation, no learning rate and no
// regularisation search; it trains in one counting pass; its stored counts
// are integers, so it is exactly reproducible; and leaving one report out
// of it is a subtraction, which makes calibration cheap (see below).
//
// Each report becomes a set of distinct features:
//
//   - lowercased words of the subject, body and text attachments (runs of
//     letters, digits and underscores, so CONFIG_KASAN and cap_sys_admin
//     stay whole; numbers, hex addresses, single characters and tokens
//     over 32 characters are dropped) and pairs of adjacent words, at most
//     TrainOptions.MaxFeatures of them per report, in order of first
//     occurrence;
//   - what the rules saw (package rules): "rule:ID" for every rule that
//     fired, "rulecat:CATEGORY" for the category it supports, "fact:NAME"
//     for facts such as a reproducer, a stack trace or maintained versions
//     ("fact:no-reproducer" too, since a multinomial model learns nothing
//     from absence), "priv:NAME" for each privilege the report states and
//     "missing:WHAT" for what rules.MissingInfo finds lacking. These count
//     TrainOptions.RuleWeight times each: the rules are few and deliberate,
//     the words many and noisy.
//
// Words that occur in fewer than TrainOptions.MinCount training reports
// are dropped from the vocabulary; rule and fact features are always kept.
// Counts are smoothed with TrainOptions.Alpha (Lidstone smoothing) and
// class priors with add-one.
//
// # Decision and confidence
//
// The model learns categories, because categories are what the threat
// model defines; the verdict follows from the category. Predict sums the
// category posteriors of each verdict, picks the most probable verdict,
// and then that verdict's most probable category, so the pair is always
// valid and the verdict, which matters most, is chosen on all the
// evidence for it. Confidence is the chosen verdict's posterior.
//
// Raw naive Bayes posteriors are nearly always 0 or 1, because thousands
// of correlated features are multiplied as if independent. Train therefore
// divides the log-scores by a temperature before normalising them, and
// fits that temperature to minimise the leave-one-out log-loss of the true
// verdict on the training data. On the bundled corpus the mean confidence
// of cross-validated predictions is within a few points of their accuracy,
// so a confidence of 0.9 means roughly nine in ten right on reports like
// the corpus's; it says nothing about reports unlike any of them. The
// leave-one-out accuracies are recorded in Model.Stats.
//
// # Models and training data
//
// A Model is saved as one line of JSON (Save, LoadModel) holding the
// format version, the threat model's name, the counts, the vocabulary and
// the sorted hashes of the training reports with their SHA-256
// fingerprint. The same examples in the same order with the same options
// give byte-identical files. Overlap counts how many given reports the
// model was trained on, so that an evaluation can refuse to score a model
// on its own training data, which measures memory, not skill.
//
// Embedded returns the model trained on the bundled corpus, built with
//
//	go run ./cmd/secscreen train --corpus corpus -o screener/backend/baseline/model.json
//
// (also the go:generate directive of this package). NewBackend wraps a
// model as a backend.Backend named "baseline" whose answers pass
// prompts.ParseAnswer.
package baseline
