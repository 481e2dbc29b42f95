package replies

import (
	"bytes"
	"context"
	"flag"
	"io"
	stdmime "mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/advice"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/maintainers"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/sourcetree"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var now = time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC)

// screenRaw screens one raw message with the rules, as screen does, and
// sets the label a case is about.
func screenRaw(t *testing.T, raw, verdict, category string, missing ...string) screener.Result {
	t.Helper()
	tm := threatmodel.Kernel()
	set := rules.KernelRules()
	eng, err := rules.NewEngine(tm, set, rules.Options{})
	require.NoError(t, err)
	s, err := screener.New(screener.Config{ThreatModel: tm, Rules: eng})
	require.NoError(t, err)
	var res []screener.Result
	s.Run(context.Background(), intake.Read(context.Background(), []string{"-"}, intake.Options{Stdin: strings.NewReader(raw)}),
		func(r screener.Result) { res = append(res, r) })
	require.Len(t, res, 1)
	require.Nil(t, res[0].Error)
	r := res[0]
	r.Verdict, r.Category, r.Missing = threatmodel.Verdict(verdict), category, missing
	r.NeedsReview, r.ReviewFlags, r.ReviewReason = false, nil, ""
	return r
}

const report = "From: =?utf-8?q?Zo=C3=AB_Reporter?= <zoe@example.org>\n" +
	"To: security@kernel.org\n" +
	"Subject: Re: [SECURITY] tcp: NULL deref in tcp_rcv_state_process() as root\n" +
	"Message-ID: <bug-1@example.org>\n" +
	"In-Reply-To: <thread-start@example.org>\n" +
	"References: <thread-start@example.org> <middle@example.org>\n" +
	"Date: Mon, 09 Mar 2026 08:00:00 +0000\n\n" +
	"Running the reproducer as root oopses in tcp_rcv_state_process() in net/ipv4/tcp_input.c on 6.12.3.\n"

func compose(t *testing.T, res screener.Result, opt advice.Options) (Draft, *mail.Message) {
	t.Helper()
	d, err := Compose(res, advice.Build(res, opt), Options{Now: now})
	require.NoError(t, err)
	msg, err := mail.ReadMessage(bytes.NewReader(d.Message))
	require.NoError(t, err, "%s", d.Message)
	return d, msg
}

func TestReplyHeadersAndThreading(t *testing.T) {
	res := screenRaw(t, report, "not-security", "privilege.root")
	d, msg := compose(t, res, advice.Options{})
	h := msg.Header
	assert.Equal(t, `"Linux kernel security team" <security@kernel.org>`, h.Get("From"))
	to, err := h.AddressList("To")
	require.NoError(t, err)
	assert.Equal(t, []*mail.Address{{Name: "Zoë Reporter", Address: "zoe@example.org"}}, to)
	subj, err := decodeHeader(h.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, "Re: [SECURITY] tcp: NULL deref in tcp_rcv_state_process() as root", subj, "one Re:, never Re: Re:")
	assert.Equal(t, "<bug-1@example.org>", h.Get("In-Reply-To"))
	assert.Equal(t, "<thread-start@example.org> <middle@example.org> <bug-1@example.org>", strings.Join(strings.Fields(h.Get("References")), " "))
	assert.Regexp(t, `^<secscreen-[0-9a-f]{20}@kernel\.org>$`, h.Get("Message-ID"))
	date, err := h.Date()
	require.NoError(t, err)
	assert.True(t, date.Equal(now))
	assert.Equal(t, "text/plain; charset=utf-8", h.Get("Content-Type"))
	assert.Empty(t, d.Notes)
	assert.Equal(t, "bug-1@example.org", d.ReportID)

	// The same report, decision and template give the same Message-ID.
	d2, _ := compose(t, res, advice.Options{})
	assert.Equal(t, d.Message, d2.Message)
}

