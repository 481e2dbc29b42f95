// Package baseline is secscreen's offline classifier: a statistical model
// trained on the labeled corpus that answers with the fields of a language
// model's answer but needs no server, no key and no network. It is the
// floor every model backend must beat, the classifier of last resort, and
// the third voter beside a model and the rules.
//
// # Features
//
// Each report becomes a set of distinct features:
//
//   - lowercased words of the subject, body and text attachments (runs of
//     letters, digits and underscores, so CONFIG_KASAN and cap_sys_admin
//     stay whole; numbers, hex addresses, single characters and tokens
//     over 32 characters are dropped) and pairs of adjacent words, at most
//     TrainOptions.MaxFeatures of them per report, in order of first
//     occurrence; those found in fewer than TrainOptions.MinCount training
//     reports are dropped;
//   - the character n-grams of those words (TrainOptions.CharGrams, 4 by
//     default, each word framed by '<' and '>': "<unp", "rivi", "ged>"), at
//     most MaxFeatures more, dropped by the same count, so that words of one
//     stem written differently share evidence;
//   - what the rules saw (package rules): "rule:ID" for every rule that
//     fired, "rulecat:CATEGORY" for the category it supports, "fact:NAME"
//     for facts such as a reproducer, a stack trace or maintained versions
//     ("fact:no-reproducer" too, since a model learns little from
//     absence), "priv:NAME" for each privilege the report states and
//     "missing:WHAT" for what rules.MissingInfo finds lacking. These are
//     always kept.
//
// # Two algorithms
//
// Logistic regression (AlgoLogReg) weighs each feature by its
// inverse document frequency and scales the words' block of the vector to
// length 1 and the rules' block to TrainOptions.RuleScale. A verdict model
// (multinomial, class-balanced log-loss, L2 penalty λ chosen among Lambdas
// by cross-validated log-loss) decides the verdict and its probability; a
// category model on the same features picks the category within the
// verdict. Both are fitted by L-BFGS from zero weights.
//
// Naive Bayes (AlgoNaiveBayes, the default) is multinomial with binary
// per-report counts, rule features counting TrainOptions.RuleWeight times,
// Lidstone smoothing TrainOptions.Alpha and add-one class priors. It learns
// the categories; a verdict's probability is the sum of its categories'.
//
// Both were compared by 5-fold cross-validation on the dev split (README,
// "The offline baseline"); DefaultAlgo is the winner.
//
// # Calibration and the security threshold
//
// Train splits the training reports into TrainOptions.Folds folds
// stratified by verdict (seeded by TrainOptions.Seed) and predicts each
// report with a model fitted to the other folds. On those held-out
// predictions it fits a temperature that divides the scores before they
// become probabilities (minimising the log-loss of the true verdict), so
// that a confidence of 0.8 means about eight in ten right on reports like
// the training set's. It then chooses SecurityThreshold: the largest
// probability of security, at most 0.5, at which the held-out security
// recall reaches TrainOptions.TargetRecall (0.95). Predict says security
// whenever that probability reaches the threshold, even if another verdict
// is more probable, since a missed vulnerability costs more than a false
// alarm; Confidence stays the calibrated probability of the verdict given.
// The held-out figures are in Model.Stats.
//
// # Models and training data
//
// A Model is saved as one line of JSON (Save, LoadModel) holding the
// format version, the kind, the threat model's name, the options, the
// calibration, the counts or weights, the vocabulary, and the sorted
// content hashes of the training reports (ReportHash: the normalised body,
// so a report re-sent with other headers is still recognised) with their
// SHA-256 fingerprint. The same examples in any order with the same options
// give byte-identical files. Overlap counts how many given reports the
// model was trained on, so that an evaluation can refuse to score a model
// on its own training data, which measures memory, not skill.
//
// Embedded returns the model trained on the dev split of the bundled
// corpus, built with
//
//	go run ./cmd/secscreen train --corpus corpus --split dev -o screener/baseline/model.json
//
// (also the first go:generate directive of this package), so that the test
// split can be scored with it directly. The binary embeds the same model
// prepared for prediction, as Go (model_gen.go) and arrays read in place
// (model.bin), which the second directive writes from model.json: loading
// it costs next to nothing. NewClassifier makes a model a
// screener.Classifier named "baseline": it reads the report and the rules'
// evaluation directly, with no prompt and no JSON in between, and its
// answers pass prompts.ParseAnswer.
package baseline
