package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/injection"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/sourcetree"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

const evil = "<script>alert(1)</script> | *bold* =HYPERLINK(\"x\") \x1b[31mred\x1b[0m\nnext"

func sample() ([]screener.Result, screener.Summary) {
	msg := "binary file: not a report"
	rs := []screener.Result{
		{
			ID: "a@example.org", Source: "inbox.mbox:1", Subject: evil,
			Label: threatmodel.Label{Verdict: "not-security", Category: "privilege.root"}, Confidence: 0.8,
			Route: "public", Missing: []string{"version"}, Backend: "rules", Decision: screener.DecisionRulesOnly, SentTo: "not sent",
			Rules: []rules.Finding{{RuleID: "ROOT_ONLY", Category: "privilege.root", Weight: 3,
				Span: rules.Span{Part: "body", Line: 2, Column: 5}, Excerpt: evil}},
			RulesVerdict: screener.Opinion{Label: threatmodel.Label{Verdict: "not-security", Category: "privilege.root"}, Confidence: 0.8},
			NeedsReview:  true, ReviewReason: "report contains instructions aimed at a screening model",
		},
		{ID: "junk.bin", Source: "junk.bin", Backend: "rules", Decision: screener.DecisionInputError, Error: &msg},
	}
	return rs, screener.Summary{Backend: "rules", Inputs: 2, Results: 1, Errors: 1, NeedsReview: 1, ByVerdict: map[threatmodel.Verdict]int{threatmodel.NotSecurity: 1}}
}

func render(t *testing.T, f Format) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := New(f, &buf, Options{Verbose: true, Width: 100})
	require.NoError(t, err)
	rs, sum := sample()
	for _, r := range rs {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close(sum))
	return buf.String()
}

func TestEveryFormatHasEveryRow(t *testing.T) {
	for _, f := range Formats {
		out := render(t, f)
		assert.Contains(t, out, "a@example.org", f)
		assert.Contains(t, out, "junk.bin", f)
		assert.Contains(t, out, "binary file: not a report", f)
	}
}

func TestJSONIsParseableWithNullError(t *testing.T) {
	var doc struct {
		Summary screener.Summary
		Results []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(render(t, JSON)), &doc))
	require.Len(t, doc.Results, 2)
	assert.Nil(t, doc.Results[0]["error"])
	assert.Equal(t, "binary file: not a report", doc.Results[1]["error"])
	for _, key := range []string{"id", "source", "subject", "verdict", "category", "confidence", "route", "missing", "rules", "error"} {
		assert.Contains(t, doc.Results[0], key)
	}
	assert.Equal(t, 2, doc.Summary.Inputs)
}

func TestJSONLOneObjectPerLine(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(render(t, JSONL)), "\n")
	require.Len(t, lines, 2)
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
	}
}

func TestCSVQuotesAndDefusesFormulas(t *testing.T) {
	recs, err := csv.NewReader(strings.NewReader(render(t, CSV))).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 3)
	assert.Equal(t, csvHeader, recs[0])
	assert.Equal(t, "ROOT_ONLY", recs[1][8])
	assert.Equal(t, "binary file: not a report", recs[2][slices.Index(csvHeader, "error")])
	assert.NotEmpty(t, recs[1][slices.Index(csvHeader, "decision")], "the decision step is a column")
	assert.Equal(t, "'=x", csvSafe("=x"))
	assert.Equal(t, "'@SUM(A1)", csvSafe("@SUM(A1)"))
}

func TestHTMLEscapesReportText(t *testing.T) {
	out := render(t, HTML)
	assert.NotContains(t, out, "<script>alert(1)")
	assert.Contains(t, out, "&lt;script&gt;alert(1)&lt;/script&gt;")
	assert.NotContains(t, out, "\x1b")
	assert.NotContains(t, out, "http://", "self-contained: no external assets")
	assert.NotContains(t, out, "https://")
}