func TestReplyNeverInjectsHeaders(t *testing.T) {
	res := screenRaw(t, report, "not-security", "privilege.root")
	res.Subject = "hello\r\nBcc: victim@example.com\r\n\r\nbody"
	res.From = "Eve <eve@example.org>\r\nBcc: other@example.com"
	d, msg := compose(t, res, advice.Options{})
	assert.Empty(t, msg.Header.Get("Bcc"), "%s", d.Message)
	assert.Len(t, msg.Header["Subject"], 1)
	assert.Equal(t, "Re: hello Bcc: victim@example.com body", msg.Header.Get("Subject"))
	assert.Empty(t, msg.Header.Get("To"), "an unreadable From leaves To empty")
	assert.Contains(t, d.Notes, "the reporter's address could not be read: To is left empty")
	head, _, _ := strings.Cut(string(d.Message), "\n\n")
	for _, line := range strings.Split(head, "\n") {
		assert.NotContains(t, line, "\r")
		assert.False(t, strings.HasPrefix(line, "Bcc"), line)
	}

	// An encoded word that decodes to CR LF, read by intake as a real
	// message would be.
	raw := strings.Replace(report, "Subject: Re: [SECURITY] tcp: NULL deref in tcp_rcv_state_process() as root",
		"Subject: =?utf-8?q?hi=0D=0ABcc=3A_victim=40example.com=0D=0A=0D=0Agotcha?=", 1)
	res = screenRaw(t, raw, "invalid", "invalid.intended")
	d, msg = compose(t, res, advice.Options{})
	assert.Empty(t, msg.Header.Get("Bcc"), "%s", d.Message)
	assert.Equal(t, "Re: hi Bcc: victim@example.com gotcha", msg.Header.Get("Subject"))

	// A Message-ID that would break the header is not used.
	res = screenRaw(t, report, "not-security", "privilege.root")
	res.Report().MessageID = "x@y>\r\nBcc: v@example.com"
	res.Report().References = []string{"ok@example.org", "bad id@example.org"}
	d, msg = compose(t, res, advice.Options{})
	assert.Empty(t, msg.Header.Get("In-Reply-To"))
	assert.Empty(t, msg.Header.Get("References"))
	assert.Empty(t, msg.Header.Get("Bcc"))
	assert.Contains(t, d.Notes, "the report has no usable Message-ID: the reply is not threaded")
}

func TestReplyEncodesAndFoldsLongSubjects(t *testing.T) {
	res := screenRaw(t, report, "needs-info", "info.missing", "version")
	res.Subject = strings.Repeat("überlange Betreffzeile ", 20)
	d, msg := compose(t, res, advice.Options{})
	head, _, _ := strings.Cut(string(d.Message), "\n\n")
	for _, line := range strings.Split(head, "\n") {
		assert.LessOrEqual(t, len(line), 998)
	}
	subj, err := decodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(subj, "Re: überlange Betreffzeile"))
	assert.True(t, strings.HasSuffix(subj, "…"), "cut to %d characters", maxSubjectRunes)
}

func TestReplyReferencesAreBounded(t *testing.T) {
	res := screenRaw(t, report, "not-security", "privilege.root")
	for i := range 40 {
		res.Report().References = append(res.Report().References, "r"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.org")
	}
	_, msg := compose(t, res, advice.Options{})
	refs := strings.Fields(msg.Header.Get("References"))
	assert.Len(t, refs, maxReferences)
	assert.Equal(t, "<thread-start@example.org>", refs[0], "the thread's root is kept")
	assert.Equal(t, "<bug-1@example.org>", refs[len(refs)-1])
}

// golden compares got with testdata/name, or rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./replies -update to create it")
	assert.Equal(t, string(want), string(got))
}

func TestGoldenRepliesForEachVerdict(t *testing.T) {
	m, err := maintainers.Load("../screener/maintainers/testdata/MAINTAINERS")
	require.NoError(t, err)
	notFound := []sourcetree.Citation{{Kind: sourcetree.KindFunction, Name: "tcp_secure_verify"}, {Kind: sourcetree.KindFile, Name: "net/ipv4/tcp_secure.c"}}
	cases := []struct {
		name             string
		verdict, cat     string
		missing          []string
		opt              advice.Options
		src              *sourcetree.Check
		wantBodyContains []string
	}{
		{"not-security", "not-security", "privilege.root", nil, advice.Options{Maintainers: m}, nil,
			[]string{"Root in the initial namespace (privilege.root)", "to its maintainers and mailing list: To: Tcp Maintainer <tcp@example.org>", "Cc: netdev@vger.example.org"}},
		{"not-security-no-maintainers", "not-security", "privilege.root", nil, advice.Options{}, nil,
			[]string{"scripts/get_maintainer.pl", "linux-kernel@vger.kernel.org in Cc"}},
		{"out-of-tree", "not-security", "config.out-of-tree", nil, advice.Options{}, nil,
			[]string{"vendor of that module"}},
		{"needs-info", "needs-info", "info.missing", []string{"reproducer", "privileges"}, advice.Options{}, nil,
			[]string{"Please reply with:", "- a reproducer: Add a reproducer", "- the attacker's privileges"}},
		{"unverified-tool", "needs-info", "info.unverified-tool", []string{"reproducer"}, advice.Options{}, nil,
			[]string{"output of an analysis tool", "- a reproducer"}},
		{"invalid", "invalid", "invalid.nonexistent", nil, advice.Options{}, &sourcetree.Check{At: []string{"v6.12.3 (0123456789ab)"}, Cited: notFound, Missing: notFound},
			[]string{"Cited code does not exist", "(v6.12.3 (0123456789ab)) has none of: tcp_secure_verify(), net/ipv4/tcp_secure.c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := screenRaw(t, report, tc.verdict, tc.cat, tc.missing...)
			res.SourceCheck = tc.src
			d, msg := compose(t, res, tc.opt)
			body := readBody(t, msg)
			for _, want := range tc.wantBodyContains {
				assert.Contains(t, strings.Join(strings.Fields(body), " "), strings.Join(strings.Fields(want), " "))
			}
			assert.Contains(t, body, "Hello Zoë Reporter,")
			assert.NotContains(t, body, "Running the reproducer", "the report's body is never quoted")
			for _, l := range strings.Split(body, "\n") {
				assert.LessOrEqual(t, len([]rune(l)), 72, l)
			}
			golden(t, "reply-"+tc.name+".eml", d.Message)
		})
	}
}

