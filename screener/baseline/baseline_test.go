package baseline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

func kernelEngine(t testing.TB) *rules.Engine {
	t.Helper()
	set := rules.KernelRules()
	e, err := rules.NewEngine(threatmodel.Kernel(), set, rules.Options{})
	require.NoError(t, err)
	return e
}

// A small hand-written corpus of three well separated kinds of report. Each
// kind has a fixed core of telling phrases and varies the rest, so a model
// must pick the telling phrases out of the noise.
var (
	fillers = []string{
		"I noticed this while looking at something else last week.",
		"Thanks for your time and for maintaining this code.",
		"Please let me know if more details would help.",
		"The machine is an ordinary desktop with plenty of memory.",
		"I have not checked older trees yet.",
		"Sorry if this is the wrong list for this.",
		"Happy to test a patch if you have one.",
		"This came up during a routine review of our systems.",
	}
	kinds = []struct {
		verdict, category string
		subjects          []string
		core              []string
	}{
		{
			verdict: "security", category: "capability.sys-admin",
			subjects: []string{"heap overflow in %s gives root", "privilege escalation through %s", "local root via %s"},
			core: []string{
				"An unprivileged user can trigger a heap overflow in %s() and gain root.",
				"Tested as uid 1000 on 6.12.3 with the distribution config; the reproducer below gives a root shell.",
				"#include <fcntl.h>\n\nint main(void)\n{\n\tint fd = open(\"/dev/%s\", O_RDWR);\n\n\tioctl(fd, 0x4004, buf);\n\treturn 0;\n}",
			},
		},
		{
			verdict: "not-security", category: "fs.crafted-image",
			subjects: []string{"crash mounting a corrupted %s image", "fuzzed %s image panics on mount", "oops with crafted %s filesystem"},
			core: []string{
				"Mounting a crafted filesystem image makes the %s driver read past the end of a block.",
				"The image was produced by a filesystem fuzzer and mounted as root with mount -o loop.",
				"fsck reports the superblock as corrupted before the mount.",
			},
		},
		{
			verdict: "invalid", category: "invalid.intended",
			subjects: []string{"%s lets users see their own limits", "%s shows values to everyone", "%s behaves as documented?"},
			core: []string{
				"The %s file is world readable and shows the values it documents.",
				"The manual page says this is intended behaviour and the documentation describes it.",
				"I am not sure this is a bug at all since it works exactly as documented.",
			},
		},
	}
	names = []string{"foo", "bar", "baz", "quux", "zed", "widget", "gizmo", "frob", "blip", "knob"}
)

// handReport builds report i of kind k.
func handReport(k, i int) *intake.Report {
	kind := kinds[k]
	name := names[i%len(names)]
	var b strings.Builder
	for j, line := range kind.core {
		if strings.Contains(line, "%s") {
			line = fmt.Sprintf(line, name)
		}
		b.WriteString(line + "\n")
		b.WriteString(fillers[(i+j+k)%len(fillers)] + "\n\n")
	}
	return &intake.Report{
		ID:      fmt.Sprintf("%s-%d", kind.category, i),
		Subject: fmt.Sprintf(kind.subjects[i%len(kind.subjects)], name),
		Body:    b.String(),
	}
}

// handExamples returns n examples of each kind, interleaved.
func handExamples(n, offset int) []Example {
	var ex []Example
	for i := range n {
		for k, kind := range kinds {
			ex = append(ex, Example{Report: handReport(k, i+offset), Label: threatmodel.Label{Verdict: threatmodel.Verdict(kind.verdict), Category: kind.category}})
		}
	}
	return ex
}

// algos are the algorithms every behaviour is tested with.
var algos = []string{AlgoLogReg, AlgoNaiveBayes}

func trainHand(t testing.TB) (*Model, *rules.Engine) {
	t.Helper()
	return trainHandWith(t, DefaultAlgo)
}

func trainHandWith(t testing.TB, algo string) (*Model, *rules.Engine) {
	t.Helper()
	eng := kernelEngine(t)
	m, err := Train(handExamples(6, 0), eng, TrainOptions{Algo: algo})
	require.NoError(t, err)
	return m, eng
}

func saved(t testing.TB, m *Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, m.Save(&buf))
	return buf.Bytes()
}

