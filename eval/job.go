package eval

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/internal/docformat"
	"github.com/secscreen/secscreen/internal/exit"
	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend"
	"github.com/secscreen/secscreen/screener/baseline"
	"github.com/secscreen/secscreen/screener/config"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/output"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/setup"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Job is one `secscreen eval`: the corpus to score, the settings and files
// the screener is built from (setup, as for screen), and where the reports
// go. Its errors carry their exit codes (internal/exit): 2 for what the
// user asked wrongly, 130 when interrupted, 1 otherwise, a missed
// threshold (Gate) included.
type Job struct {
	// Settings are the run's merged settings (config.Resolve); Files the
	// threat model, rules, series and source tree; Intake says how the
	// corpus's report files are read.
	Settings config.Settings
	Files    setup.Files
	Intake   intake.Options
	// Corpus is the labeled corpus's directory ("" means ./corpus); Split
	// the part scored: dev, test or all ("" means all).
	Corpus, Split string
	// Folds, when not 0, cross-fits with that many folds (FoldTrainer).
	Folds int
	// Simulate, when set, replaces the model by the Simulated one it
	// describes ("ERROR_RATE[,SEED]", ParseSimulate).
	Simulate string
	// Options are the run's Repeat, Resamples and thresholds; the job fills
	// in the rest (seed, split, intake, threat model, prices).
	Options Options
	// JSON, Markdown and HTML name the files the reports go to ("" none,
	// "-" Stdout). Quiet leaves out the text summary, which a report on
	// Stdout also does.
	JSON, Markdown, HTML string
	Quiet                bool
	// Stdout receives the summary and the reports sent there; Stderr the
	// progress and notes.
	Stdout, Stderr io.Writer
}

// Run screens the corpus, scores it, writes the reports and checks the
// thresholds.
func (j Job) Run(ctx context.Context) error {
	s := j.Settings
	if j.Options.Repeat < 1 {
		return exit.Usagef("eval: --repeat must be at least 1")
	}
	var sim *SimulateSpec
	if j.Simulate != "" {
		spec, err := ParseSimulate(j.Simulate)
		if err != nil {
			return exit.Usagef("eval: --simulate: %w", err)
		}
		if src := s.Source("backend"); src.Kind >= config.FromEnv {
			return exit.Usagef("eval: --simulate replaces the model; it cannot go with %s", src)
		}
		sim = &spec
	}
	if j.Options.Repeat > 1 {
		// Repeats must reach the model, or consistency is trivially 1.
		if s.Cache == backend.CacheOffline {
			return exit.Usagef("eval: --repeat asks the model again; it cannot go with %s", s.Source("cache"))
		}
		s.Cache = backend.CacheDisabled
	}
	crp, err := j.corpus()
	if err != nil {
		return err
	}
	opt := j.Options
	opt.Seed, opt.Split, opt.Intake = uint64(s.Seed), cmp.Or(j.Split, "all"), j.Intake
	run, err := j.evaluate(ctx, s, crp, sim, opt)
	if err != nil && ctx.Err() != nil {
		return exit.With(exit.Interrupted, err)
	} else if err != nil {
		return err
	}
	if err := j.writeReports(run); err != nil {
		return err
	}
	return run.Gate()
}

// corpus loads the split of the corpus to score; an empty split, or one
// too small for the folds, is a usage error.
func (j Job) corpus() (*corpus.Corpus, error) {
	dir, split := cmp.Or(j.Corpus, "corpus"), cmp.Or(j.Split, "all")
	crp, err := corpus.Load(dir)
	if err != nil {
		return nil, exit.Usagef("%w", err)
	}
	if crp, err = crp.OnlySplit(split); err != nil {
		return nil, exit.Usagef("eval: --split: %w", err)
	}
	if len(crp.Labels) == 0 {
		return nil, exit.Usagef("eval: the %s split of %s holds no reports", split, dir)
	}
	if j.Folds != 0 {
		if err := CheckFolds(j.Folds, len(crp.Labels)); err != nil {
			return nil, exit.Usagef("eval: --folds: %w", err)
		}
	}
	return crp, nil
}

