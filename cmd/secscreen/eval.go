package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/eval"
	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/backend/baseline"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/output"
	"github.com/secscreen/secscreen/screener/rules"
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
		&cli.IntFlag{Name: "folds", Usage: "cross-validate the baseline with `K` stratified folds (train one like --baseline-model on K-1, test on the held-out fold)"},
		&cli.IntFlag{Name: "resamples", Value: 1000, Usage: "bootstrap resamples for the 95% intervals"},
		&cli.Float64Flag{Name: "min-accuracy", Usage: "fail (exit 1) when verdict accuracy is below `X`"},
		&cli.Float64Flag{Name: "min-security-recall", Usage: "fail (exit 1) when security recall is below `X`"},
		&cli.Float64Flag{Name: "min-macro-f1", Usage: "fail (exit 1) when macro-F1 over the verdicts is below `X`"},
	}
	flags = append(flags, pipelineFlags()...)
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
			"on the dev split of the bundled corpus, so --split test scores it directly; --folds K cross-validates\n" +
			"instead (trains a baseline like --baseline-model, or the built-in one, on K-1 folds and screens the\n" +
			"held-out one).",
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
	var sim *eval.SimulateSpec
	if c.IsSet("simulate") {
		spec, err := eval.ParseSimulate(c.String("simulate"))
		if err != nil {
			return usageErr("eval: --simulate: %w", err)
		}
		if c.IsSet("backend") && c.String("backend") != "" {
			return usageErr("eval: --simulate replaces the model; it cannot go with --backend (or SECSCREEN_BACKEND)")
		}
		sim = &spec
	}
	in, err := intakeOptions(c)
	if err != nil {
		return err
	}
	dir := c.String("corpus")
	if dir == "" {
		dir = "corpus"
	}
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
	opt := eval.Options{
		Repeat:            c.Int("repeat"),
		Resamples:         c.Int("resamples"),
		Seed:              uint64(c.Int("seed")),
		Split:             split,
		Intake:            in,
		MinAccuracy:       c.Float64("min-accuracy"),
		MinSecurityRecall: c.Float64("min-security-recall"),
		MinMacroF1:        c.Float64("min-macro-f1"),
	}
	if opt.Repeat > 1 && evalHasFlag(c, "no-cache") {
		// Repeats must reach the model, or consistency is trivially 1.
		if err := c.Set("no-cache", "true"); err != nil {
			return fmt.Errorf("eval: turn the cache off for --repeat: %w", err)
		}
	}
	if opt.ThreatModel, err = loadThreatModel(c); err != nil {
		return err
	}

	var run *eval.Run
	if folds > 0 {
		trainer, err := foldTrainer(c, crp, sim)
		if err != nil {
			return err
		}
		run, err = eval.CrossValidate(c.Context, crp, folds, trainer, opt)
		if err != nil {
			return evalErr(c, err)
		}
	} else {
		progress := output.NewProgress(c.App.ErrWriter, !c.Bool("quiet") && isTerminal(c.App.ErrWriter), len(crp.Labels))
		var p *pipeline
		if sim != nil {
			p, err = simulatedPipeline(c, crp, *sim, progress.Update)
		} else {
			p, err = buildPipeline(c, progress.Update)
		}
		if err != nil {
			return err
		}
		if p.baseline != nil {
			if err := refuseTrainedBaseline(c, crp, in, p.baseline); err != nil {
				return err
			}
		}
		opt.Prices = p.prices
		run, err = eval.Evaluate(c.Context, crp, p.screener, opt)
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

// evalHasFlag reports whether the command defines a flag called name.
func evalHasFlag(c *cli.Context, name string) bool {
	for _, f := range c.Command.Flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	return false
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

// refuseTrainedBaseline refuses to score a baseline model on reports it
// was trained on, which would measure its memory, not its skill, whether it
// answers as the backend or votes beside a model. Reports are matched by
// content hash (baseline.ReportHash: the normalised body), so a corpus that
// shares no report with the training set is scored, and one that shares
// some is refused with their number. The built-in model was trained on the
// dev split of the bundled corpus.
func refuseTrainedBaseline(c *cli.Context, crp *corpus.Corpus, in intake.Options, m *baseline.Model) error {
	reports, err := crp.ReadReports(c.Context, in)
	if err != nil {
		return err
	}
	var hashes []string
	for _, lr := range reports {
		if lr.Err == nil {
			hashes = append(hashes, baseline.ReportHash(lr.Report))
		}
	}
	n := m.Overlap(hashes)
	if n == 0 {
		return nil
	}
	name := "the built-in baseline model"
	if path := c.String("baseline-model"); path != "" {
		name = "baseline model " + path
	}
	hint := "use --folds K to cross-validate the baseline (train on K-1 folds, score the held-out one)"
	if c.String("split") != corpus.SplitTest {
		hint = "score the test split (--split test), or " + hint
	}
	return usageErr("eval: %s was trained on %d of the %d reports screened from %s (same content), so scoring it there measures memory, not skill: %s",
		name, n, len(hashes), crp.Dir, hint)
}

// simulatedPipeline is the pipeline of `eval --simulate`: the rules, the
// simulated model in place of a backend (no cache, no network), and the
// offline baseline voting beside them.
func simulatedPipeline(c *cli.Context, crp *corpus.Corpus, spec eval.SimulateSpec, progress func(screener.Summary)) (*pipeline, error) {
	tm, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return nil, err
	}
	cfg, err := simulatedConfig(c, crp, spec, tm, eng)
	if err != nil {
		return nil, err
	}
	cfg.Progress = progress
	m, err := loadBaselineModel(c)
	if err != nil {
		return nil, err
	}
	p := &pipeline{choice: "simulated model"}
	if cfg.Voter = baselineVoter(m, tm, eng); cfg.Voter != nil {
		p.baseline = m
	}
	if p.screener, err = screener.New(cfg); err != nil {
		return nil, fmt.Errorf("build screener: %w", err)
	}
	return p, nil
}

// simulatedConfig is a screener config whose backend is the simulated
// model for the labels of crp.
func simulatedConfig(c *cli.Context, crp *corpus.Corpus, spec eval.SimulateSpec, tm *threatmodel.Model, eng *rules.Engine) (screener.Config, error) {
	sim, err := eval.NewSimulated(crp.Labels, tm, spec)
	if err != nil {
		return screener.Config{}, usageErr("eval: --simulate: %w", err)
	}
	tpl, err := prompts.Resolve(c.String("prompt"))
	if err != nil {
		return screener.Config{}, usageErr("prompt: %w", err)
	}
	return screener.Config{
		ThreatModel: tm,
		Rules:       eng,
		Backend:     sim,
		Prompt:      tpl,
		Concurrency: c.Int("concurrency"),
		Seed:        c.Int("seed"),
		// The simulated model is free, but a run should measure what
		// screening would do with the same flags.
		SkipModelWhenDecisive: c.Bool("skip-model-when-rules-decide"),
	}, nil
}

// foldTrainer returns the trainer --folds uses: the offline baseline
// classifier, trained afresh on each fold's training reports with the
// options of the baseline model in force (--baseline-model, or the
// built-in one) and the same threat model and rules as the rest of the
// pipeline. It answers as the backend (--backend baseline), or votes
// beside the model (--simulate, or a model backend).
func foldTrainer(c *cli.Context, crp *corpus.Corpus, sim *eval.SimulateSpec) (eval.Trainer, error) {
	tm, eng, err := loadThreatModelAndRules(c)
	if err != nil {
		return nil, err
	}
	// Only the options of the model in force are needed: the built-in
	// model's are read without decoding its weights.
	var opt baseline.TrainOptions
	if c.String("baseline-model") != "" {
		like, err := loadBaselineModel(c)
		if err != nil {
			return nil, err
		}
		opt = like.Options
	} else if opt, err = baseline.EmbeddedOptions(); err != nil {
		return nil, err
	}
	opt.ThreatModel = tm
	var base screener.Config
	var foldCache *modelCache
	asBackend := false
	if sim != nil {
		if base, err = simulatedConfig(c, crp, *sim, tm, eng); err != nil {
			return nil, err
		}
	} else {
		mb, err := newModelBackend(c, tm, eng)
		if err != nil {
			return nil, err
		}
		switch {
		case mb.backend == nil:
			return nil, usageErr("eval: --folds trains the baseline classifier; --backend rules has none (use --backend baseline, a model backend, or --simulate)")
		case mb.backend.Name() == baseline.Name:
			asBackend = true
		}
		base = screener.Config{ThreatModel: tm, Rules: eng, Backend: mb.backend, Prompt: mb.prompt, Concurrency: c.Int("concurrency")}
		if err := mb.configure(c, &base); err != nil {
			return nil, err
		}
		if mb.evalCache != nil {
			foldCache = &modelCache{dir: filepath.Join(mb.cacheRoot, "baseline"), fingerprint: rulesFingerprint(c)}
		}
	}
	return func(ctx context.Context, train []corpus.LabeledReport) (*screener.Screener, error) {
		ex := make([]baseline.Example, len(train))
		for i, lr := range train {
			ex[i] = baseline.Example{Report: lr.Report, Verdict: lr.Label.Verdict, Category: lr.Label.Category}
		}
		opt := opt
		opt.Evaluate = func(r *intake.Report) rules.Evaluation { return base.EvalCache.Evaluate(r, eng) }
		m, id, err := trainCached(ex, eng, opt, foldCache)
		if err != nil {
			return nil, err
		}
		cfg := base
		if asBackend {
			cfg.Backend = baseline.NewBackend(m, eng)
		} else {
			// Its votes are kept with the rules' evaluations, by the
			// fold model's cache key.
			cfg.Voter = base.EvalCache.Voter(baselineVoter(m, tm, eng), id)
		}
		return screener.New(cfg)
	}, nil
}

// modelCache keeps the baseline models eval --folds trains, beside the
// reply cache: training (about 3 s of CPU a fold) was most of what a
// warm-cache eval re-run did. A model is found by the rules' fingerprint
// (binary, rule, series and threat model files), the training options and
// every training report with its label, so any change trains afresh.
// Models are kept in their binary form (baseline.Model.MarshalBinary),
// read ten times faster than their JSON.
type modelCache struct {
	dir, fingerprint string
	// digests memoises each report's hash: every report trains all folds
	// but its own, and encoding it for each was a warm run's CPU.
	mu      sync.Mutex
	digests map[*intake.Report][sha256.Size]byte
}

// digest is the SHA-256 of r as intake decoded it, hidden parts included.
func (mc *modelCache) digest(r *intake.Report) ([sha256.Size]byte, error) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if d, ok := mc.digests[r]; ok {
		return d, nil
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	if err := errors.Join(enc.Encode(r), enc.Encode(r.Hidden)); err != nil {
		return [sha256.Size]byte{}, err
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	if mc.digests == nil {
		mc.digests = map[*intake.Report][sha256.Size]byte{}
	}
	mc.digests[r] = d
	return d, nil
}

// trainCached trains a baseline model, or loads the one trained on the
// same examples before. id is the model's cache key, which names
// everything the model was made from ("" without a cache).
func trainCached(ex []baseline.Example, eng *rules.Engine, opt baseline.TrainOptions, mc *modelCache) (m *baseline.Model, id string, err error) {
	if mc == nil || mc.fingerprint == "" {
		m, err = baseline.Train(ex, eng, opt)
		return m, "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "secscreen-fold-model/v2\x00%s\x00", mc.fingerprint)
	if err := json.NewEncoder(h).Encode(opt); err != nil {
		m, err = baseline.Train(ex, eng, opt)
		return m, "", err
	}
	for _, e := range ex {
		d, err := mc.digest(e.Report)
		if err != nil {
			m, err = baseline.Train(ex, eng, opt)
			return m, "", err
		}
		fmt.Fprintf(h, "%x\x00%s\x00%s\x00", d, e.Verdict, e.Category)
	}
	id = hex.EncodeToString(h.Sum(nil))
	path := filepath.Join(mc.dir, id+".bin")
	if data, err := os.ReadFile(path); err == nil {
		var loaded baseline.Model
		if loaded.UnmarshalBinary(data) == nil {
			return &loaded, id, nil
		}
	}
	if m, err = baseline.Train(ex, eng, opt); err != nil {
		return nil, "", err
	}
	data, err := m.MarshalBinary()
	if err == nil && os.MkdirAll(mc.dir, 0o700) == nil {
		if f, err := os.CreateTemp(mc.dir, ".tmp-*"); err == nil {
			_, werr := f.Write(data)
			if errors.Join(werr, f.Close()) != nil || os.Rename(f.Name(), path) != nil {
				os.Remove(f.Name())
			}
		}
	}
	return m, id, nil
}