func TestTrainLearnsObviousSeparation(t *testing.T) {
	for _, algo := range algos {
		t.Run(algo, func(t *testing.T) { testObviousSeparation(t, algo) })
	}
}

func testObviousSeparation(t *testing.T, algo string) {
	m, eng := trainHandWith(t, algo)
	require.Len(t, m.Classes, 3)
	assert.Equal(t, 18, m.Stats.Examples)
	assert.Equal(t, "linux-kernel", m.ThreatModel)
	for _, e := range handExamples(4, 6) { // reports the model has not seen
		ev := eng.Evaluate(e.Report)
		p := m.Predict(e.Report, &ev)
		assert.Equal(t, e.Category, p.Category, "report %s: %+v", e.Report.ID, p.Categories)
		assert.Equal(t, e.Verdict, p.Verdict)
		assert.Greater(t, p.Confidence, 0.5, e.Report.ID)
		assert.LessOrEqual(t, p.Confidence, 1.0)
		assert.NotEmpty(t, p.Evidence, e.Report.ID)
		assert.NotEqual(t, p.Category, p.RunnerUp)
	}
	assert.Equal(t, 1.0, m.Stats.CVVerdictAccuracy)
	assert.Equal(t, 1.0, m.Stats.CVSecurityRecall)
	assert.Equal(t, 0.5, m.SecurityThreshold, "the most probable verdict already finds every security report")
}

func TestPredictionIsConsistent(t *testing.T) {
	for _, algo := range algos {
		t.Run(algo, func(t *testing.T) { testPredictionIsConsistent(t, algo) })
	}
}

func testPredictionIsConsistent(t *testing.T, algo string) {
	m, eng := trainHandWith(t, algo)
	r := handReport(1, 9)
	ev := eng.Evaluate(r)
	p := m.Predict(r, &ev)
	require.Len(t, p.Categories, len(m.Classes))
	require.Len(t, p.Verdicts, 3)
	sum := 0.0
	for i, c := range p.Categories {
		sum += c.Prob
		if i > 0 {
			assert.GreaterOrEqual(t, p.Categories[i-1].Prob, c.Prob, "categories are ranked")
		}
	}
	assert.InDelta(t, 1, sum, 1e-3)
	assert.Equal(t, p.Verdict, p.Verdicts[0].Verdict)
	assert.Equal(t, p.Confidence, p.Verdicts[0].Prob)
	require.NoError(t, threatmodel.Kernel().Check(threatmodel.Verdict(p.Verdict), p.Category))
	for i := 1; i < len(p.Evidence); i++ {
		assert.GreaterOrEqual(t, p.Evidence[i-1].Weight, p.Evidence[i].Weight)
	}
	assert.LessOrEqual(t, len(p.Evidence), MaxEvidence)
}

func TestSaveLoadRoundTripsByteForByte(t *testing.T) {
	for _, algo := range algos {
		t.Run(algo, func(t *testing.T) {
			m, eng := trainHandWith(t, algo)
			first := saved(t, m)
			loaded, err := LoadModel(bytes.NewReader(first))
			require.NoError(t, err)
			assert.Equal(t, string(first), string(saved(t, loaded)))
			assert.Equal(t, m.Name(), loaded.Name())

			for k := range kinds {
				r := handReport(k, 11)
				ev := eng.Evaluate(r)
				assert.Equal(t, m.Predict(r, &ev), loaded.Predict(r, &ev))
			}
		})
	}
}

func TestTrainingIsDeterministic(t *testing.T) {
	eng := kernelEngine(t)
	for _, algo := range algos {
		t.Run(algo, func(t *testing.T) {
			opt := TrainOptions{Algo: algo}
			a, err := Train(handExamples(6, 0), eng, opt)
			require.NoError(t, err)
			b, err := Train(handExamples(6, 0), eng, opt)
			require.NoError(t, err)
			assert.Equal(t, string(saved(t, a)), string(saved(t, b)))

			// The order of the examples does not matter.
			shuffled := handExamples(6, 0)
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			d, err := Train(shuffled, eng, opt)
			require.NoError(t, err)
			assert.Equal(t, string(saved(t, a)), string(saved(t, d)))

			// Nor does the number of threads fitting the folds.
			prev := runtime.GOMAXPROCS(1)
			one, err := Train(handExamples(6, 0), eng, opt)
			runtime.GOMAXPROCS(prev)
			require.NoError(t, err)
			assert.Equal(t, string(saved(t, a)), string(saved(t, one)))

			// Another seed gives other calibration folds, and other data
			// another model and fingerprint.
			c, err := Train(handExamples(6, 1), eng, opt)
			require.NoError(t, err)
			assert.NotEqual(t, a.Fingerprint, c.Fingerprint)
			assert.NotEqual(t, string(saved(t, a)), string(saved(t, c)))
		})
	}
}

