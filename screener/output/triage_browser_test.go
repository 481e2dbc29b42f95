package output

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// browser finds a Chromium or Chrome to drive: $SECSCREEN_CHROMIUM, else
// the first on PATH.
func browser() string {
	if p := os.Getenv("SECSCREEN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

const hostileSubject = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> ksmbd oops`

// triageResults are four rows of every kind, one of them hostile.
func triageResults() []screener.Result {
	body := "Kernel 6.12.3: any unprivileged user can trigger a use-after-free in nft_set.\nSteps below.\n"
	start := strings.Index(body, "unprivileged user")
	security := screener.Result{
		ID: "root@example.org", Source: "inbox.mbox:1", Subject: "nf_tables: use-after-free in set GC", Hash: "aa11",
		Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}, Confidence: 0.9, Route: "private: the maintainers, security@ in Cc",
		Missing: []string{}, Decision: screener.DecisionAgree, Backend: "openai", SentTo: "http://127.0.0.1:8080",
		Replies: []string{"reply@example.org"},
		Rules: []rules.Finding{{RuleID: "boundary.unprivileged-user", Category: "isolation.memory", Weight: 2,
			Span:    rules.Span{Part: "body", Line: 1, Column: start + 1, Start: start, End: start + len("unprivileged user")},
			Excerpt: "unprivileged user"}},
		RulesVerdict: screener.Opinion{Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}, Confidence: 0.7},
		Model: &screener.ModelAnswer{Classification: screener.Classification{Answer: prompts.Answer{Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}, Confidence: 0.95,
			Rationale: "Any local user reaches the freed set element."}, Prompt: "screen@3"}},
	}
	security.SetReport(&intake.Report{ID: "root@example.org", Subject: "nf_tables: use-after-free in set GC", Body: body})
	hostileBody := "<img src=x onerror=\"window.__pwned=3\"> as root only, on 6.7.12.\n"
	hostile := screener.Result{
		ID: "evil@example.org", Source: "inbox.mbox:2", Subject: hostileSubject, Hash: "bb22",
		Label: threatmodel.Label{Verdict: "not-security", Category: "privilege.root"}, Confidence: 0.6, Route: "public: the subsystem list", RoutePublic: true,
		Decision: screener.DecisionExclusionWins, NeedsReview: true, ReviewReason: "a voter says security; the route was kept private",
		ReviewFlags: []string{screener.FlagHeldPrivate},
		Model: &screener.ModelAnswer{Classification: screener.Classification{Answer: prompts.Answer{Label: threatmodel.Label{Verdict: "security", Category: "isolation.memory"}, Confidence: 0.55,
			Rationale: `<script>window.__pwned=4</script>`}, Prompt: "screen@3"}},
	}
	hostile.SetReport(&intake.Report{ID: "evil@example.org", Subject: hostileSubject, Body: hostileBody})
	info := screener.Result{
		ID: "vague@example.org", Source: "inbox.mbox:3", Subject: "hello security team", Hash: "cc33",
		Label: threatmodel.Label{Verdict: "needs-info", Category: "info.missing"}, Confidence: 0.4, Route: "to the reporter: ask for what is missing",
		Missing: []string{"version", "reproducer"}, Decision: screener.DecisionRulesOnly,
	}
	info.SetReport(&intake.Report{ID: "vague@example.org", Subject: "hello security team", Body: "I found a bug."})
	msg := "binary content"
	failed := screener.Result{ID: "junk.bin", Source: "junk.bin", Decision: screener.DecisionInputError, Error: &msg}
	return []screener.Result{security, hostile, info, failed}
}

func TestTriagePageInARealBrowser(t *testing.T) {
	exe := browser()
	if exe == "" {
		t.Skip("no Chromium or Chrome found (install Debian's chromium package, or set SECSCREEN_CHROMIUM): the triage page was not tested in a browser")
	}
	page := writePage(t, triageResults())
	// A longer page, for links into its middle.
	var many []screener.Result
	for i := range 40 {
		r := triageResults()[2]
		r.ID = fmt.Sprintf("vague%d@example.org", i+1)
		many = append(many, r)
	}
	longPage := writePage(t, many)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1400, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, steps...))
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, sel)
		return s
	}
	ids := func(js string) []string { return evaluate[[]string](t, ctx, js) }
	order := func() []string {
		return ids(`Array.from(document.querySelectorAll("tbody.report")).map(tb => tb.dataset.id)`)
	}
	visible := func() []string {
		return ids(`Array.from(document.querySelectorAll("tbody.report:not([hidden])")).map(tb => tb.dataset.id)`)
	}
	choose := func(sel, value string) {
		t.Helper()
		do(chromedp.SetValue(chromedp.CSS(sel), value))
		evaluate[bool](t, ctx, `document.querySelector("`+sel+`").dispatchEvent(new Event("change"))`)
	}
	row := func(id string) string { return `tbody[data-id="` + id + `"] ` }

	do(chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.ID("results")))
	assert.Equal(t, "4 of 4 shown", text("#shown"))

	// The hostile subject and body are text, and ran nothing.
	assert.Equal(t, "undefined", evaluate[string](t, ctx, `typeof window.__pwned`), "nothing from a report ran")
	assert.Contains(t, evaluate[string](t, ctx, `document.querySelector('`+row("evil@example.org")+`td.subject').textContent`),
		`<script>window.__pwned=1</script>`, "shown as text")
	assert.Equal(t, 1, evaluate[int](t, ctx, `document.scripts.length`), "the page's own script only")
	assert.Equal(t, 0, evaluate[int](t, ctx, `document.images.length`))

	// Sort by confidence, then the other way, then by verdict.
	do(chromedp.Click(chromedp.CSS(`button[data-sort="confidence"]`)))
	assert.Equal(t, []string{"junk.bin", "vague@example.org", "evil@example.org", "root@example.org"}, order())
	do(chromedp.Click(chromedp.CSS(`button[data-sort="confidence"]`)))
	assert.Equal(t, []string{"root@example.org", "evil@example.org", "vague@example.org", "junk.bin"}, order())
	do(chromedp.Click(chromedp.CSS(`button[data-sort="verdict"]`)))
	assert.Equal(t, []string{"junk.bin", "vague@example.org", "evil@example.org", "root@example.org"}, order(), "error < needs-info < not-security < security")
	// Each other column, both ways: a second click reverses the order
	// (ties too, which keep the input's order ascending).
	for _, c := range []struct {
		key  string
		want []string
	}{
		{"category", []string{"junk.bin", "vague@example.org", "root@example.org", "evil@example.org"}}, // "" < info.missing < isolation.memory < privilege.root
		{"route", []string{"junk.bin", "root@example.org", "evil@example.org", "vague@example.org"}},    // "" < private… < public… < to the reporter…
		{"review", []string{"evil@example.org", "root@example.org", "vague@example.org", "junk.bin"}},   // held-private < none
		{"id", []string{"evil@example.org", "junk.bin", "root@example.org", "vague@example.org"}},
		{"n", []string{"root@example.org", "evil@example.org", "vague@example.org", "junk.bin"}},
	} {
		do(chromedp.Click(chromedp.CSS(`button[data-sort="` + c.key + `"]`)))
		assert.Equal(t, c.want, order(), "%s ascending", c.key)
		assert.Equal(t, "ascending", evaluate[string](t, ctx, `document.querySelector('button[data-sort="`+c.key+`"]').getAttribute("aria-sort")`))
		do(chromedp.Click(chromedp.CSS(`button[data-sort="` + c.key + `"]`)))
		desc := slices.Clone(c.want)
		slices.Reverse(desc)
		assert.Equal(t, desc, order(), "%s descending", c.key)
		assert.Equal(t, "descending", evaluate[string](t, ctx, `document.querySelector('button[data-sort="`+c.key+`"]').getAttribute("aria-sort")`))
	}
	do(chromedp.Click(chromedp.CSS(`button[data-sort="n"]`))) // back to the input's order

	// Filter by verdict, review flag, route, category, confidence and text.
	choose("#f-verdict", "security")
	assert.Equal(t, []string{"root@example.org"}, visible())
	assert.Equal(t, "1 of 4 shown", text("#shown"))
	choose("#f-verdict", "")
	choose("#f-review", "*")
	assert.Equal(t, []string{"evil@example.org"}, visible())
	choose("#f-review", "none")
	assert.ElementsMatch(t, []string{"root@example.org", "vague@example.org", "junk.bin"}, visible())
	choose("#f-review", "held-private")
	assert.Equal(t, []string{"evil@example.org"}, visible())
	choose("#f-review", "")
	choose("#f-route", "to the reporter: ask for what is missing")
	assert.Equal(t, []string{"vague@example.org"}, visible())
	choose("#f-route", "")
	choose("#f-category", "privilege.root")
	assert.Equal(t, []string{"evil@example.org"}, visible())
	choose("#f-category", "")
	clear := func(sel string) {
		evaluate[bool](t, ctx, `(() => { const e = document.querySelector("`+sel+`"); e.value = ""; return e.dispatchEvent(new Event("input")) })()`)
	}
	clear("#f-conf")
	do(chromedp.SendKeys(chromedp.ID("f-conf"), "0.5")) // typed, as a person would
	assert.ElementsMatch(t, []string{"root@example.org", "evil@example.org"}, visible())
	clear("#f-conf")
	do(chromedp.SendKeys(chromedp.ID("f-text"), "vague"))
	assert.Equal(t, []string{"vague@example.org"}, visible())
	clear("#f-text")
	assert.Len(t, visible(), 4)

	// Expand a row: its text with the rule's span marked, the model's
	// rationale, what is missing, the route and the replies.
	assert.True(t, evaluate[bool](t, ctx, `document.querySelector('`+row("root@example.org")+`tr.detail').hidden`))
	do(chromedp.Click(chromedp.CSS(row("root@example.org")+"tr.summary td.subject")),
		chromedp.WaitVisible(chromedp.CSS(row("root@example.org")+"tr.detail")))
	detail := text(row("root@example.org") + "tr.detail")
	assert.Equal(t, "unprivileged user", text(row("root@example.org")+"tr.detail mark"))
	assert.Equal(t, "boundary.unprivileged-user", evaluate[string](t, ctx, `document.querySelector('`+row("root@example.org")+`tr.detail mark').title`))
	assert.Equal(t, "rgb(255, 229, 138)", evaluate[string](t, ctx, `getComputedStyle(document.querySelector('`+row("root@example.org")+`tr.detail mark')).backgroundColor`),
		"the page's own style applies under the policy")
	assert.Equal(t, "true", evaluate[string](t, ctx, `document.querySelector('`+row("root@example.org")+`tr.summary').getAttribute("aria-expanded")`))
	for _, want := range []string{"Any local user reaches the freed set element.", "private: the maintainers, security@ in Cc",
		"reply@example.org", "Kernel 6.12.3: any unprivileged user", "isolation.memory"} {
		assert.Contains(t, detail, want)
	}
	do(chromedp.Click(chromedp.CSS(row("vague@example.org")+"tr.summary")),
		chromedp.WaitVisible(chromedp.CSS(row("vague@example.org")+"tr.detail")))
	assert.Equal(t, "version, reproducer", text(row("vague@example.org")+"tr.detail .missing"))

	// Expanding the hostile row shows its markup as text and runs nothing.
	do(chromedp.Click(chromedp.CSS(row("evil@example.org")+"tr.summary")),
		chromedp.WaitVisible(chromedp.CSS(row("evil@example.org")+"tr.detail")))
	evil := text(row("evil@example.org") + "tr.detail")
	assert.Contains(t, evil, `<img src=x onerror="window.__pwned=3">`)
	assert.Contains(t, evil, `<script>window.__pwned=4</script>`)
	assert.Equal(t, "undefined", evaluate[string](t, ctx, `typeof window.__pwned`))
	assert.Equal(t, 1, evaluate[int](t, ctx, `document.images.length + document.scripts.length`))

	// A link to a row opens it.
	do(chromedp.Navigate("file://"+page+"#r3"), chromedp.WaitVisible(chromedp.CSS(row("vague@example.org")+"tr.detail")))
	// In a long page the page scrolls to it, and the opened row shows
	// below the sticky header and column titles, not under them.
	do(chromedp.Navigate("file://"+longPage+"#r20"), chromedp.WaitVisible(chromedp.CSS(row("vague20@example.org")+"tr.detail")))
	top := func(sel, edge string) float64 {
		return evaluate[float64](t, ctx, `document.querySelector('`+sel+`').getBoundingClientRect().`+edge)
	}
	assert.Greater(t, evaluate[float64](t, ctx, `window.scrollY`), 0.0, "scrolled to the row")
	assert.InDelta(t, 0, top("header", "top"), 0.5, "the header sticks at the top")
	assert.InDelta(t, top("header", "bottom"), top("th", "top"), 1, "the column titles stick below the header")
	assert.GreaterOrEqual(t, top(row("vague20@example.org")+"tr.summary", "top"), top("th", "bottom")-0.5, "the opened row is not under the titles")
	assert.Less(t, top(row("vague20@example.org")+"tr.summary", "top"), top("th", "bottom")+80, "the opened row is at the top")

	// The policy is in force: an inline script added to the page is refused.
	assert.Equal(t, "undefined", evaluate[string](t, ctx,
		`(() => { const s = document.createElement("script"); s.textContent = "window.__inline = 1"; document.body.appendChild(s); return typeof window.__inline })()`),
		"the Content-Security-Policy blocks scripts other than the page's own")
}

// writePage writes the triage page of results into a temporary file.
func writePage(t *testing.T, results []screener.Result) string {
	t.Helper()
	page := filepath.Join(t.TempDir(), "triage.html")
	f, err := os.Create(page)
	require.NoError(t, err)
	w, err := New(HTML, f, Options{})
	require.NoError(t, err)
	for _, r := range results {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close(screener.Summary{Backend: "openai", Inputs: len(results), Results: len(results)}))
	require.NoError(t, f.Close())
	return page
}

// evaluate runs js in the page and decodes its result.
func evaluate[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	require.NoError(t, err, js)
	return v
}