// evaluate screens crp with the screener s describes (or, with sim, the
// simulated model), cross-fitted when the job has folds.
func (j Job) evaluate(ctx context.Context, s config.Settings, crp *corpus.Corpus, sim *SimulateSpec, opt Options) (*Run, error) {
	if j.Folds > 0 {
		// The corpus is read (on every CPU) while the rules and the
		// backend load, mostly on one: the first fold waits for both.
		opt = opt.withDefaults()
		start := opt.Now()
		reports := readAhead(ctx, crp, opt.Intake)
		trainer, tm, err := j.foldTrainer(ctx, s, crp, sim)
		if err != nil {
			_, _ = reports() // nothing is left reading after the error
			return nil, err
		}
		opt.ThreatModel = tm
		return crossValidate(ctx, crp, j.Folds, trainer, opt, start, reports)
	}
	progress := output.NewProgress(j.Stderr, !j.Quiet && output.IsTerminal(j.Stderr), len(crp.Labels))
	var p *setup.Pipeline
	var err error
	if sim != nil {
		p, err = j.simulatedPipeline(s, crp, *sim, progress.Update)
	} else {
		p, err = setup.Build(ctx, s, j.Files, setup.Options{Log: j.Stderr, Progress: progress.Update})
	}
	if err != nil {
		return nil, err
	}
	opt.Prices, opt.ThreatModel = p.Prices, p.ThreatModel
	// The corpus is read once, for the check and the run: a warm eval
	// with a baseline read and decoded it twice.
	opt = opt.withDefaults()
	start := opt.Now()
	reports, err := crp.ReadReports(ctx, opt.Intake)
	if err != nil {
		return nil, err
	}
	if p.Baseline != nil {
		if err := j.checkNotTrainedOn(s, crp, reports, p.Baseline); err != nil {
			return nil, err
		}
	}
	run, err := evaluateRead(ctx, crp, reports, p.Screener, opt, start)
	progress.Done()
	return run, err
}

// checkNotTrainedOn refuses to score a baseline model on reports it was
// trained on (CheckNotTrainedOn), with a hint at what to do instead.
func (j Job) checkNotTrainedOn(s config.Settings, crp *corpus.Corpus, reports []corpus.LabeledReport, m *baseline.Model) error {
	err := checkNotTrainedOn(crp, reports, m)
	var te *TrainedOnError
	if !errors.As(err, &te) {
		return err
	}
	name := "the built-in baseline model"
	if s.BaselineModel != "" {
		name = "baseline model " + s.BaselineModel
	}
	hint := "use --folds K to cross-validate the baseline (train on K-1 folds, score the held-out one)"
	if j.Split != corpus.SplitTest {
		hint = "score the test split (--split test), or " + hint
	}
	return exit.Usagef("eval: %s %v: %s", name, err, hint)
}

// simulatedPipeline is the pipeline of --simulate: the rules, the
// simulated model in place of a backend (no cache, no network), and the
// offline baseline voting beside them.
func (j Job) simulatedPipeline(s config.Settings, crp *corpus.Corpus, spec SimulateSpec, progress func(screener.Summary)) (*setup.Pipeline, error) {
	tm, eng, err := j.Files.Load(j.Stderr)
	if err != nil {
		return nil, err
	}
	cfg, err := simulatedConfig(s, crp, spec, tm, eng)
	if err != nil {
		return nil, err
	}
	cfg.Progress = progress
	m, err := setup.LoadBaseline(s)
	if err != nil {
		return nil, err
	}
	p := &setup.Pipeline{Choice: "simulated model", ThreatModel: tm}
	if cfg.Voter = baseline.Voter(m, tm, eng); cfg.Voter != nil {
		p.Baseline = m
	}
	if p.Screener, err = screener.New(cfg); err != nil {
		return nil, fmt.Errorf("build screener: %w", err)
	}
	return p, nil
}

// simulatedConfig is a screener config whose backend is the simulated
// model for the labels of crp, with the settings' prompt, concurrency and
// seed.
func simulatedConfig(s config.Settings, crp *corpus.Corpus, spec SimulateSpec, tm *threatmodel.Model, eng *rules.Engine) (screener.Config, error) {
	sim, err := NewSimulated(crp.Labels, tm, spec)
	if err != nil {
		return screener.Config{}, exit.Usagef("eval: --simulate: %w", err)
	}
	tpl, err := prompts.Resolve(s.Prompt)
	if err != nil {
		return screener.Config{}, exit.Usagef("%w", s.Errorf("prompt", "%w", err))
	}
	llm, err := screener.NewLLM(screener.LLMConfig{Backend: sim, Prompt: tpl, ThreatModel: tm, Seed: s.Seed})
	if err != nil {
		return screener.Config{}, fmt.Errorf("eval: --simulate: %w", err)
	}
	return screener.Config{
		ThreatModel: tm,
		Rules:       eng,
		Classifier:  llm,
		Concurrency: s.Concurrency,
		// The simulated model is free, but a run should measure what
		// screening would do with the same flags.
		SkipModelWhenDecisive: s.SkipModelWhenDecisive,
	}, nil
}