func TestMarkdownKeepsReportTextInert(t *testing.T) {
	out := render(t, Markdown)
	assert.NotContains(t, out, "<script>")
	assert.Contains(t, out, `&lt;script&gt;`)
	assert.Contains(t, out, `\|`, "a pipe cannot break the table")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| a@example.org") {
			assert.Equal(t, 8, strings.Count(line, "|")-strings.Count(line, `\|`), "one row, seven cells")
		}
	}
}

func TestTextStripsTerminalEscapes(t *testing.T) {
	out := render(t, Text)
	assert.NotContains(t, out, "\x1b")
	assert.Contains(t, out, "ERROR")
	assert.Contains(t, out, "rule ROOT_ONLY")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "    ") {
			assert.LessOrEqual(t, len([]rune(l)), 100, "rows fit the width: %q", l)
		}
	}
}

func TestEmptyRun(t *testing.T) {
	for _, f := range Formats {
		var buf bytes.Buffer
		w, err := New(f, &buf, Options{})
		require.NoError(t, err)
		require.NoError(t, w.Close(screener.Summary{Backend: "rules"}))
		if f != JSONL { // zero results are zero lines
			assert.NotEmpty(t, buf.String(), f)
		}
	}
	var doc map[string]any
	var buf bytes.Buffer
	w, _ := New(JSON, &buf, Options{})
	require.NoError(t, w.Close(screener.Summary{}))
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	assert.Equal(t, []any{}, doc["results"])
}

func TestParseFormat(t *testing.T) {
	f, err := ParseFormat("JSONL")
	require.NoError(t, err)
	assert.Equal(t, JSONL, f)
	_, err = ParseFormat("xml")
	assert.ErrorContains(t, err, "text, json, jsonl, csv, md, html")
}

func TestClean(t *testing.T) {
	assert.Equal(t, "a b c", Clean("a\x1b[2J\tb\r\n\n c"))
	assert.Equal(t, "red x", Clean("\x1b[31mred\x1b[0m\x07x"))
}

func TestDevNullIsNotATerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, IsTerminal(f), "/dev/null is a character device, not a terminal")
	assert.Equal(t, 77, TerminalWidth(f, 77))
	t.Setenv("COLUMNS", "40")
	assert.Equal(t, 77, TerminalWidth(f, 77), "not a terminal: the default width, whatever $COLUMNS says")
	var b strings.Builder
	assert.False(t, IsTerminal(&b), "not a file")
	assert.Equal(t, 77, TerminalWidth(&b, 77))
}

func TestFormatForFile(t *testing.T) {
	for name, want := range map[string]Format{
		"out.html": HTML, "OUT.HTM": HTML, "r.json": JSON, "r.jsonl": JSONL, "r.ndjson": JSONL,
		"r.csv": CSV, "r.md": Markdown, "r.txt": Text, "results": Text, "r.log": Text,
	} {
		assert.Equal(t, want, FormatForFile(name, Text), name)
	}
}

func TestTextRowsNameTheirInputShortly(t *testing.T) {
	assert.Equal(t, "inbox.mbox:12", Handle(screener.Result{ID: "<long-message-id@example.org>", Source: "/var/mail/inbox.mbox:12"}))
	assert.Equal(t, "sha256:abcd", Handle(screener.Result{ID: "sha256:abcd", Source: "-"}))
	out := render(t, Text)
	assert.Contains(t, out, "inbox.mbox:1")
	assert.Contains(t, out, "source: inbox.mbox:1  id: a@example.org", "-v shows the source and the id")
}

