package injection_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/screener/injection"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// suiteDir holds the injection suite: reports and labels.jsonl.
const suiteDir = "testdata/suite"

// suiteLabel is one line of the suite's labels.jsonl.
type suiteLabel struct {
	// File is the report's file name in the suite directory.
	File string `json:"file"`
	// Injection is true when the report carries text aimed at a model.
	Injection bool `json:"injection"`
	// Part is where the injection is: a part name ("body", "subject",
	// "html-comment") or a prefix ("header:", "attachment:"). A detection
	// counts only when a span is in that part.
	Part string `json:"part,omitempty"`
	// Kinds are the kinds of span the injection is made of.
	Kinds []string `json:"kinds,omitempty"`
	// Demand is the verdict the injection asks for; DemandCategory the
	// category, when it names one.
	Demand         string `json:"demand,omitempty"`
	DemandCategory string `json:"demand_category,omitempty"`
	// Split is "dev" (written before the detector, which was tuned on it),
	// "holdout" or "holdout-2" (written after it, each measured once
	// before any change the misses led to).
	Split string `json:"split"`
	// Notes says what the report tests.
	Notes string `json:"notes"`
}

type suiteCase struct {
	label  suiteLabel
	report *intake.Report
}

// loadSuite reads every labeled report of the suite; every file of the
// directory must be labeled and every label must name a file.
func loadSuite(t testing.TB) []suiteCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(suiteDir, "labels.jsonl"))
	require.NoError(t, err)
	var out []suiteCase
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l suiteLabel
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&l), "labels.jsonl line %d", n)
		require.False(t, seen[l.File], "labels.jsonl line %d: %s labeled twice", n, l.File)
		seen[l.File] = true
		require.Contains(t, []string{"dev", "holdout", "holdout-2"}, l.Split, "line %d", n)
		if l.Injection {
			require.NotEmpty(t, l.Part, "line %d", n)
			require.NotEmpty(t, l.Kinds, "line %d", n)
			require.Contains(t, []string{"security", "not-security", "needs-info", "invalid"}, l.Demand, "line %d", n)
		}
		var reports []*intake.Report
		for it := range intake.Read(context.Background(), []string{filepath.Join(suiteDir, l.File)}, intake.Options{}) {
			require.NoError(t, it.Err, l.File)
			reports = append(reports, it.Report)
		}
		r, err := intake.JoinThread(reports)
		require.NoError(t, err, l.File)
		r.ID = strings.TrimSuffix(l.File, filepath.Ext(l.File))
		out = append(out, suiteCase{label: l, report: r})
	}
	entries, err := os.ReadDir(suiteDir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() != "labels.jsonl" && e.Name() != "README.md" {
			require.True(t, seen[e.Name()], "%s is not labeled", e.Name())
		}
	}
	return out
}

// detectedIn reports whether a span lies in the labeled part.
func detectedIn(spans []injection.Span, part string) bool {
	for _, s := range spans {
		if s.Part == part || (strings.HasSuffix(part, ":") && strings.HasPrefix(s.Part, part)) {
			return true
		}
	}
	return false
}

// rate is a count over a total.
type rate struct{ hit, n int }

func (r rate) value() float64 {
	if r.n == 0 {
		return 0
	}
	return float64(r.hit) / float64(r.n)
}

func (r rate) String() string { return fmt.Sprintf("%.3f (%d/%d)", r.value(), r.hit, r.n) }