// foldTrainer is the FoldTrainer of --folds, built from the same settings
// as every other run, and the threat model it screens with: each fold
// refits the rules and trains a baseline, which answers as the backend
// (--backend baseline, or auto falling back to it) or votes beside the
// model (--simulate, or a model backend); with --backend rules only the
// rules are refitted.
func (j Job) foldTrainer(ctx context.Context, s config.Settings, crp *corpus.Corpus, sim *SimulateSpec) (Trainer, *threatmodel.Model, error) {
	tm, eng, err := j.Files.Load(j.Stderr)
	if err != nil {
		return nil, nil, err
	}
	// Only the options of the model in force are needed: the built-in
	// model's are read without decoding its weights.
	var o FoldTrainerOptions
	if s.BaselineModel != "" {
		like, err := setup.LoadBaseline(s)
		if err != nil {
			return nil, nil, err
		}
		o.Train = like.Options
	} else {
		o.Train = baseline.EmbeddedOptions()
	}
	if sim != nil {
		if o.Base, err = simulatedConfig(s, crp, *sim, tm, eng); err != nil {
			return nil, nil, err
		}
		return FoldTrainer(o), tm, nil
	}
	mb, err := setup.NewBackend(ctx, s, j.Files, j.Stderr)
	if err != nil {
		return nil, nil, err
	}
	o.AsClassifier = mb.Baseline != nil
	o.RulesOnly = mb.Baseline == nil && mb.Backend == nil
	o.Base = screener.Config{ThreatModel: tm, Rules: eng}
	if err := mb.Configure(ctx, s, &o.Base); err != nil {
		return nil, nil, err
	}
	if mb.EvalCache != nil {
		o.Fingerprint = j.Files.Fingerprint()
		o.EvalCacheDir = filepath.Join(mb.CacheDir, "rules")
		o.RefitCacheDir = filepath.Join(mb.CacheDir, "refit")
		if !o.RulesOnly {
			o.CacheDir = filepath.Join(mb.CacheDir, "baseline")
		}
	}
	return FoldTrainer(o), tm, nil
}

// writeReports prints the text summary (unless Quiet or a report goes to
// Stdout) and writes the reports asked for.
func (j Job) writeReports(run *Run) error {
	if !j.Quiet && j.JSON != "-" && j.Markdown != "-" && j.HTML != "-" {
		if err := run.WriteText(j.Stdout); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	for _, o := range []struct {
		flag, path string
		write      func(io.Writer) error
	}{
		{"json", j.JSON, run.WriteJSON},
		{"md", j.Markdown, run.WriteMarkdown},
		{"html", j.HTML, run.WriteHTML},
	} {
		if o.path != "" {
			if err := writeTo(j.Stdout, o.path, o.write); err != nil {
				return fmt.Errorf("eval --%s: %w", o.flag, err)
			}
		}
	}
	return nil
}

// writeTo writes with write to the file path, or to stdout for "-".
func writeTo(stdout io.Writer, path string, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// CompareFiles is `secscreen eval compare`: it reads the runs saved as
// JSON in the files a and b (a usage error when one cannot be read), and
// writes their comparison (Compare) to w, and as indented JSON to the
// file jsonPath ("" none, "-" w).
func CompareFiles(w io.Writer, a, b, jsonPath string) error {
	ra, err := ReadJSON(a)
	if err != nil {
		return exit.Usagef("eval compare: %w", err)
	}
	rb, err := ReadJSON(b)
	if err != nil {
		return exit.Usagef("eval compare: %w", err)
	}
	c := Compare(ra, rb)
	if err := c.WriteText(w); err != nil {
		return fmt.Errorf("eval compare: %w", err)
	}
	if jsonPath == "" {
		return nil
	}
	err = writeTo(w, jsonPath, func(w io.Writer) error { return docformat.Write(w, docformat.JSON, c, nil) })
	if err != nil {
		return fmt.Errorf("eval compare --json: %w", err)
	}
	return nil
}