func TestProgressDrawsOnlyWhenEnabled(t *testing.T) {
	var quiet bytes.Buffer
	p := NewProgress(&quiet, false, 10)
	p.Update(screener.Summary{Inputs: 3})
	p.Done()
	assert.Empty(t, quiet.String(), "a piped or --quiet run draws nothing")

	var tty bytes.Buffer
	p = NewProgress(&tty, true, 10)
	p.Update(screener.Summary{Inputs: 3, Errors: 1, ModelCalls: 2, CacheHits: 1})
	out := tty.String()
	assert.Regexp(t, `30% \|[^|]*\| \(3/10, [0-9.]+ reports/s\) \[[0-9smh]+:[0-9smh]+\]`, out, "done/total, rate, elapsed:left")
	assert.Contains(t, out, "1 errors")
	assert.Contains(t, out, "2 model calls (1 cached, 0 failed)")
	p.Done()

	var spin bytes.Buffer
	p = NewProgress(&spin, true, -1)
	p.Update(screener.Summary{Inputs: 7})
	assert.Regexp(t, `\(7/-, [0-9.]+ reports/s\)`, spin.String(), "an unknown total still counts, with the rate")

	// The total arrives later (counted while the run goes on); replies
	// folded into a row are messages done too.
	spin.Reset()
	p.SetTotal(20)
	time.Sleep(110 * time.Millisecond) // Update draws at most ten times a second
	p.Update(screener.Summary{Inputs: 8, Replies: 2})
	assert.Regexp(t, `50% \|[^|]*\| \(10/20, [0-9.]+ reports/s\) \[[0-9smh]+:[0-9smh]+\]`, spin.String())
	spin.Reset()
	time.Sleep(110 * time.Millisecond)
	p.Update(screener.Summary{Inputs: 25})
	assert.Contains(t, spin.String(), "(25/-,", "a short count was wrong: the total is unknown again")
	p.Done()
	spin.Reset()
	p.SetTotal(30)
	p.Update(screener.Summary{Inputs: 26})
	assert.Empty(t, spin.String(), "nothing is drawn after Done")
}

func TestHighlightMarksOverlappingSpans(t *testing.T) {
	f := func(id string, start, end int) rules.Finding {
		return rules.Finding{RuleID: id, Span: rules.Span{Part: "body", Start: start, End: end}}
	}
	p := highlight("body", "0123456789", []rules.Finding{f("a", 2, 6), f("b", 4, 8), f("c", 1, 3)})
	var got []string
	for _, s := range p.Segments {
		got = append(got, s.Text+"="+s.Rules)
	}
	assert.Equal(t, []string{"0=", "1=c", "2=a, c", "3=a", "45=a, b", "67=b", "89="}, got)
	other := highlight("subject", "xyz", []rules.Finding{f("a", 0, 2)})
	assert.Equal(t, []segment{{Text: "xyz"}}, other.Segments, "spans of another part do not mark this one")

	long := strings.Repeat("é", maxPageText)
	cut := highlight("body", long, []rules.Finding{f("a", maxPageText+10, maxPageText+20)})
	assert.True(t, cut.Truncated)
	assert.True(t, utf8.ValidString(cut.Segments[0].Text), "cut on a character boundary")
}

func TestTriagePageHasAStrictPolicyAndNoExternalAsset(t *testing.T) {
	out := render(t, HTML)
	assert.Contains(t, out, `http-equiv="Content-Security-Policy"`)
	assert.Contains(t, out, "default-src &#39;none&#39;")
	assert.Contains(t, html.UnescapeString(out), cspHash(triageJS))
	assert.NotContains(t, out, "unsafe-inline")
	assert.NotContains(t, out, " src=")
	assert.NotRegexp(t, ` href="[^#]`, out, "links only within the page")
	assert.Equal(t, 1, strings.Count(out, "<script"), "one script: the page's own")
}

func TestVerboseTextNamesMissingCitedCode(t *testing.T) {
	var buf bytes.Buffer
	w, err := New(Text, &buf, Options{Verbose: true})
	require.NoError(t, err)
	cited := []sourcetree.Citation{{Kind: sourcetree.KindFunction, Name: "tcp_frob"}, {Kind: sourcetree.KindFile, Name: "net/x.c", Found: true}}
	require.NoError(t, w.Write(screener.Result{ID: "a", Source: "a.eml", Label: threatmodel.Label{Verdict: "invalid", Category: "invalid.nonexistent"},
		SourceCheck: &sourcetree.Check{At: []string{"v6.8 (0123456789ab)"}, Cited: cited, Missing: cited[:1]}}))
	require.NoError(t, w.Close(screener.Summary{}))
	assert.Contains(t, buf.String(), "    source tree: 2 cited, missing: tcp_frob() (v6.8 (0123456789ab))\n")
}

