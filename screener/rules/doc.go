// Package rules screens a report with deterministic, declarative rules, in
// the manner of SpamAssassin's rule files: rules are data, and every rule that
// fires is reported with its id, weight and the exact text it matched.
//
// # Rule files
//
// The built-in rules for the Linux kernel live in kernel.yaml (see
// KernelRules). A rule file is a YAML mapping with a "rules" list:
//
//	rules:
//	  - id: priv.cap-required            # unique, stable
//	    description: the action needs a capability the user does not get from a user namespace
//	    category: privilege.already-held # a category id of the threat model
//	    weight: 3.5                      # added to the category's score when the rule fires
//	    match:                           # Go (RE2) regexps; the first that matches fires the rule
//	      - '\b(?:requires?|needs?) CAP_(?:SYS_ADMIN|NET_ADMIN)\b'
//	    parts: [body, attachments]       # subject, body, attachments; default: all parts
//	    unless:                          # vetoes: the rule is silent if any matches anywhere
//	      - '\buser namespaces?\b|\bunshare\s+-'
//	    requires:                        # conditions on the extracted Facts
//	      has_reproducer: true
//	      privileges_include: [unprivileged, userns]
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
// anchor at a paragraph's start and end. Each pattern is compiled once; a
// literal prefilter derived from it skips paragraphs that cannot match.
// The requires conditions are few (see Requires): has_reproducer,
// has_stack_trace, privileges_include, privileges_exclude, facts and no_facts
// (named facts present or absent, see FactNames), and versions (eol-only,
// maintained, none). A rule may carry a signal: "ai-style" for signs of
// unverified tool output, "injection" for text addressed to a screening
// model (it sets Evaluation.Injection).
//
// A file given with --rules is merged over the built-in set (RuleSet.Merge):
// a rule with a known id replaces it in place, a new id is appended, and
// "disabled: true" removes a rule:
//
//	rules:
//	  - {id: lab.cost, disabled: true}
//
// Parse errors name the file, the rule id and its line. NewEngine checks
// every category against the threat model.
//
// # Facts
//
// Before the rules run, extractors read Facts from the report: kernel
// versions, judged maintained or not on the report's date (ReportDate)
// against a SeriesList, the history of kernel series with release and
// end-of-life dates, which is data with an as-of date (series.yaml,
// replaceable with LoadSeries); vendor versions such as 6.8.0-51-generic
// are marked and left out of the end-of-life judgement; trees,
// privileges ("root", "unprivileged", "userns", CAP_* names, leaving out
// capabilities the text says are not needed), CONFIG_* options and sysctls,
// debugging features, signs of out-of-tree code, crafted images, emulated
// hardware and physical access, reproducers (C with main(), syz programs,
// shell sessions, numbered steps, attachments), stack traces, cited files
// and functions, CVSS claims, Markdown and chat-assistant markers, and
// instructions aimed at a model. Rules consult them through requires; the
// outputs show them.
//
// # The rules-only decision
//
// Each category's score is the sum of the weights of its fired rules; when
// two rules of one category matched overlapping text, that text counts once,
// with the larger weight. Then,
// in order, with MinScore (default 2) and DecisiveScore (default 4):
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
//     security when a reproducer is present, and needs-info/info.missing
//     (info.unverified-tool when AI-style rules fired) when it is not;
//  5. otherwise any AI-style or tool evidence without a reproducer gives
//     needs-info/info.unverified-tool, info.missing evidence at MinScore
//     gives needs-info/info.missing, and no evidence at all gives
//     needs-info/info.missing.
//
// Decisive is set for a hard exclusion or invalidity (score at
// DecisiveScore or above: capabilities needed in the initial namespace, an
// out-of-tree module, a staging driver, a crafted image, end-of-life
// versions together with a fix upstream, ...) and for a hard boundary (score at DecisiveScore or
// above, a reproducer, an unprivileged or user-namespace attacker, no
// exclusion evidence, no end-of-life-only versions); never when the report
// tries to instruct a model. Confidence grows with the winning score and
// shrinks with the weight behind competing categories. Missing always lists
// what the facts lack among "version", "reproducer", "conditions",
// "description" and "privileges" (see MissingInfo).
package rules

//go:generate go run ../../cmd/secscreen rules fit --corpus ../../corpus --split dev -o kernel.weights.yaml
