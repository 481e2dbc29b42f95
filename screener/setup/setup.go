// Package setup assembles a screener from a run's settings and the data
// files the user names: the threat model and the rule engine built against
// it, the classifier the settings choose (a language model behind its
// prompt, with few-shot examples, or the offline baseline in its place),
// the baseline voting beside a model, the kernel source tree, and the
// cache of the rules' evaluations kept beside the reply cache. screen,
// check, reply and eval build their screeners here, so that a setting
// means the same to each of them.
//
//	config.Settings + Files ──► threat model, rules ──► auto.Build ──► Classifier, Voter ──► screener.New
//
// Errors about what the user named (a file that does not load, a setting
// that cannot be used) carry exit code 2 (internal/exit); the others are
// failures.
package setup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/internal/gcstart"
	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/advice"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/backend/auto"
	"github.com/secscreen/secscreen/screener/baseline"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/maintainers"
	"github.com/secscreen/secscreen/screener/output"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/sourcetree"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Files are the data files a run reads, by path; "" means the built-in
// one (for Source: no tree).
type Files struct {
	// ThreatModel is a threat model file (kernel RST, Markdown or YAML).
	ThreatModel string
	// Rules adds rules to the threat model's rule pack or overrides them
	// by id.
	Rules string
	// Series replaces the built-in list of maintained kernel series.
	Series string
	// Source is a kernel tree (or git checkout) whose code the reports'
	// citations are looked up in.
	Source string
}

// LoadThreatModel returns the threat model in the file path, or the
// built-in kernel model when path is "".
func LoadThreatModel(path string) (*threatmodel.Model, error) {
	if path == "" {
		return threatmodel.Kernel(), nil
	}
	tm, err := threatmodel.Load(path)
	if err != nil {
		return nil, exit.Usagef("threat model: %w", err)
	}
	return tm, nil
}

// Load returns the threat model and the rule engine built against it from
// the model's rule pack (rules.PackFor), f.Rules and f.Series. A model
// other than the built-in one gets a note on notes saying which pack it
// screens with.
func (f Files) Load(notes io.Writer) (*threatmodel.Model, *rules.Engine, error) {
	tm, err := LoadThreatModel(f.ThreatModel)
	if err != nil {
		return nil, nil, err
	}
	set, note, err := rules.PackFor(tm)
	if err != nil {
		return nil, nil, exit.Usagef("rules: %w", err)
	}
	if tm.Source != "built-in" {
		fmt.Fprintf(notes, "rules: %s\n", note)
	}
	if f.Rules != "" {
		extra, err := rules.LoadFile(f.Rules)
		if err != nil {
			return nil, nil, exit.Usagef("rules: %w", err)
		}
		set = set.Merge(extra)
	}
	var opt rules.Options
	if f.Series != "" {
		if opt.Series, err = rules.LoadSeries(f.Series); err != nil {
			return nil, nil, exit.Usagef("series: %w", err)
		}
	}
	eng, err := rules.NewEngine(tm, set, opt)
	if err != nil {
		return nil, nil, exit.Usagef("rules: %w", err)
	}
	return tm, eng, nil
}

// Fingerprint is screener.RulesFingerprint of the files the rules'
// evaluations depend on.
func (f Files) Fingerprint() string {
	return screener.RulesFingerprint(
		screener.RulesFile{Flag: "threat-model", Path: f.ThreatModel},
		screener.RulesFile{Flag: "rules", Path: f.Rules},
		screener.RulesFile{Flag: "series", Path: f.Series})
}

// openSource opens the Source tree, or returns nil when there is none. An
// interface holding a nil *Tree would not be nil: the screener's Source
// stays unset without a tree.
func (f Files) openSource() (screener.SourceChecker, error) {
	if f.Source == "" {
		return nil, nil
	}
	tree, err := sourcetree.Open(f.Source)
	if err != nil {
		return nil, exit.Usagef("--source: %w", err)
	}
	return tree, nil
}

// Backend is the classifier the settings choose: a language model's
// transport (Backend) with its prompt, the offline baseline in its place
// (Baseline), or neither (the rules alone).
type Backend struct {
	auto.Built
	// Prompt is the language model's prompt template.
	Prompt *prompts.Template
	// Baseline is the offline classifier's model when it answers in the
	// model's place; nil otherwise.
	Baseline *baseline.Model
	// EvalCache keeps the rules' evaluations beside the reply cache; nil
	// when there is no reply cache.
	EvalCache *screener.EvalCache
}