// The JSONL writer writes Result.MarshalJSON's bytes as they are: the same
// bytes as json.Encoder, which compacts them once more, on rows with text
// that JSON escapes (HTML characters, U+2028, control and invalid bytes)
// and every kind of nested value.
func TestJSONLIsWhatEncoderWrites(t *testing.T) {
	rs, _ := sample()
	odd := evil + " & \u2028\u2029 \xff\xfe \t\"quoted\" \\ é 日本"
	seen := time.Date(2026, 1, 5, 8, 3, 39, 123, time.FixedZone("", 3600))
	msg := "model: server down"
	rs = append(rs,
		screener.Result{ID: odd, Source: odd, Subject: odd, From: odd, Hash: "abc", Replies: []string{odd},
			Label: threatmodel.Label{Verdict: "security", Category: odd}, Confidence: 1.0 / 3, Route: odd, RoutePublic: true,
			Missing: []string{odd}, Injection: []injection.Span{{Part: "body", Line: 1, Column: 2, Start: 3, End: 4, Kind: "override", Excerpt: odd}},
			RulesVerdict:   screener.Opinion{Label: threatmodel.Label{Verdict: "security"}, Score: 2.5, Decisive: true},
			RulesTruncated: []rules.Truncation{{Part: "body", Size: 10, Scanned: 5}},
			Model:          &screener.ModelAnswer{Error: odd}, Baseline: &screener.Opinion{Error: odd},
			SourceCheck: &sourcetree.Check{Tree: odd, At: []string{odd}, Notes: []string{odd}}, Backend: "openai", SentTo: odd,
			Decision: screener.DecisionDuplicate, NeedsReview: true, ReviewReason: odd, ReviewFlags: []string{odd},
			DuplicateOf: []screener.DuplicateOf{{ID: odd, HistoryID: 7, Subject: odd, Similarity: 0.875, Signal: "crash", Evidence: odd,
				Label: threatmodel.Label{Verdict: "security", Category: odd}, Labeled: true, Seen: seen, Batch: 3}},
			Error: &msg},
		screener.Result{})
	for _, r := range rs {
		var want, got bytes.Buffer
		require.NoError(t, json.NewEncoder(&want).Encode(r))
		w := newJSONLWriter(&got)
		require.NoError(t, w.Write(r))
		require.Equal(t, want.String(), got.String())
	}
}

// The model's line names the prompt only when there was one: the offline
// baseline answers without a prompt.
func TestTriagePageNamesThePromptOnlyWhenSet(t *testing.T) {
	page := func(prompt string) string {
		var buf bytes.Buffer
		w, err := New(HTML, &buf, Options{})
		require.NoError(t, err)
		require.NoError(t, w.Write(screener.Result{ID: "a", Label: threatmodel.Label{Verdict: "security", Category: "c"},
			Model: &screener.ModelAnswer{Classification: screener.Classification{Answer: prompts.Answer{
				Label: threatmodel.Label{Verdict: "security", Category: "c"}, Confidence: 0.5}, Prompt: prompt}}}))
		require.NoError(t, w.Close(screener.Summary{}))
		return buf.String()
	}
	assert.Contains(t, page("screen@3"), `<p class="model-label">security/c (50%), prompt screen@3</p>`)
	assert.Contains(t, page(""), `<p class="model-label">security/c (50%)</p>`)
}

// A rules' verdict with no rule behind it comes from the report's facts:
// the page says so, rather than a bare "none" beside a rules' verdict.
func TestTriagePageSaysWhereARulesVerdictWithoutRulesComesFrom(t *testing.T) {
	page := func(r screener.Result) string {
		var buf bytes.Buffer
		w, err := New(HTML, &buf, Options{})
		require.NoError(t, err)
		require.NoError(t, w.Write(r))
		require.NoError(t, w.Close(screener.Summary{}))
		return buf.String()
	}
	fromFacts := page(screener.Result{ID: "a", RulesVerdict: screener.Opinion{Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}, Confidence: 0.66}})
	assert.Contains(t, fromFacts, "comes from the facts read from the report")
	noVerdict := page(screener.Result{ID: "b"})
	assert.NotContains(t, noVerdict, "comes from the facts")
	assert.Contains(t, noVerdict, `<p class="none">none</p>`)
	withRules := page(screener.Result{ID: "c", Rules: []rules.Finding{{RuleID: "priv.root-only", Category: "privilege.root"}},
		RulesVerdict: screener.Opinion{Label: threatmodel.Label{Verdict: "not-security", Category: "privilege.root"}, Confidence: 0.8}})
	assert.NotContains(t, withRules, "comes from the facts")
	assert.Contains(t, withRules, "priv.root-only")
}

