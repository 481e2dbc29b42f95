package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/eval"
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

// evalCommand is `secscreen eval`: screen a labeled corpus and score it.
func evalCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "json", Usage: "write every metric and prediction as JSON to `FILE` (\"-\": stdout), for `eval compare`"},
		&cli.StringFlag{Name: "md", Usage: "write a Markdown report to `FILE` (\"-\": stdout)"},
		&cli.StringFlag{Name: "html", Usage: "write a self-contained HTML report to `FILE` (\"-\": stdout)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not print the text summary (implied when a report goes to stdout)"},
		&cli.StringFlag{Name: "split", Value: "all", Usage: "score one part of the corpus: `dev`, test or all"},
		&cli.StringFlag{Name: "simulate", Usage: "replace the model by a simulated one that knows the labels and answers wrong on a share of the reports: `ERROR_RATE[,SEED]` (e.g. 0.25,7); no server, no cache"},
		&cli.IntFlag{Name: "repeat", Value: 1, Usage: "screen each report `N` times (cache off) and report answer consistency"},
		&cli.IntFlag{Name: "folds", Usage: "cross-fit with `K` stratified folds: on K-1 folds refit the rules' weights and train a baseline like --baseline-model, screen the held-out fold with them"},
		&cli.IntFlag{Name: "resamples", Value: 1000, Usage: "bootstrap resamples for the 95% intervals"},
		&cli.Float64Flag{Name: "min-accuracy", Usage: "fail (exit 1) when verdict accuracy is below `X`"},
		&cli.Float64Flag{Name: "min-security-recall", Usage: "fail (exit 1) when security recall is below `X`"},
		&cli.Float64Flag{Name: "min-macro-f1", Usage: "fail (exit 1) when macro-F1 over the verdicts is below `X`"},
	}
	flags = append(flags, pipelineFlags(&cli.StringFlag{Name: "corpus", Usage: "the labeled corpus `DIR` to score (default ./corpus); its dev split also gives the --shots examples"})...)
	flags = append(flags, inputFlags()...)
	return &cli.Command{
		Name:  "eval",
		Usage: "screen a labeled corpus and measure accuracy, recall, calibration and cost",
		Description: "Screens every report of --corpus (default: ./corpus) with the same pipeline as `screen`\n" +
			"and scores the final decision, the rules alone and the model alone against the labels. Prints\n" +
			"a summary; --json, --md and --html write full reports. --min-* thresholds make the command fail\n" +
			"for CI. --seed also seeds the bootstrap and the fold split. --split dev|test scores one split.\n\n" +
			"When a model answers, the offline baseline votes beside it and the rules; the reports start with\n" +
			"the public leaks (true security reports routed publicly), then the final decision against each\n" +
			"voter alone, then the share flagged for review. --simulate ERROR_RATE[,SEED] measures the policy\n" +
			"with a stand-in model that knows the labels and is wrong on that share of the reports.\n\n" +
			"A baseline model is never scored on reports it was trained on, whether it answers as the backend\n" +
			"or votes beside a model: reports are matched by content (normalised body), and a corpus sharing\n" +
			"any report with the model's training set is refused with the count. The built-in model was trained\n" +
			"on the dev split of the bundled corpus, so --split test scores it directly; --folds K cross-fits\n" +
			"instead: for each fold it refits the rules' weights and trains a baseline like --baseline-model (or\n" +
			"the built-in one) on the other K-1 folds and screens the held-out fold with them, so that no voter\n" +
			"has seen the reports it is scored on (the weights the rules ship with were fitted on dev).",
		Flags:  flags,
		Action: evalRun,
		Subcommands: []*cli.Command{{
			Name:      "compare",
			Usage:     "compare two runs saved with --json: metric changes, flipped reports, McNemar's test",
			ArgsUsage: "A.json B.json",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "json", Usage: "also write the comparison as JSON to `FILE` (\"-\": stdout)"},
			},
			Action: evalCompare,
		}},
	}
}