// NewBackend builds the backend the settings name (auto.Build); the
// clients' warnings go to log. f fingerprints the evaluation cache.
func NewBackend(ctx context.Context, s config.Settings, f Files, log io.Writer) (*Backend, error) {
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	built, err := auto.Build(ctx, s, auto.BuildOptions{Logger: logger, Offline: baseline.Name})
	var ce *config.Error
	if errors.As(err, &ce) {
		return nil, exit.With(exit.Usage, err)
	} else if err != nil {
		return nil, err
	}
	b := &Backend{Built: built}
	// A prompt the settings name is checked whatever answers: a wrong one
	// in the config file is an error even on a run that renders none. The
	// built-in default is parsed only for a run that renders it (its
	// templates are tested; parsing them was ~0.5 ms of every start).
	if s.Prompt != "" || (built.Backend != nil && !built.Offline) {
		if b.Prompt, err = prompts.Resolve(s.Prompt); err != nil {
			return nil, exit.With(exit.Usage, s.Errorf("prompt", "%w", err))
		}
	}
	if built.Offline {
		if b.Baseline, err = LoadBaseline(s); err != nil {
			return nil, err
		}
		b.Choice.Model = b.Baseline.Name()
		if s.Backend == baseline.Name {
			b.Description = "baseline (offline classifier " + b.Baseline.Name() + ")"
		}
		return b, nil
	}
	if built.Backend != nil && built.CacheDir != "" {
		if fp := f.Fingerprint(); fp != "" {
			b.EvalCache = screener.NewEvalCache(filepath.Join(built.CacheDir, "rules"), fp)
		}
	}
	return b, nil
}

// Configure copies the settings a screener takes into cfg and sets its
// classifier: the offline baseline, or the language model with the prompt
// (neither: the rules alone). cfg must hold the threat model and rules.
func (b *Backend) Configure(ctx context.Context, s config.Settings, cfg *screener.Config) error {
	cfg.SkipModelWhenDecisive = s.SkipModelWhenDecisive
	cfg.Concurrency = s.Concurrency
	cfg.EvalCache = b.EvalCache
	switch {
	case b.Baseline != nil:
		cfg.Classifier = baseline.NewClassifier(b.Baseline, cfg.Rules)
	case b.Backend != nil:
		lc := screener.LLMConfig{Backend: b.Backend, Prompt: b.Prompt, ThreatModel: cfg.ThreatModel, MaxBodyChars: s.BodyChars, Seed: s.Seed}
		if s.Shots > 0 {
			if s.ShotsCorpus == "" {
				return exit.Usagef("--shots needs --corpus DIR")
			}
			pick, err := Shots(ctx, s.ShotsCorpus, s.Shots)
			if err != nil {
				return err
			}
			lc.Shots = pick
		}
		llm, err := screener.NewLLM(lc)
		if err != nil {
			return err
		}
		cfg.Classifier = llm
	}
	return nil
}

// LoadBaseline returns the offline classifier's model: the settings'
// baseline model file, or the model embedded at build time.
func LoadBaseline(s config.Settings) (*baseline.Model, error) {
	if s.BaselineModel == "" {
		return baseline.Embedded(), nil
	}
	m, err := baseline.LoadModelFile(s.BaselineModel)
	if err != nil {
		return nil, exit.Usagef("baseline model: %w", err)
	}
	return m, nil
}

// Shots reads the dev split of the labeled corpus in dir and returns a
// picker of n few-shot examples per report. The test split is sealed for
// measuring: its reports are never shown to a model.
func Shots(ctx context.Context, dir string, n int) (func(*intake.Report) []prompts.Shot, error) {
	cp, err := corpus.Load(dir)
	if err != nil {
		return nil, exit.Usagef("--corpus: %w", err)
	}
	if cp, err = cp.OnlySplit(corpus.SplitDev); err != nil {
		return nil, exit.Usagef("--corpus: %w", err)
	}
	read, err := cp.ReadReports(ctx, intake.Options{})
	if err != nil {
		return nil, fmt.Errorf("read shots: %w", err)
	}
	var shots []prompts.Shot
	for _, lr := range read {
		if lr.Err == nil {
			shots = append(shots, prompts.Shot{Report: lr.Report, Label: lr.Label.Label, Note: lr.Label.Notes})
		}
	}
	if len(shots) == 0 {
		return nil, exit.Usagef("--corpus %s: no readable labeled reports for --shots", dir)
	}
	return screener.ShotPicker(shots, n), nil
}

// Pipeline is a screener with what a run's summary and advice need.
type Pipeline struct {
	// Screener screens the reports.
	Screener *screener.Screener
	// Choice says what answers besides the rules, for the summary line.
	Choice string
	// Prices and ModelName (the model that answered) price the run.
	Prices    backend.PriceTable
	ModelName string
	// Baseline is the offline classifier's model when it answers, as the
	// backend or as the voter beside a model (nil otherwise).
	Baseline *baseline.Model
	// ThreatModel is the threat model the screener speaks.
	ThreatModel *threatmodel.Model
}