// The text table's REPORT column is short and tells the run's rows apart:
// long names are cut in the middle, and a cut that an earlier row already
// shows moves to where the names differ.
func TestTextRowNamesAreShortAndUnique(t *testing.T) {
	var h handles
	name := func(source string) string {
		n := h.next(screener.Result{ID: "x", Source: source})
		assert.LessOrEqual(t, utf8.RuneCountInString(n), handleWidth, n)
		return n
	}
	assert.Equal(t, "02-tc-uaf-nee…-net-admin.eml", name("examples/02-tc-uaf-needs-net-admin.eml"), "the extension stays")
	assert.Equal(t, "inbox.mbox:12", name("/var/mail/inbox.mbox:12"))

	// Maildir names delivered in the same second differ only inside.
	seen := map[string]string{}
	for q := range 300 {
		src := fmt.Sprintf("/home/u/Maildir/new/1733312345.M%06dP4242Q%d.mail.example.org,S=4096:2,S", 100001+q%7, q)
		n := name(src)
		require.NotContains(t, seen, n, "%s and %s", seen[n], src)
		seen[n] = src
	}

	// The same file name in two directories.
	assert.Equal(t, "report.eml", name("a/report.eml"))
	assert.Equal(t, "b/report.eml", name("b/report.eml"))
	// The same input again, and again.
	assert.Equal(t, "a/report.eml", name("a/report.eml"))
	assert.Equal(t, "report.eml~2", name("a/report.eml"))

	// Through the text writer.
	var buf bytes.Buffer
	w, err := New(Text, &buf, Options{})
	require.NoError(t, err)
	for q := range 50 {
		require.NoError(t, w.Write(screener.Result{ID: "x", Source: fmt.Sprintf("Maildir/cur/1733312345.M100001P4242.mail.example.org,U=%d:2,S", q)}))
	}
	require.NoError(t, w.Close(screener.Summary{}))
	rows := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n")[1:] {
		rows[strings.Fields(l)[0]] = true
	}
	assert.Len(t, rows, 50, "every row's REPORT differs")
}

// A thread an earlier run screened says, on the triage page, which
// history entry it updates and what was decided then, escaped.
func TestTriagePageSaysWhichResultAThreadUpdates(t *testing.T) {
	var buf bytes.Buffer
	w, err := New(HTML, &buf, Options{})
	require.NoError(t, err)
	require.NoError(t, w.Write(screener.Result{ID: "root@x", Label: threatmodel.Label{Verdict: "security", Category: "c"},
		Replies: []string{"r1@x", "r2@x"},
		Updates: &intake.ThreadUpdate{HistoryID: 12, Screened: time.Date(2026, 11, 30, 9, 5, 0, 0, time.UTC),
			Label: threatmodel.Label{Verdict: "needs-info", Category: "<b>"}, Labeled: true, Decision: "model", NeedsReview: true, NewReplies: []string{"r2@x"}}}))
	require.NoError(t, w.Write(screener.Result{ID: "plain@x", Label: threatmodel.Label{Verdict: "security", Category: "c"}}))
	require.NoError(t, w.Close(screener.Summary{}))
	page := buf.String()
	assert.Contains(t, page, `<p class="updates">updates history entry #12, screened 2026-11-30 09:05 UTC: then needs-info/&lt;b&gt; (the team's label), model, flagged for review; new replies: 1</p>`)
	assert.Equal(t, 1, strings.Count(page, `class="updates"`), "only the updated thread says so")
}