func evalRun(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("eval: unexpected arguments %q (the corpus is given with --corpus)", c.Args().Slice())
	}
	if c.Int("repeat") < 1 {
		return usageErr("eval: --repeat must be at least 1")
	}
	folds := c.Int("folds")
	if c.IsSet("folds") && folds < 2 {
		return usageErr("eval: --folds must be at least 2")
	}
	set, err := resolveSettings(c)
	if err != nil {
		return err
	}
	var sim *eval.SimulateSpec
	if c.IsSet("simulate") {
		spec, err := eval.ParseSimulate(c.String("simulate"))
		if err != nil {
			return usageErr("eval: --simulate: %w", err)
		}
		if src := set.Source("backend"); src.Kind >= config.FromEnv {
			return usageErr("eval: --simulate replaces the model; it cannot go with %s", src)
		}
		sim = &spec
	}
	if c.Int("repeat") > 1 {
		// Repeats must reach the model, or consistency is trivially 1.
		if set.Cache == backend.CacheOffline {
			return usageErr("eval: --repeat asks the model again; it cannot go with %s", set.Source("cache"))
		}
		set.Cache = backend.CacheDisabled
	}
	in, err := intakeOptions(c, set)
	if err != nil {
		return err
	}
	dir := cmp.Or(c.String("corpus"), "corpus")
	crp, err := corpus.Load(dir)
	if err != nil {
		return usageErr("%w", err)
	}
	split := c.String("split")
	if crp, err = crp.OnlySplit(split); err != nil {
		return usageErr("eval: --split: %w", err)
	}
	if len(crp.Labels) == 0 {
		return usageErr("eval: the %s split of %s holds no reports", split, dir)
	}
	if folds > 0 {
		if err := eval.CheckFolds(folds, len(crp.Labels)); err != nil {
			return usageErr("eval: --folds: %w", err)
		}
	}
	opt := eval.Options{
		Repeat:            c.Int("repeat"),
		Resamples:         c.Int("resamples"),
		Seed:              uint64(set.Seed),
		Split:             split,
		Intake:            in,
		MinAccuracy:       c.Float64("min-accuracy"),
		MinSecurityRecall: c.Float64("min-security-recall"),
		MinMacroF1:        c.Float64("min-macro-f1"),
	}
	if opt.ThreatModel, err = loadThreatModel(c); err != nil {
		return err
	}

	var run *eval.Run
	if folds > 0 {
		trainer, err := foldTrainer(c, set, crp, sim)
		if err != nil {
			return err
		}
		run, err = eval.CrossValidate(c.Context, crp, folds, trainer, opt)
		if err != nil {
			return evalErr(c, err)
		}
	} else {
		progress := output.NewProgress(c.App.ErrWriter, !c.Bool("quiet") && output.IsTerminal(c.App.ErrWriter), len(crp.Labels))
		var p *setup.Pipeline
		if sim != nil {
			p, err = simulatedPipeline(c, set, crp, *sim, progress.Update)
		} else {
			p, err = buildPipeline(c, set, progress.Update)
		}
		if err != nil {
			return err
		}
		if p.Baseline != nil {
			if err := checkNotTrainedOn(c, set, crp, in, p.Baseline); err != nil {
				return err
			}
		}
		opt.Prices = p.Prices
		run, err = eval.Evaluate(c.Context, crp, p.Screener, opt)
		progress.Done()
		if err != nil {
			return evalErr(c, err)
		}
	}

	if err := writeEvalOutputs(c, run); err != nil {
		return err
	}
	if err := run.Gate(); err != nil {
		return withCode(exitFailure, err)
	}
	return nil
}

// evalErr maps an interrupted evaluation to its exit code.
func evalErr(c *cli.Context, err error) error {
	if c.Context.Err() != nil {
		return withCode(exitInterrupted, err)
	}
	return withCode(exitFailure, err)
}