// Options complete Build; every field is optional.
type Options struct {
	// Log receives notes (the rule pack a threat model screens with) and
	// the model clients' warnings; nil discards them.
	Log io.Writer
	// Progress is the screener's progress callback.
	Progress func(screener.Summary)
	// Configure completes the screener's configuration (screen adds
	// duplicate detection).
	Configure func(*screener.Config)
	// SmallInput says the run reads a few kilobytes at most (SmallInputs):
	// then its heap is not prepared to grow (gcstart.GrowHeap), which
	// costs a collection that such a run does not win back.
	SmallInput bool
	// Ready, if set, is called once the threat model and rules are
	// loaded, before the classifier is built (which may reach a model
	// server): what loads beside them (screen's history) is waited for
	// there, and an error stops Build before anything else is done.
	Ready func() error
}

// smallInputBytes bounds the inputs of a run that SmallInputs calls
// small. Paired runs with the baseline (31 each): `check` of one ~4 KB
// report took ~8 ms less CPU without GrowHeap's collection (50.6 against
// 59.3 ms, ~160 page faults more), `screen` of it ~10 ms less; from 10
// such reports (40 KB) on, and for one 10 MB message, preparing the heap
// at start paid (65 against 73 ms for 10 reports, 127 against 201 ms for
// the 10 MB message).
const smallInputBytes = 16 << 10

// SmallInputs reports whether the inputs are regular files of at most
// smallInputBytes in all (not standard input, not a directory): a run
// that reads them does not grow its heap much past its first chunk.
func SmallInputs(inputs []string) bool {
	total := int64(0)
	for _, in := range inputs {
		if in == "-" {
			return false
		}
		fi, err := os.Stat(in)
		if err != nil || !fi.Mode().IsRegular() {
			return false
		}
		if total += fi.Size(); total > smallInputBytes {
			return false
		}
	}
	return len(inputs) > 0
}

// Build assembles the screener the settings and files describe: the
// rules, the classifier, and the offline baseline voting beside a model so
// that the two together can catch a wrong model.
func Build(ctx context.Context, s config.Settings, f Files, o Options) (*Pipeline, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if s.Backend != "rules" && !o.SmallInput {
		// A run that answers with the baseline or a model and reads more
		// than a few kilobytes grows the heap past its first chunk, which
		// earlyheap advised: prepare more before the rules load.
		gcstart.GrowHeap()
	}
	screener.PrefetchDefaultRoutes()
	tm, eng, err := f.Load(o.Log)
	if err != nil {
		return nil, err
	}
	if o.Ready != nil {
		if err := o.Ready(); err != nil {
			return nil, err
		}
	}
	b, err := NewBackend(ctx, s, f, o.Log)
	if err != nil {
		return nil, err
	}
	cfg := screener.Config{ThreatModel: tm, Rules: eng, Progress: o.Progress}
	if err := b.Configure(ctx, s, &cfg); err != nil {
		return nil, err
	}
	p := &Pipeline{Choice: b.Description, Prices: s.Prices, ModelName: b.Choice.Model, ThreatModel: tm}
	if cfg.Source, err = f.openSource(); err != nil {
		return nil, err
	}
	if cfg.Source != nil {
		p.Choice += "; cited code looked up in " + f.Source
	}
	switch {
	case b.Baseline != nil:
		// The baseline answers in the model's place; it must not vote twice.
		p.Baseline = b.Baseline
	case b.Backend == nil:
		// The rules alone.
	default:
		m, err := LoadBaseline(s)
		if err != nil {
			return nil, err
		}
		if cfg.Voter = baseline.Voter(m, tm, eng); cfg.Voter != nil {
			p.Baseline = m
			p.Choice += "; the offline baseline votes beside it"
		}
	}
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	if p.Screener, err = screener.New(cfg); err != nil {
		return nil, fmt.Errorf("build screener: %w", err)
	}
	return p, nil
}

// SummaryLine is the run's one-line account (output.SummaryLine), priced
// with the settings' price table when it lists the model.
func (p *Pipeline) SummaryLine(sum screener.Summary) string {
	var cost float64
	ok := false
	if len(p.Prices) > 0 {
		cost, ok = p.Prices.Cost(backend.Usage{Model: p.ModelName, PromptTokens: sum.PromptTokens, CompletionTokens: sum.CompletionTokens})
	}
	return output.SummaryLine(sum, p.Choice, cost, ok)
}

// Advice returns the options of the advice about the pipeline's reports:
// its threat model, the MAINTAINERS file in maintainersFile (none when
// ""; entries Go cannot compile are reported on log), and whether a tool
// helped write the reports.
func (p *Pipeline) Advice(maintainersFile string, aiAssisted bool, log io.Writer) (advice.Options, error) {
	opt := advice.Options{ThreatModel: p.ThreatModel, AIAssisted: aiAssisted}
	if maintainersFile == "" {
		return opt, nil
	}
	m, err := maintainers.Load(maintainersFile)
	if err != nil {
		return opt, exit.Usagef("--maintainers: %w", err)
	}
	for _, w := range m.Warnings {
		fmt.Fprintf(log, "secscreen: %s: %s\n", maintainersFile, w)
	}
	opt.Maintainers = m
	return opt, nil
}