func TestSkip(t *testing.T) {
	res := screenRaw(t, report, "security", "isolation.memory")
	assert.NotEmpty(t, Skip(res))
	_, err := Compose(res, advice.Build(res, advice.Options{}), Options{})
	assert.ErrorContains(t, err, "a security bug")

	res = screenRaw(t, report, "not-security", "privilege.root")
	res.ReviewFlags = []string{screener.FlagHeldPrivate}
	assert.Contains(t, Skip(res), "held private")

	msg := "empty file"
	assert.Equal(t, "not screened", Skip(screener.Result{Error: &msg}))
	assert.Empty(t, Skip(screenRaw(t, report, "invalid", "invalid.intended")))
}

func TestTemplates(t *testing.T) {
	assert.Equal(t, []string{"reply@v1"}, List())
	for _, spec := range []string{"", "reply", "reply@v1", "reply@1"} {
		tpl, err := Load(spec)
		require.NoError(t, err, spec)
		assert.Equal(t, "reply@v1", tpl.ID())
	}
	_, err := Load("reply@v9")
	assert.ErrorContains(t, err, "built-in: reply@v1")

	// A team's own voice: a file with the same blocks.
	dir := filepath.Join(t.TempDir(), "ourteam")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, "v3.tmpl")
	require.NoError(t, os.WriteFile(path, []byte(`{{define "from"}}Sec <sec@example.net>{{end}}{{define "cc"}}team@example.net{{end}}`+
		`{{define "not-security"}}Hi. Not ours: {{.Clause.ID}}.{{end}}{{define "needs-info"}}More please.{{end}}{{define "invalid"}}No.{{end}}`), 0o644))
	tpl, err := Resolve(path)
	require.NoError(t, err)
	assert.Regexp(t, `^ourteam@v3\+[0-9a-f]{8}$`, tpl.ID())
	res := screenRaw(t, report, "not-security", "privilege.root")
	d, err := Compose(res, advice.Build(res, advice.Options{}), Options{Template: tpl, Now: now})
	require.NoError(t, err)
	msg, err := mail.ReadMessage(bytes.NewReader(d.Message))
	require.NoError(t, err)
	assert.Equal(t, `"Sec" <sec@example.net>`, msg.Header.Get("From"))
	assert.Equal(t, "<team@example.net>", msg.Header.Get("Cc"))
	assert.Regexp(t, `@example\.net>$`, msg.Header.Get("Message-ID"))
	assert.Equal(t, "Hi. Not ours: privilege.root.\n", readBody(t, msg))

	// Every verdict needs a block.
	require.NoError(t, os.WriteFile(path, []byte(`{{define "from"}}a@b.c{{end}}{{define "not-security"}}x{{end}}`), 0o644))
	_, err = Resolve(path)
	assert.ErrorContains(t, err, `no {{define "needs-info"}} block`)
	_, err = Resolve(filepath.Join(dir, "nope.tmpl"))
	assert.Error(t, err)
}

func TestFileNamesAreSafe(t *testing.T) {
	for _, id := range []string{"../../etc/passwd", "a@b", "", ".hidden", "x/y\\z", strings.Repeat("a", 300)} {
		name := FileName(id)
		assert.NotContains(t, name, "/")
		assert.NotContains(t, name, "\\")
		assert.False(t, strings.HasPrefix(name, "."))
		assert.LessOrEqual(t, len(name), 90)
		assert.True(t, strings.HasSuffix(name, ".eml"))
	}
	assert.NotEqual(t, FileName("a/b"), FileName("a_b"), "a hash of the whole id keeps ids apart")

	dir := filepath.Join(t.TempDir(), "replies")
	path, err := WriteDir(dir, Draft{File: FileName("x@y"), Message: []byte("m")})
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	_, err = WriteDir(dir, Draft{File: "../x"})
	assert.Error(t, err)
}

// decodeHeader decodes RFC 2047 words.
func decodeHeader(s string) (string, error) { return new(stdmime.WordDecoder).DecodeHeader(s) }

func readBody(t *testing.T, msg *mail.Message) string {
	t.Helper()
	b, err := io.ReadAll(msg.Body)
	require.NoError(t, err)
	return string(b)
}

func TestWriteMbox(t *testing.T) {
	var b bytes.Buffer
	d := Draft{Message: []byte("Subject: x\n\nFrom here on\n>From there\n")}
	require.NoError(t, WriteMbox(&b, d, now))
	require.NoError(t, WriteMbox(&b, d, now))
	assert.Equal(t, strings.Repeat("From secscreen Tue Mar 10 09:30:00 2026\nSubject: x\n\n>From here on\n>>From there\n\n", 2), b.String())
}