// writeEvalOutputs prints the summary (unless a report goes to stdout) and
// writes the requested reports.
func writeEvalOutputs(c *cli.Context, run *eval.Run) error {
	toStdout := c.String("json") == "-" || c.String("md") == "-" || c.String("html") == "-"
	if !c.Bool("quiet") && !toStdout {
		if err := run.WriteText(c.App.Writer); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	for _, o := range []struct {
		flag  string
		write func(io.Writer) error
	}{
		{"json", run.WriteJSON},
		{"md", run.WriteMarkdown},
		{"html", run.WriteHTML},
	} {
		if path := c.String(o.flag); path != "" {
			if err := evalWriteTo(c, path, o.write); err != nil {
				return fmt.Errorf("eval --%s: %w", o.flag, err)
			}
		}
	}
	return nil
}

// evalWriteTo writes with write to path, or to the app's stdout for "-".
func evalWriteTo(c *cli.Context, path string, write func(io.Writer) error) error {
	if path == "-" {
		return write(c.App.Writer)
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

func evalCompare(c *cli.Context) error {
	if c.NArg() != 2 {
		return usageErr("eval compare: want two run files (A.json B.json), got %d arguments", c.NArg())
	}
	a, err := eval.ReadJSON(c.Args().Get(0))
	if err != nil {
		return usageErr("eval compare: %w", err)
	}
	b, err := eval.ReadJSON(c.Args().Get(1))
	if err != nil {
		return usageErr("eval compare: %w", err)
	}
	cmp := eval.Compare(a, b)
	if err := cmp.WriteText(c.App.Writer); err != nil {
		return fmt.Errorf("eval compare: %w", err)
	}
	if path := c.String("json"); path != "" {
		err := evalWriteTo(c, path, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(cmp)
		})
		if err != nil {
			return fmt.Errorf("eval compare --json: %w", err)
		}
	}
	return nil
}

// checkNotTrainedOn refuses to score a baseline model on reports it was
// trained on (eval.CheckNotTrainedOn), with a hint at what to do instead.
func checkNotTrainedOn(c *cli.Context, s config.Settings, crp *corpus.Corpus, in intake.Options, m *baseline.Model) error {
	err := eval.CheckNotTrainedOn(c.Context, crp, in, m)
	var te *eval.TrainedOnError
	if !errors.As(err, &te) {
		return err
	}
	name := "the built-in baseline model"
	if s.BaselineModel != "" {
		name = "baseline model " + s.BaselineModel
	}
	hint := "use --folds K to cross-validate the baseline (train on K-1 folds, score the held-out one)"
	if c.String("split") != corpus.SplitTest {
		hint = "score the test split (--split test), or " + hint
	}
	return usageErr("eval: %s %v: %s", name, err, hint)
}

// simulatedPipeline is the pipeline of `eval --simulate`: the rules, the
// simulated model in place of a backend (no cache, no network), and the
// offline baseline voting beside them.
func simulatedPipeline(c *cli.Context, s config.Settings, crp *corpus.Corpus, spec eval.SimulateSpec, progress func(screener.Summary)) (*setup.Pipeline, error) {
	tm, eng, err := loadThreatModelAndRules(c)
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
	p := &setup.Pipeline{Choice: "simulated model"}
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
func simulatedConfig(s config.Settings, crp *corpus.Corpus, spec eval.SimulateSpec, tm *threatmodel.Model, eng *rules.Engine) (screener.Config, error) {
	sim, err := eval.NewSimulated(crp.Labels, tm, spec)
	if err != nil {
		return screener.Config{}, usageErr("eval: --simulate: %w", err)
	}
	tpl, err := prompts.Resolve(s.Prompt)
	if err != nil {
		return screener.Config{}, usageErr("%w", s.Errorf("prompt", "%w", err))
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

// foldTrainer is the eval.FoldTrainer for --folds, built from the same
// settings as every other run: each fold refits the rules and trains a
// baseline, which answers as the backend (--backend baseline, or auto
// falling back to it) or votes beside the model (--simulate, or a model
// backend); with --backend rules only the rules are refitted.
func foldTrainer(c *cli.Context, s config.Settings, crp *corpus.Corpus, sim *eval.SimulateSpec) (eval.Trainer, error) {
	tm, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return nil, err
	}
	// Only the options of the model in force are needed: the built-in
	// model's are read without decoding its weights.
	var o eval.FoldTrainerOptions
	if s.BaselineModel != "" {
		like, err := setup.LoadBaseline(s)
		if err != nil {
			return nil, err
		}
		o.Train = like.Options
	} else if o.Train, err = baseline.EmbeddedOptions(); err != nil {
		return nil, err
	}
	if sim != nil {
		if o.Base, err = simulatedConfig(s, crp, *sim, tm, eng); err != nil {
			return nil, err
		}
		return eval.FoldTrainer(o), nil
	}
	mb, err := setup.NewBackend(c.Context, s, files(c), c.App.ErrWriter)
	if err != nil {
		return nil, err
	}
	o.AsClassifier = mb.Baseline != nil
	o.RulesOnly = mb.Baseline == nil && mb.Backend == nil
	o.Base = screener.Config{ThreatModel: tm, Rules: eng}
	if err := mb.Configure(c.Context, s, &o.Base); err != nil {
		return nil, err
	}
	if mb.EvalCache != nil {
		o.Fingerprint = files(c).Fingerprint()
		o.EvalCacheDir = filepath.Join(mb.CacheDir, "rules")
		o.RefitCacheDir = filepath.Join(mb.CacheDir, "refit")
		if !o.RulesOnly {
			o.CacheDir = filepath.Join(mb.CacheDir, "baseline")
		}
	}
	return eval.FoldTrainer(o), nil
}
