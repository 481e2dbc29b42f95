package eval

import (
	"encoding/json"
	"time"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Schema names the version of the JSON document a run is written as.
// Readers refuse documents of another schema.
const Schema = "secscreen.eval/v1"

// Meta describes how a run was made.
type Meta struct {
	// Corpus is the corpus directory.
	Corpus string `json:"corpus"`
	// Split is the part of the corpus scored: "dev", "test" or "all".
	Split string `json:"split"`
	// Backend names what answered besides the rules ("rules" for none).
	Backend string `json:"backend"`
	// ModelName and Prompt name the model and prompt template, when one
	// ran.
	ModelName string `json:"model_name,omitempty"`
	Prompt    string `json:"prompt,omitempty"`
	// Repeat is how many times each report was screened.
	Repeat int `json:"repeat"`
	// Folds is the number of cross-validation folds (0: none).
	Folds int `json:"folds,omitempty"`
	// Seed seeded the bootstrap and the fold split; Resamples is the
	// number of bootstrap resamples.
	Seed      uint64 `json:"seed"`
	Resamples int    `json:"resamples"`
	// CreatedAt is when the run started; WallSeconds how long it took.
	CreatedAt   time.Time `json:"created_at"`
	WallSeconds float64   `json:"wall_seconds"`
}

// Prediction is one predictor's label for a report.
type Prediction struct {
	// Label and Confidence are the predicted label.
	threatmodel.Label
	Confidence float64 `json:"confidence"`
	// Decisive is set when the rules called their label decisive.
	Decisive bool `json:"decisive,omitempty"`
	// Error says why the predictor gave no label (the baseline voter only).
	Error string `json:"error,omitempty"`
}

// ModelRow is what the model said about one report. Verdict and Category
// are empty when it gave no valid answer (Error says why).
type ModelRow struct {
	// Label and Confidence are the model's label.
	threatmodel.Label
	Confidence       float64 `json:"confidence"`
	Error            string  `json:"error,omitempty"`
	Model            string  `json:"model,omitempty"`
	Prompt           string  `json:"prompt,omitempty"`
	LatencyMS        float64 `json:"latency_ms"`
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	Cached           bool    `json:"cached,omitempty"`

	usage backend.Usage
}

// FiredRule is a rule that fired on a report, once per rule.
type FiredRule struct {
	// Rule is the rule's id; Category the category it is evidence for.
	Rule     string `json:"rule"`
	Category string `json:"category"`
}

// Row is one labeled report with the predictions made for it.
type Row struct {
	// ID is the label's id; File the report file; Source and Subject
	// come from the report.
	ID      string `json:"id"`
	File    string `json:"file"`
	Source  string `json:"source,omitempty"`
	Subject string `json:"subject,omitempty"`
	// True is the corpus label, written as "true_verdict" and
	// "true_category" (see MarshalJSON).
	True threatmodel.Label `json:"-"`
	// Label and Confidence are the final decision.
	threatmodel.Label
	Confidence float64 `json:"confidence"`
	// Correct and CategoryCorrect say whether the final decision matches
	// the label.
	Correct         bool `json:"correct"`
	CategoryCorrect bool `json:"category_correct"`
	// Decision names the policy step behind the final label.
	Decision     screener.Decision `json:"decision,omitempty"`
	NeedsReview  bool              `json:"needs_review,omitempty"`
	ReviewReason string            `json:"review_reason,omitempty"`
	ReviewFlags  []string          `json:"review_flags,omitempty"`
	// Route is where the final decision sends the report; RoutePublic is
	// true when that is a public place.
	Route       string `json:"route,omitempty"`
	RoutePublic bool   `json:"route_public,omitempty"`
	// Rules is the rules-only label.
	Rules Prediction `json:"rules"`
	// Baseline is the offline voter's label; nil when it did not vote.
	Baseline *Prediction `json:"baseline,omitempty"`
	// Model is the model's answer; nil when no model was asked.
	Model *ModelRow `json:"model,omitempty"`
	// Fired lists the rules that fired.
	Fired []FiredRule `json:"fired,omitempty"`
	// Repeats lists the final verdict of each run when reports were
	// screened more than once ("" for an error).
	Repeats []threatmodel.Verdict `json:"repeats,omitempty"`
	// Fold is the 1-based cross-validation fold that held the report out.
	Fold int `json:"fold,omitempty"`
	// Error says why the report got no decision.
	Error string `json:"error,omitempty"`
}

// rowWire is a Row as it is written: the true label's fields as
// "true_verdict" and "true_category" between the report's names and the
// final label, where eval has always written them (eval compare reads
// earlier runs). The report's names here are shallower than the embedded
// row's, so encoding/json uses these and keeps this order.
type rowWire struct {
	ID           string              `json:"id"`
	File         string              `json:"file"`
	Source       string              `json:"source,omitempty"`
	Subject      string              `json:"subject,omitempty"`
	TrueVerdict  threatmodel.Verdict `json:"true_verdict"`
	TrueCategory string              `json:"true_category"`
	*rowFields
}

// rowFields is Row without its JSON methods.
type rowFields Row

// MarshalJSON writes the row with its true label flattened (see rowWire).
func (r Row) MarshalJSON() ([]byte, error) {
	return json.Marshal(rowWire{
		ID: r.ID, File: r.File, Source: r.Source, Subject: r.Subject,
		TrueVerdict: r.True.Verdict, TrueCategory: r.True.Category,
		rowFields: (*rowFields)(&r),
	})
}

// UnmarshalJSON reads a row as MarshalJSON writes it.
func (r *Row) UnmarshalJSON(data []byte) error {
	w := rowWire{rowFields: (*rowFields)(r)}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	r.ID, r.File, r.Source, r.Subject = w.ID, w.File, w.Source, w.Subject
	r.True = threatmodel.Label{Verdict: w.TrueVerdict, Category: w.TrueCategory}
	return nil
}

// Scores are the metrics of one predictor over a set of rows.
type Scores struct {
	// N counts the rows scored; Errors those without an answer (wrong).
	N        int      `json:"n"`
	Errors   int      `json:"errors"`
	ErrorIDs []string `json:"error_ids,omitempty"`
	// Accuracy is verdict accuracy, with its bootstrap interval.
	Accuracy   Num `json:"accuracy"`
	AccuracyCI CI  `json:"accuracy_ci"`
	// CategoryAccuracy is the share of exact category matches.
	CategoryAccuracy Num `json:"category_accuracy"`
	// MacroF1 averages the per-verdict F1 scores.
	MacroF1    Num          `json:"macro_f1"`
	MacroF1CI  CI           `json:"macro_f1_ci"`
	Kappa      Num          `json:"kappa"`
	PerVerdict []ClassStats `json:"per_verdict"`
	// PerCategory scores each category met, in threat-model order.
	PerCategory []ClassStats `json:"per_category"`
	// VerdictConfusion is 4×4 (plus NoAnswer when errors occurred);
	// CategoryConfusion covers the categories met, in threat-model order.
	VerdictConfusion  Matrix `json:"verdict_confusion"`
	CategoryConfusion Matrix `json:"category_confusion"`
	// SecurityRecall is the recall of the security verdict; MissedSecurity
	// lists the security reports not called security.
	SecurityRecall   Num      `json:"security_recall"`
	SecurityRecallCI CI       `json:"security_recall_ci"`
	MissedSecurity   []string `json:"missed_security"`
	// Brier, ECE and Reliability describe calibration of the confidence.
	Brier       Num   `json:"brier"`
	ECE         Num   `json:"ece"`
	Reliability []Bin `json:"reliability"`
}

// Consistency is the agreement of repeated runs.
type Consistency struct {
	// Runs is how many times each report was screened.
	Runs int `json:"runs"`
	// N counts the reports screened; Consistent those whose verdicts
	// were all the same (and none an error).
	N          int `json:"n"`
	Consistent int `json:"consistent"`
	Rate       Num `json:"rate"`
	// Inconsistent lists the other reports' ids.
	Inconsistent []string `json:"inconsistent"`
}

// UsageStats add up the model calls of a run.
type UsageStats struct {
	// Calls counts reports the model was asked about; Cached those
	// answered from the cache; Failures those with no valid answer.
	Calls            int `json:"calls"`
	Cached           int `json:"cached"`
	Failures         int `json:"failures"`
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	// LatencyP50MS and LatencyP95MS are over calls not served from the
	// cache.
	LatencyP50MS Num `json:"latency_p50_ms"`
	LatencyP95MS Num `json:"latency_p95_ms"`
	// Cost is the price of the calls; undefined unless every model used
	// has a price.
	Cost Num `json:"cost"`
}

// RunJSON is the document a run is saved as: every metric and every
// prediction, enough to compare runs later.
type RunJSON struct {
	// Schema is always the package's Schema constant.
	Schema string `json:"schema"`
	// PublicLeaks lists the true security reports whose final route is
	// public, the error that matters most; it comes first in every report.
	PublicLeaks Leaks `json:"public_leaks"`
	// CrossCheck compares the final decision with each voter alone.
	CrossCheck []CrossCheckLine `json:"cross_check"`
	// ReviewLoad is the share of reports flagged for a person.
	ReviewLoad ReviewLoad `json:"review_load"`
	Meta
	// Final scores the final decision; Rules the rules alone; Model the
	// model alone over the reports it was asked about (nil when none);
	// Baseline the offline voter alone over the reports it voted on (nil
	// when it never voted).
	Final    Scores  `json:"final"`
	Rules    Scores  `json:"rules"`
	Model    *Scores `json:"model"`
	Baseline *Scores `json:"baseline,omitempty"`
	// Agreement compares the rules' and the model's verdicts where the
	// model answered (nil when it never did).
	Agreement *Agreement `json:"rules_model_agreement"`
	// Consistency is set when reports were screened more than once.
	Consistency *Consistency `json:"consistency"`
	// RuleStats says how often each rule fired and how precise it was.
	RuleStats []RuleStat `json:"rule_stats"`
	// Usage adds up the model calls.
	Usage UsageStats `json:"usage"`
	// Rows has one entry per labeled report, in corpus order.
	Rows []Row `json:"rows"`
}

// verdictNames lists the verdicts as strings, in table order.
func verdictNames() []string {
	out := make([]string, len(threatmodel.Verdicts))
	for i, v := range threatmodel.Verdicts {
		out[i] = string(v)
	}
	return out
}

// scorePairs computes every Scores metric from verdict pairs and the
// matching category pairs (same reports, same order), with the verdicts'
// bootstrap intervals already drawn (verdictIntervalsOf): those of
// Accuracy (seed), MacroF1 over the verdicts (seed+1) and the security
// recall (seed+2).
func scorePairs(verdicts, categories []Pair, categoryOrder []string, cis [3]CI) Scores {
	s := Scores{N: len(verdicts)}
	for _, p := range verdicts {
		if p.Pred == "" {
			s.Errors++
			s.ErrorIDs = append(s.ErrorIDs, p.ID)
		}
	}
	vn := verdictNames()
	s.AccuracyCI, s.MacroF1CI, s.SecurityRecallCI = cis[0], cis[1], cis[2]

	s.Accuracy = Accuracy(verdicts)
	s.CategoryAccuracy = Accuracy(categories)
	s.PerVerdict = PerClass(vn, verdicts)
	s.MacroF1 = MacroF1(s.PerVerdict)
	s.VerdictConfusion = Confusion(vn, verdicts)
	s.Kappa = s.VerdictConfusion.Kappa()
	met := map[string]bool{}
	for _, p := range categories {
		met[p.True], met[p.Pred] = true, true
	}
	var order []string
	for _, id := range categoryOrder {
		if met[id] {
			order = append(order, id)
		}
	}
	s.CategoryConfusion = Confusion(order, categories)
	s.PerCategory = PerClass(order, categories)
	s.SecurityRecall, s.MissedSecurity = RecallOf(string(threatmodel.Security), verdicts)
	if s.MissedSecurity == nil {
		s.MissedSecurity = []string{} // JSON readers get [] for "none missed"
	}
	s.Brier = Brier(verdicts)
	s.Reliability = Reliability(verdicts, 10)
	s.ECE = ECE(s.Reliability)
	return s
}

// score turns rows into a Run.
func score(rows []Row, meta Meta, opt Options, start time.Time) *Run {
	meta.Seed, meta.Resamples = opt.Seed, opt.Resamples
	meta.CreatedAt = start.UTC()
	meta.WallSeconds = opt.Now().Sub(start).Seconds()
	order := opt.ThreatModel.IDs()

	var fv, fc, rv, rc, mv, mc, bv, bc []Pair
	var ids, rulesV, modelV []string
	var hits []RuleHit
	var lat []float64
	u := UsageStats{}
	cost, priced := 0.0, opt.Prices != nil
	for i := range rows {
		r := &rows[i]
		r.Correct = r.Error == "" && r.Verdict != "" && r.Verdict == r.True.Verdict
		r.CategoryCorrect = r.Error == "" && r.Category != "" && r.Category == r.True.Category
		fv = append(fv, Pair{ID: r.ID, True: string(r.True.Verdict), Pred: string(r.Verdict), Confidence: r.Confidence})
		fc = append(fc, Pair{ID: r.ID, True: r.True.Category, Pred: r.Category, Confidence: r.Confidence})
		rv = append(rv, Pair{ID: r.ID, True: string(r.True.Verdict), Pred: string(r.Rules.Verdict), Confidence: r.Rules.Confidence})
		rc = append(rc, Pair{ID: r.ID, True: r.True.Category, Pred: r.Rules.Category, Confidence: r.Rules.Confidence})
		for _, f := range r.Fired {
			hits = append(hits, RuleHit{Rule: f.Rule, Category: f.Category, TrueCategory: r.True.Category})
		}
		if b := r.Baseline; b != nil {
			bv = append(bv, Pair{ID: r.ID, True: string(r.True.Verdict), Pred: string(b.Verdict), Confidence: b.Confidence})
			bc = append(bc, Pair{ID: r.ID, True: r.True.Category, Pred: b.Category, Confidence: b.Confidence})
		}
		m := r.Model
		if m == nil {
			continue
		}
		if meta.ModelName == "" {
			meta.ModelName, meta.Prompt = m.Model, m.Prompt
		}
		mv = append(mv, Pair{ID: r.ID, True: string(r.True.Verdict), Pred: string(m.Verdict), Confidence: m.Confidence})
		mc = append(mc, Pair{ID: r.ID, True: r.True.Category, Pred: m.Category, Confidence: m.Confidence})
		ids, rulesV, modelV = append(ids, r.ID), append(rulesV, string(r.Rules.Verdict)), append(modelV, string(m.Verdict))
		u.Calls++
		if m.Verdict == "" {
			u.Failures++
		}
		u.PromptTokens += m.PromptTokens
		u.CompletionTokens += m.CompletionTokens
		if m.Cached {
			u.Cached++
		} else {
			lat = append(lat, m.LatencyMS)
		}
		if priced {
			usage := m.usage
			if usage.Model == "" {
				// A row read back from JSON: rebuild what pricing needs.
				usage = backend.Usage{Model: m.Model, PromptTokens: m.PromptTokens, CompletionTokens: m.CompletionTokens, Cached: m.Cached}
			}
			c, ok := opt.Prices.Cost(usage)
			cost += c
			priced = priced && ok
		}
	}
	u.LatencyP50MS, u.LatencyP95MS = Quantile(lat, 0.5), Quantile(lat, 0.95)
	u.Cost = NaN()
	if priced && u.Calls > 0 {
		u.Cost = Num(cost)
	}

	// Every predictor's intervals at once: those over the same number of
	// reports share their draws.
	cis := verdictIntervalsOf([][]Pair{fv, rv, mv, bv}, verdictNames(), string(threatmodel.Security), opt.Resamples, opt.Seed)
	run := &Run{Options: opt, RunJSON: RunJSON{
		Schema:      Schema,
		Meta:        meta,
		Final:       scorePairs(fv, fc, order, cis[0]),
		Rules:       scorePairs(rv, rc, order, cis[1]),
		Consistency: consistency(rows),
		RuleStats:   RuleStats(hits),
		Usage:       u,
		Rows:        rows,
	}}
	if len(mv) > 0 {
		ms := scorePairs(mv, mc, order, cis[2])
		run.Model = &ms
		g := Agree(ids, rulesV, modelV)
		run.Agreement = &g
	}
	if len(bv) > 0 {
		bs := scorePairs(bv, bc, order, cis[3])
		run.Baseline = &bs
	}
	if run.RuleStats == nil {
		run.RuleStats = []RuleStat{}
	}
	run.PublicLeaks = publicLeaks(rows)
	run.ReviewLoad = reviewLoad(rows)
	run.CrossCheck = crossCheck(&run.RunJSON, opt.Routes)
	return run
}
