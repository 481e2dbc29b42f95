package eval

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Options tune an evaluation.
type Options struct {
	// Repeat screens each report this many times (default 1) to measure
	// answer consistency; the caller should disable the response cache so
	// that repeats reach the model. Metrics score the first run.
	Repeat int
	// Resamples is the number of bootstrap resamples (default 1000).
	Resamples int
	// Seed seeds the bootstrap (default 1), and the fold split of
	// CrossValidate.
	Seed uint64
	// Prices, when set, turns token usage into cost.
	Prices backend.PriceTable
	// Split names the part of the corpus being scored ("dev", "test" or
	// "all", the default), for the reports; the caller selects the labels
	// (corpus.Corpus.OnlySplit).
	Split string
	// Routes tell which labels a voter alone would route publicly; zero
	// means screener.DefaultRoutes().
	Routes screener.Routes
	// Intake tunes how report files are read.
	Intake intake.Options
	// ThreatModel lists the categories for the category confusion matrix;
	// nil means the built-in kernel model.
	ThreatModel *threatmodel.Model
	// MinAccuracy, MinSecurityRecall and MinMacroF1 are the thresholds Gate
	// enforces on the final decision; zero disables a threshold.
	MinAccuracy       float64
	MinSecurityRecall float64
	MinMacroF1        float64
	// Now stamps the run (default time.Now); tests fix it.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Repeat <= 0 {
		o.Repeat = 1
	}
	if o.Resamples <= 0 {
		o.Resamples = 1000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Split == "" {
		o.Split = "all"
	}
	if o.ThreatModel == nil {
		o.ThreatModel = threatmodel.Kernel()
	}
	if o.Routes.Verdicts == nil {
		o.Routes = screener.DefaultRoutes()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Run is one evaluation: its JSON document and the options that made it.
type Run struct {
	RunJSON
	// Options are the options the run was made with (thresholds for Gate).
	Options Options `json:"-"`
}

// Evaluate screens every labeled report of c with s and scores the results. Every
// label yields one row: a report that could not be read or screened is an
// error row, counted as wrong and listed. With opt.Repeat > 1 every report is
// screened that many times and the agreement of its verdicts is reported.
func Evaluate(ctx context.Context, c *corpus.Corpus, s *screener.Screener, opt Options) (*Run, error) {
	opt = opt.withDefaults()
	start := opt.Now()
	reports, err := c.ReadReports(ctx, opt.Intake)
	if err != nil {
		return nil, err
	}
	return evaluateRead(ctx, c, reports, s, opt, start)
}

// evaluateRead is Evaluate on the reports of c already read, for a run
// started at start; opt has its defaults.
func evaluateRead(ctx context.Context, c *corpus.Corpus, reports []corpus.LabeledReport, s *screener.Screener, opt Options, start time.Time) (*Run, error) {
	rows, err := screenAll(ctx, s, reports, opt.Repeat)
	if err != nil {
		return nil, err
	}
	meta := Meta{Corpus: c.Dir, Split: opt.Split, Backend: s.BackendName(), Repeat: opt.Repeat}
	return score(rows, meta, opt, start), nil
}

// screenAll screens the readable reports repeat times and returns one row per
// report, in corpus order.
func screenAll(ctx context.Context, s *screener.Screener, reports []corpus.LabeledReport, repeat int) ([]Row, error) {
	rows := make([]Row, len(reports))
	var todo []int // indexes of readable reports, in order
	for i, lr := range reports {
		rows[i] = Row{
			ID: lr.Label.ID, File: lr.Label.File,
			True: lr.Label.Label,
		}
		if lr.Err != nil {
			rows[i].Error = lr.Err.Error()
			continue
		}
		rows[i].Source = lr.Report.Source
		rows[i].Subject = lr.Report.Subject
		todo = append(todo, i)
	}
	for round := range repeat {
		items := func(yield func(intake.Item) bool) {
			for _, i := range todo {
				r := reports[i].Report
				if !yield(intake.Item{Source: r.Source, Report: r}) {
					return
				}
			}
		}
		got := 0
		s.Run(ctx, iter.Seq[intake.Item](items), func(res screener.Result) {
			if got >= len(todo) {
				return
			}
			row := &rows[todo[got]]
			got++
			if res.ID != "" && res.ID != row.ID {
				msg := fmt.Sprintf("result for %q arrived in place of %q", res.ID, row.ID)
				res = screener.Result{ID: row.ID, Error: &msg}
			}
			if round == 0 {
				row.fill(res)
			}
			row.Repeats = append(row.Repeats, res.Verdict)
		})
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("evaluation stopped: %w", err)
		}
		for _, i := range todo[got:] {
			if round == 0 {
				rows[i].Error = "the screener returned no result"
			}
			rows[i].Repeats = append(rows[i].Repeats, "")
		}
	}
	if repeat == 1 {
		for i := range rows {
			rows[i].Repeats = nil
		}
	}
	return rows, nil
}

// fill copies what a Result says into the row.
func (row *Row) fill(res screener.Result) {
	if res.Error != nil {
		row.Error = *res.Error
		return
	}
	row.Label, row.Confidence = res.Label, res.Confidence
	row.Decision = res.Decision
	row.NeedsReview, row.ReviewReason, row.ReviewFlags = res.NeedsReview, res.ReviewReason, res.ReviewFlags
	row.Route, row.RoutePublic = res.Route, res.RoutePublic
	rv := res.RulesVerdict
	row.Rules = Prediction{Label: rv.Label, Confidence: rv.Confidence, Decisive: rv.Decisive}
	if b := res.Baseline; b != nil {
		row.Baseline = &Prediction{Label: b.Label, Confidence: b.Confidence, Error: b.Error}
	}
	seen := map[string]bool{}
	for _, f := range res.Rules {
		if !seen[f.RuleID] {
			seen[f.RuleID] = true
			row.Fired = append(row.Fired, FiredRule{Rule: f.RuleID, Category: f.Category})
		}
	}
	if m := res.Model; m != nil {
		row.Model = &ModelRow{
			Label: m.Label, Confidence: m.Confidence,
			Error: m.Error, Prompt: m.Prompt, Model: m.Usage.Model,
			LatencyMS:    float64(m.Usage.Latency) / float64(time.Millisecond),
			PromptTokens: m.Usage.PromptTokens, CompletionTokens: m.Usage.CompletionTokens,
			Cached: m.Usage.Cached, usage: m.Usage,
		}
		if !m.OK() {
			row.Model.Verdict, row.Model.Category = "", ""
			if row.Model.Error == "" {
				row.Model.Error = "no valid answer"
			}
		}
	}
}

// consistency measures how often repeated runs gave a report the same
// verdict; nil unless reports were screened more than once.
func consistency(rows []Row) *Consistency {
	if len(rows) == 0 || len(rows[0].Repeats) < 2 {
		return nil
	}
	c := &Consistency{Runs: len(rows[0].Repeats)}
	for _, r := range rows {
		if len(r.Repeats) == 0 {
			continue // unreadable: never screened
		}
		c.N++
		first := r.Repeats[0]
		if first != "" && !slices.ContainsFunc(r.Repeats, func(v threatmodel.Verdict) bool { return v != first }) {
			c.Consistent++
		} else {
			c.Inconsistent = append(c.Inconsistent, r.ID)
		}
	}
	c.Rate = ratio(c.Consistent, c.N)
	return c
}
