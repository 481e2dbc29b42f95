// Package rules screens a report with deterministic, declarative rules, in
// the manner of SpamAssassin's rule files: rules are data, and every rule that
// fires is reported with its id, weight and the exact text it matched.
//
// # Rule packs
//
// A rule pack belongs to a threat model: its rules are evidence for the
// model's categories, its fact extractors read the facts the rules test.
// The built-in pack for the Linux kernel is kernel.yaml (see KernelRules);
// PackFor picks the pack of another model (named by the model, beside it,
// or none). A pack is a YAML mapping:
//
//	name: kernel
//	weights: kernel.weights.yaml       # fitted weights (see Fit), a file beside the pack
//	versions: {...}                    # how versions are written (optional)
//	facts: [...]                       # fact extractors
//	features: [reproducer, versions:eol-only, privileges:unprivileged, ...]
//	rules: [...]
//
// A rule:
//
//	rules:
//	  - id: priv.cap-required            # unique, stable
//	    description: the action needs a capability the user does not get from a user namespace
//	    category: privilege.already-held # a category id of the threat model
//	    weight: 3                        # hand weight: used where no fitted weight applies
//	    match:                           # Go (RE2) regexps; the first that matches fires the rule
//	      - '\b(?:requires?|needs?) CAP_(?:SYS_ADMIN|NET_ADMIN)\b'
//	    parts: [body, attachments]       # subject, body, attachments; default: all parts
//	    unless:                          # vetoes: the rule is silent if any matches anywhere
//	      - '\buser namespaces?\b|\bunshare\s+-'
//	    requires:                        # conditions on the extracted Facts
//	      has_reproducer: true
//	      privileges_include: [unprivileged, userns]
//
// A rule states one fact (a privilege held, a maintained version, a debug
// option required, an out-of-tree module, ...) in general words, never a
// sentence of some report: `secscreen rules lint` (Lint) fails every match
// alternative that fires on fewer than three reports of a corpus's dev
// split, and reports each rule's precision, support and Wilson lower
// bound.
//
// A match right after a negation in the same clause ("does not require
// CAP_SYS_ADMIN", "no hardware modification": not, no, never, without,
// cannot, nor, neither or -n't among the four words before) is skipped, and
// the rule looks for its next match.
//
// Matching is case-insensitive unless the rule sets case_sensitive: true; a
// pattern may still switch case sensitivity itself with (?i) or (?-i:...).
// Reports are wrapped mail, so a literal space in a pattern (outside a
// character class) matches any run of whitespace, line breaks included;
// " ?" and " *" match optional whitespace. Patterns run paragraph by
// paragraph: a match never spans a blank line, and ^ and $ without (?m)
// anchor at a paragraph's start and end; a paragraph longer than 4 KiB
// (a log, a trace, code) is cut at a line break. Each pattern is parsed
// once and compiled when first needed; the literals every match must hold
// (with the bytes around them) are found for all patterns in one scan of
// each text, and a pattern runs only where they occur, on the lines around
// them when its matches can hold only a few line breaks: the matches are
// those of running it on every paragraph. The requires conditions are few (see Requires): has_reproducer,
// has_stack_trace, privileges_include, privileges_exclude, facts and
// no_facts (named facts present or absent: FactNames, or a fact of the
// pack's extractors), and versions (eol-only, some-eol, maintained, fixed,
// none). A rule may carry a signal: "ai-style" for signs of unverified
// tool output, "injection" for text addressed to a screening model (it
// sets Evaluation.Injection).
//
// A file given with --rules is merged over the threat model's pack
// (RuleSet.Merge): a rule with a known id replaces it in place (and loses
// the fitted record of the rule it replaces), a new id is appended, and
// "disabled: true" removes a rule; its extractors are added:
//
//	rules:
//	  - {id: lab.cost, disabled: true}
//
// Parse errors name the file, the rule id and its line. NewEngine checks
// every category against the threat model and every fact a rule requires.
//
// # Facts
//
// Before the rules run, the pack's extractors read Facts from the report.
// An extractor adds a value to a named fact wherever one of its patterns
// matches (see FactRule):
//
//	facts:
//	  - fact: privileges
//	    value: root                      # default $0, the matched text; $1, ${name}: groups
//	    negatable: true                  # skip "without root", "not as root"
//	    not_after: '(?:gain|get|become) ' # skip "gain root": an outcome, not a requirement
//	    match: ['\b(?:requires?|run as) root\b']
//	  - {fact: debug_features, value: '$1', case_sensitive: true, map: {lockdep: LOCKDEP},
//	     match: ['\b(?:CONFIG_)?(KASAN|lockdep|DEBUG_[A-Z0-9_]+)\b']}
//	  - {fact: reproducer, value: shell, min_count: 2, exact_spaces: true, match: ['(?m)^\$ \S+']}
//
// Other keys: also (patterns that must match in the same part too),
// replace, lower, max_len, except (values dropped), whole_part (match the
// whole part, across blank lines), source: attachment-name, and section
// with min_words (a heading followed by a long section). Facts with a
// field in Facts (privileges, config_options, debug_features,
// out_of_tree, crafted_image, hardware_emulation, physical_access,
// reproducer, stack_trace, files, functions, cvss, ai_markers, trees) fill
// it; any other name goes to Facts.Other. Injection is not pack data:
// every model needs it, so text aimed at a screening model is found by
// built-in code and fills the "injection" fact whatever the pack.
//
// The versions section (see VersionSpec) gives the pattern of a version
// number, the words that must surround a bare one, the programs whose
// versions are not the project's, vendor suffixes, and the words that give
// a version its role (Version.Role): a version the reporter ran, the one
// where the bug was introduced ("introduced in 4.14", "Fixes: ...
// (v5.4)"), or a release carrying the fix ("fixed in 6.1.92, 6.6.32"). The
// nearest role word before a version in its sentence decides. Versions are
// judged maintained or not on the report's date (ReportDate) against a
// SeriesList, the history of kernel series with release and end-of-life
// dates, which is data with an as-of date (series.yaml, replaceable with
// LoadSeries). Only versions the reporter ran can make a setup outdated;
// a list of releases carrying a fix shows the bug was real in maintained
// trees.
//
// # Limits and cancellation
//
// The engine reads at most Options.MaxPartBytes of each part (256 KiB by
// default) and Options.MaxTotalBytes of all parts (1 MiB); what it left
// unread is listed in Evaluation.Truncated, and spans stay exact (they are
// offsets into the part). Extractors keep at most 64 values per fact and
// examine at most 512 matches per pattern and part. The work is linear in
// the text read: a 10 MB message takes a fraction of a second.
// EvaluateContext checks its context between parts and between rules.
//
// # The rules-only decision
//
// With fitted weights (the built-in pack has them), every category of the
// threat model gets a score: its bias, plus the fitted weights of the rules
// that fired and of the fact features that hold (a rule without a fitted
// record adds its hand weight to its own category). The best score wins;
// the confidence is its verdict's share of the categories' logistic
// probabilities. Fit says how the weights are learned.
//
// Without fitted weights, each category's score is the sum of the hand
// weights of its fired rules; when two rules of one category matched
// overlapping text, that text counts once, with the larger weight. Then,
// in order, with MinScore (default 2):
//
//  1. an invalid category at MinScore or above, not outscored by the best
//     exclusion or boundary, gives invalid;
//  2. otherwise the best not-security category at MinScore or above gives
//     not-security: as the taxonomy says, an exclusion wins over boundary
//     evidence, so rules for exclusions use unless and requires to stay
//     silent when the excluded condition is not actually needed;
//  3. otherwise info.unverified-tool at MinScore or above, with no
//     reproducer, gives needs-info/info.unverified-tool;
//  4. otherwise the best security category at MinScore or above gives
//     security when a reproducer is present (or the pack extracts none),
//     and needs-info/info.missing (info.unverified-tool when AI-style rules
//     fired) when it is not;
//  5. otherwise any AI-style or tool evidence without a reproducer gives
//     needs-info/info.unverified-tool, info.missing evidence at MinScore
//     gives needs-info/info.missing, and no evidence at all gives
//     needs-info/info.missing. With no pack at all the rules give
//     needs-info with confidence 0: no opinion.
//
// Either way, Decisive is set only when a decisive rule fired: one whose
// fitted record shows at least MinDecisiveHits held-out hits with a Wilson
// 95% lower bound of at least MinDecisiveLowerBound on the share whose true
// verdict was the rule's. Then the label is that rule's verdict (with the
// category of the heaviest decisive rule); decisive rules of two verdicts
// decide nothing, and a report that tries to instruct a model is never
// decisive. No weight, however large, makes a rule decisive. Missing
// always lists what the facts lack among "version", "reproducer",
// "conditions", "description" and "privileges" (see MissingInfo).
package rules

//go:generate go run ../../cmd/secscreen rules fit --corpus ../../corpus --split dev -o kernel.weights.yaml