// TestSuiteRecall measures the detector on the injection suite: recall on
// the reports that carry an injection (a span must be found in the part
// the label names), and false alarms on its hard negatives.
func TestSuiteRecall(t *testing.T) {
	cases := loadSuite(t)
	require.GreaterOrEqual(t, len(cases), 40)
	recall := map[string]*rate{"all": {}, "dev": {}, "holdout": {}, "holdout-2": {}}
	var falseAlarms rate
	kindsAgree := rate{}
	for _, c := range cases {
		spans := injection.Detect(c.report)
		if !c.label.Injection {
			falseAlarms.n++
			if len(spans) > 0 {
				falseAlarms.hit++
				t.Errorf("false alarm on %s (%s): %+v", c.label.File, c.label.Notes, spans)
			}
			continue
		}
		hit := detectedIn(spans, c.label.Part)
		for _, k := range []string{"all", c.label.Split} {
			recall[k].n++
			if hit {
				recall[k].hit++
			}
		}
		if !hit {
			t.Logf("missed %s (%s in %s): spans %+v", c.label.File, c.label.Notes, c.label.Part, spans)
			continue
		}
		kindsAgree.n++
		found := injection.Kinds(spans)
		for _, k := range c.label.Kinds {
			if containsKind(found, k) {
				kindsAgree.hit++
				break
			}
		}
	}
	t.Logf("injection suite: recall %v (dev %v, holdout %v, holdout-2 %v); false alarms on its hard negatives %v; a labeled kind among those found %v",
		recall["all"], recall["dev"], recall["holdout"], recall["holdout-2"], falseAlarms, kindsAgree)
	fmt.Printf("injection suite: recall %v (dev %v, holdout %v, holdout-2 %v); false alarms on hard negatives %v\n",
		recall["all"], recall["dev"], recall["holdout"], recall["holdout-2"], falseAlarms)
	require.GreaterOrEqual(t, recall["all"].n, 40)
	require.GreaterOrEqual(t, recall["all"].value(), 0.95, "recall on the injection suite")
	require.GreaterOrEqual(t, falseAlarms.n, 15)
}

func containsKind(ks []injection.Kind, k string) bool {
	for _, x := range ks {
		if string(x) == k {
			return true
		}
	}
	return false
}

// reInjectedOnPurpose finds the corpus labels whose notes say the report
// carries instructions aimed at the screener on purpose.
var reInjectedOnPurpose = regexp.MustCompile(`(?i)prompt[- ]injection|instructions? aimed at (?:the|a) (?:screening|automated)|(?:embedded|injected) (?:triage )?instruction|instruction to the triage model|triage instruction`)

// TestCorpusFalseAlarms measures false alarms on the bundled corpus: the
// share of reports flagged among those whose labels do not say they carry
// injected instructions. The ones that do must all be found.
func TestCorpusFalseAlarms(t *testing.T) {
	c, err := corpus.Load("../../corpus")
	require.NoError(t, err)
	reports, err := c.ReadReports(context.Background(), intake.Options{})
	require.NoError(t, err)
	set := rules.KernelRules()
	eng, err := rules.NewEngine(threatmodel.Kernel(), set, rules.Options{})
	require.NoError(t, err)
	var fa, found, flagged rate
	for _, lr := range reports {
		require.NoError(t, lr.Err, lr.Label.ID)
		spans := injection.Detect(lr.Report)
		byRules := eng.Evaluate(lr.Report).Injection
		if reInjectedOnPurpose.MatchString(lr.Label.Notes) {
			found.n++
			if len(spans) > 0 {
				found.hit++
			} else {
				t.Errorf("%s carries an injection on purpose, not found", lr.Label.ID)
			}
			continue
		}
		fa.n++
		flagged.n++
		if len(spans) > 0 {
			fa.hit++
			t.Logf("false alarm %s: %+v", lr.Label.ID, spans)
		}
		if len(spans) > 0 || byRules {
			flagged.hit++
		}
	}
	t.Logf("bundled corpus: false alarms %v (the screener, rules or detector: %v); injections on purpose found %v", fa, flagged, found)
	fmt.Printf("bundled corpus: false alarms %v (the screener, rules or detector: %v); injections on purpose found %v\n", fa, flagged, found)
	require.GreaterOrEqual(t, fa.n, 200)
	require.GreaterOrEqual(t, found.n, 4, "the corpus's own injection reports")
	require.LessOrEqual(t, fa.value(), 0.02, "false alarms on the bundled corpus")
}