func TestTrainRejectsBadInput(t *testing.T) {
	eng := kernelEngine(t)
	ok := handExamples(1, 0)
	cases := map[string]struct {
		ex   []Example
		eng  *rules.Engine
		want string
	}{
		"empty":            {nil, eng, "no examples"},
		"unknown algo":     {ok, eng, `unknown algorithm "svm"`},
		"no engine":        {ok, nil, "no rules engine"},
		"no report":        {append(slices.Clone(ok), Example{Label: threatmodel.Label{Verdict: "security", Category: "isolation.data"}}), eng, "example 4 has no report"},
		"unknown category": {append(slices.Clone(ok), Example{Report: handReport(0, 1), Label: threatmodel.Label{Verdict: "security", Category: "isolation.telepathy"}}), eng, `unknown category "isolation.telepathy"`},
		"unknown verdict":  {append(slices.Clone(ok), Example{Report: handReport(0, 1), Label: threatmodel.Label{Verdict: "maybe", Category: "isolation.data"}}), eng, `unknown verdict "maybe"`},
		"mismatched pair":  {append(slices.Clone(ok), Example{Report: handReport(0, 1), Label: threatmodel.Label{Verdict: "invalid", Category: "isolation.data"}}), eng, "belongs to verdict"},
		"count overflow":   {ok, eng, "overflow the model's counts"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			opt := TrainOptions{}
			switch name {
			case "unknown algo":
				opt.Algo = "svm"
			case "count overflow":
				opt.RuleWeight = math.MaxInt32
			}
			m, err := Train(c.ex, c.eng, opt)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestTrainUsesTheGivenThreatModel(t *testing.T) {
	tm, err := threatmodel.New("tiny", "test", []threatmodel.Clause{
		{ID: "bad.thing", Verdict: threatmodel.Security, Title: "a bad thing"},
		{ID: "fine.thing", Verdict: threatmodel.NotSecurity, Title: "a fine thing"},
	})
	require.NoError(t, err)
	ex := []Example{{Report: handReport(0, 0), Label: threatmodel.Label{Verdict: "security", Category: "bad.thing"}}}
	m, err := Train(ex, kernelEngine(t), TrainOptions{ThreatModel: tm})
	require.NoError(t, err)
	assert.Equal(t, "tiny", m.ThreatModel)
	assert.Equal(t, "a bad thing", m.Classes[0].Title)
	// The kernel's categories are not this model's.
	_, err = Train([]Example{{Report: handReport(0, 0), Label: threatmodel.Label{Verdict: "security", Category: "isolation.data"}}}, kernelEngine(t), TrainOptions{ThreatModel: tm})
	require.Error(t, err)
}

func TestOverlap(t *testing.T) {
	m, _ := trainHand(t)
	train := handExamples(6, 0)
	var seen []string
	for _, e := range train {
		seen = append(seen, ReportHash(e.Report))
	}
	assert.Equal(t, len(train), m.Overlap(seen))
	assert.Positive(t, m.Overlap(seen[:1]))
	assert.Equal(t, 1, m.Overlap([]string{strings.ToUpper(seen[3])}), "hashes compare case-insensitively")

	var unseen []string
	for _, e := range handExamples(3, 20) {
		unseen = append(unseen, ReportHash(e.Report))
	}
	assert.Zero(t, m.Overlap(unseen))
	assert.Zero(t, m.Overlap(unseen))
	assert.Equal(t, 2, m.Overlap(append(unseen, seen[0], seen[5])))
}

func TestReportHashIsTheNormalisedBody(t *testing.T) {
	r := handReport(0, 0)
	derived := ReportHash(r)
	assert.Len(t, derived, 64)
	same := handReport(0, 0)
	same.ID, same.Subject, same.Hash, same.From = "another id", "Re: another subject", "abcdef", "someone@example.org"
	same.Body = "  " + strings.ToUpper(strings.ReplaceAll(r.Body, "\n", "\r\n\t")) + "\n\n"
	assert.Equal(t, derived, ReportHash(same), "headers, subject, case and white space do not count")
	same.Body += "x"
	assert.NotEqual(t, derived, ReportHash(same), "the words do")
	att := handReport(0, 0)
	att.Attachments = []intake.Attachment{{Name: "poc.c", Text: "int main(void) { return 0; }"}}
	assert.NotEqual(t, derived, ReportHash(att), "text attachments count")

	// A report with no body is known by its subject.
	a := &intake.Report{Subject: "crash in foo"}
	b := &intake.Report{Subject: "crash in bar"}
	assert.NotEqual(t, ReportHash(a), ReportHash(b))
	assert.Equal(t, ReportHash(a), ReportHash(&intake.Report{Subject: "CRASH  in foo"}))
}

func TestLoadModelRejectsDamage(t *testing.T) {
	type damage struct {
		edit func(map[string]any)
		want string
	}
	common := map[string]damage{
		"future format":  {func(d map[string]any) { d["format"] = 99 }, "format version 99"},
		"unknown field":  {func(d map[string]any) { d["extra"] = true }, "unknown field"},
		"unknown kind":   {func(d map[string]any) { d["kind"] = "svm" }, `kind "svm"`},
		"no classes":     {func(d map[string]any) { d["classes"] = []any{} }, "no classes"},
		"bad temp":       {func(d map[string]any) { d["temperature"] = 0 }, "temperature"},
		"bad threshold":  {func(d map[string]any) { d["security_threshold"] = 0.7 }, "security threshold 0.7"},
		"tampered hash":  {func(d map[string]any) { d["reports"].([]any)[0] = strings.Repeat("0", 64) }, "fingerprint"},
		"unsorted vocab": {func(d map[string]any) { v := d["vocabulary"].([]any); v[0], v[1] = v[1], v[0] }, "vocabulary"},
		"bad options":    {func(d map[string]any) { d["options"].(map[string]any)["folds"] = 1 }, "calibration folds"},
	}
	specific := map[string]map[string]damage{
		AlgoNaiveBayes: {
			"count out of range": {func(d map[string]any) {
				cl := d["classes"].([]any)[0].(map[string]any)
				counts := cl["counts"].([]any)
				counts[len(counts)-1] = []any{1e6, 1}
			}, "bad count"},
			"wrong total": {func(d map[string]any) {
				d["classes"].([]any)[0].(map[string]any)["total"] = 1
			}, "total 1"},
			"weights too": {func(d map[string]any) { d["lambda"] = 0.1 }, "holds logistic regression weights"},
			"other algo":  {func(d map[string]any) { d["kind"] = KindLogReg }, "trained with algorithm"},
		},
		AlgoLogReg: {
			"short row": {func(d map[string]any) {
				rows := d["verdict_weights"].([]any)
				rows[0] = rows[0].([]any)[1:]
			}, "verdict weights: row 0 has"},
			"missing row": {func(d map[string]any) {
				rows := d["category_weights"].([]any)
				d["category_weights"] = rows[1:]
			}, "category weights:"},
			"bad idf":     {func(d map[string]any) { d["idf"].([]any)[0] = 0.5 }, "below 1"},
			"no lambda":   {func(d map[string]any) { delete(d, "lambda") }, "lambda 0 is not positive"},
			"no verdicts": {func(d map[string]any) { delete(d, "verdicts") }, "without verdicts"},
			"unknown verdict": {func(d map[string]any) {
				d["verdicts"].([]any)[0] = "maybe"
			}, "not among the model's verdicts"},
			"counts too": {func(d map[string]any) {
				d["classes"].([]any)[0].(map[string]any)["total"] = 3
			}, "holds counts"},
		},
	}
	for _, algo := range algos {
		m, _ := trainHandWith(t, algo)
		good := string(saved(t, m))
		cases := map[string]damage{}
		for name, c := range common {
			cases[name] = c
		}
		for name, c := range specific[algo] {
			cases[name] = c
		}
		for name, c := range cases {
			t.Run(algo+"/"+name, func(t *testing.T) {
				var d map[string]any
				require.NoError(t, json.Unmarshal([]byte(good), &d))
				c.edit(d)
				data, err := json.Marshal(d)
				require.NoError(t, err)
				_, err = LoadModel(bytes.NewReader(data))
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.want)
				assert.True(t, strings.HasPrefix(err.Error(), "load baseline model: "), err.Error())
			})
		}
	}
	_, err := LoadModel(strings.NewReader("{"))
	require.ErrorContains(t, err, "unexpected EOF")
}

func TestLoadModelFile(t *testing.T) {
	m, _ := trainHand(t)
	path := t.TempDir() + "/model.json"
	require.NoError(t, writeFile(path, saved(t, m)))
	got, err := LoadModelFile(path)
	require.NoError(t, err)
	assert.Equal(t, m.Fingerprint, got.Fingerprint)

	_, err = LoadModelFile(t.TempDir() + "/absent.json")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "absent.json")
}

func TestClassifierAnswersParse(t *testing.T) {
	for _, algo := range algos {
		t.Run(algo, func(t *testing.T) { testClassifierAnswersParse(t, algo) })
	}
}

// The classifier's answers are what a language model's must be: results
// show them in the same place, so they pass the same validation.
func testClassifierAnswersParse(t *testing.T, algo string) {
	m, eng := trainHandWith(t, algo)
	b := NewClassifier(m, eng)
	want := map[string]string{AlgoLogReg: "logreg@", AlgoNaiveBayes: "naive-bayes@"}[algo]
	assert.Equal(t, screener.Description{Name: "baseline", Model: want + m.Fingerprint[:12]}, b.Describe())
	tm := threatmodel.Kernel()
	for k := range kinds {
		r := handReport(k, 13)
		c, err := b.Classify(context.Background(), r, nil)
		require.NoError(t, err)
		data, err := json.Marshal(c.Answer)
		require.NoError(t, err)
		a, err := prompts.ParseAnswer(string(data), tm)
		require.NoError(t, err, string(data))
		assert.Equal(t, c.Answer, a)
		assert.Empty(t, c.Prompt, "the baseline reads no prompt")
		assert.Equal(t, kinds[k].category, a.Category)
		assert.Equal(t, []string{a.Category}, a.CitedClauses)
		assert.NotEmpty(t, a.Rationale)
		assert.Contains(t, a.Rationale, "Strongest evidence")
		ev := eng.Evaluate(r)
		assert.Equal(t, ev.Missing, a.MissingInformation)
		if a.Verdict == "security" {
			assert.True(t, strings.HasPrefix(a.BoundaryCrossed, a.Category), a.BoundaryCrossed)
		} else {
			assert.Equal(t, "none", a.BoundaryCrossed)
		}
		if len(ev.Facts.Privileges) > 0 {
			assert.Equal(t, strings.Join(ev.Facts.Privileges, ", "), a.AttackerPrivileges)
		}
		u := c.Usage
		assert.Equal(t, "baseline", u.Backend)
		assert.Equal(t, b.Describe().Model, u.Model)
		assert.Zero(t, u.PromptTokens)
		assert.Zero(t, u.CompletionTokens)
		assert.Equal(t, 1, u.Attempts)
		assert.False(t, u.Cached)
		assert.Empty(t, u.SentTo, "the report stays on this machine")
	}
}

func TestClassifierListsAISigns(t *testing.T) {
	m, eng := trainHand(t)
	r := &intake.Report{ID: "ai", Subject: "Critical vulnerability", Body: "## 🚨 Summary\n\n" +
		"**Severity:** Critical (CVSS 9.8, CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H)\n\n" +
		"Our AI-powered static analysis tool found a potential buffer overflow in foo_ioctl().\n" +
		"## Impact\n\nThis could potentially allow attackers to execute arbitrary code.\n"}
	ev := eng.Evaluate(r)
	var aiFired []string
	ai := map[string]bool{}
	for _, rl := range eng.Rules() {
		ai[rl.ID] = rl.Signal == rules.SignalAIStyle
	}
	for _, f := range ev.Findings {
		if ai[f.RuleID] {
			aiFired = append(aiFired, f.RuleID)
		}
	}
	require.NotEmpty(t, aiFired, "the sample should fire AI-style rules")
	c, err := NewClassifier(m, eng).Classify(context.Background(), r, &ev)
	require.NoError(t, err)
	assert.Len(t, c.AIGeneratedSigns, len(aiFired))
}

func TestClassifierNeedsAReport(t *testing.T) {
	m, eng := trainHand(t)
	_, err := NewClassifier(m, eng).Classify(context.Background(), nil, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no report")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = NewClassifier(m, eng).Classify(ctx, handReport(0, 0), nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestTokens(t *testing.T) {
	got := slices.Collect(tokens("KASAN: slab-use-after-free in foo_bar+0x1f/0x80 at ffff888012345600, CONFIG_KASAN=y; 6.12.3 a I é über"))
	assert.Equal(t, []string{"kasan", "slab", "use", "after", "free", "in", "foo_bar", "at", "config_kasan", "über"}, got)
	long := strings.Repeat("x", maxTokenLength+1)
	assert.Empty(t, slices.Collect(tokens(long)))
}

func TestExtractCapsTextFeatures(t *testing.T) {
	r := &intake.Report{Subject: "alpha beta", Body: "gamma delta epsilon zeta eta theta"}
	feats := extract(r, nil, 5, 2, 0)
	var names []string
	for _, f := range feats {
		names = append(names, f.name)
		assert.Equal(t, 1, f.weight)
	}
	assert.Equal(t, []string{"alpha", "beta", "alpha beta", "gamma", "delta"}, names)

	eng := kernelEngine(t)
	ev := eng.Evaluate(handReport(0, 0))
	feats = extract(handReport(0, 0), &ev, 3, 2, 0)
	var rulesSeen int
	for _, f := range feats {
		if isRuleFeature(f.name) {
			rulesSeen++
			assert.Equal(t, 2, f.weight, f.name)
		}
	}
	assert.Equal(t, len(feats)-3, rulesSeen, "rule features are not capped")
	assert.Contains(t, slices.Collect(func(yield func(string) bool) {
		for _, f := range feats {
			yield(f.name)
		}
	}), "fact:reproducer")
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

// When the caller already ran the rules, Classify uses that evaluation
// instead of running them again.
func TestClassifyUsesTheCallersRuleEvaluation(t *testing.T) {
	m := Embedded()
	eng := kernelEngine(t)
	r := &intake.Report{ID: "r1", Subject: "oops", Body: "Writing to /dev/mem as root oopses 6.12.3."}
	ev := eng.Evaluate(r)
	ev.Missing = []string{"marker-from-caller"}
	c, err := NewClassifier(m, eng).Classify(context.Background(), r, &ev)
	require.NoError(t, err)
	assert.Equal(t, []string{"marker-from-caller"}, c.MissingInformation)

	c, err = NewClassifier(m, eng).Classify(context.Background(), r, nil)
	require.NoError(t, err)
	assert.NotContains(t, c.MissingInformation, "marker-from-caller", "without one, the rules run here")
}

// Character n-grams: framed words, shared by words of one stem, capped
// like the words, never mistaken for rule features or words.
func TestExtractCharGrams(t *testing.T) {
	assert.Equal(t, []string{"<pri", "priv", "riv>"}, slices.Collect(charGrams("priv", 4)))
	assert.Equal(t, []string{"<ab", "abc", "bc>"}, slices.Collect(charGrams("abc", 3)))
	assert.Equal(t, []string{"<éc", "écu", "cu>"}, slices.Collect(charGrams("écu", 3)))
	assert.Empty(t, slices.Collect(charGrams("ab", 4)), "the framed word would be the whole gram: the word says it")
	assert.Empty(t, slices.Collect(charGrams("éa", 4)))

	r := &intake.Report{Body: "privileged unprivileged"}
	names := func(fs []feature) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.name)
		}
		return out
	}
	words := names(extract(r, nil, 100, 2, 0))
	assert.Equal(t, []string{"privileged", "unprivileged", "privileged unprivileged"}, words)
	got := names(extract(r, nil, 100, 2, 4))
	assert.Equal(t, words, got[:3], "words first")
	grams := got[3:]
	assert.Contains(t, grams, "ileg")
	assert.Contains(t, grams, "ged>")
	assert.Contains(t, grams, "<unp")
	for _, g := range grams {
		assert.False(t, isRuleFeature(g), g)
		assert.Len(t, []rune(g), 4, g)
	}
	// "privileged" and "unprivileged" share their inner grams: each once.
	assert.Len(t, grams, len(slices.Compact(slices.Sorted(slices.Values(grams)))))
	assert.Len(t, names(extract(r, nil, 2, 2, 4)), 4, "at most maxText grams beside at most maxText words")
}
