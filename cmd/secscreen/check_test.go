package main

import (
	"context"
	"encoding/json"
	"mime"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary stand in for secscreen when the hook
// script under test runs it.
func TestMain(m *testing.M) {
	if os.Getenv("SECSCREEN_TEST_AS_MAIN") == "1" {
		os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const (
	maintainersFixture = "../../screener/maintainers/testdata/MAINTAINERS"
	treeFixture        = "../../screener/advice/testdata/tree"
	reportsFixture     = "../../screener/advice/testdata/reports"
)

func TestCheckExitCodes(t *testing.T) {
	isolate(t)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"security: send to the security team", []string{"../../examples/01-pipe-splice-overwrite.eml"}, 0, "a security bug (security"},
		{"not-security: send as an ordinary bug", []string{"../../examples/02-tc-uaf-needs-net-admin.eml"}, 3, "not a security bug (not-security"},
		{"needs-info: complete it first", []string{"../../examples/05-vague-report.txt"}, 4, "cannot be decided yet (needs-info"},
		{"invalid: cited code the tree lacks", []string{"--source", treeFixture, filepath.Join(reportsFixture, "invalid.eml")}, 5, "not a bug (invalid, "},
		{"unreadable input", []string{"no-such-report.eml"}, exitFailure, ""},
		{"two reports", []string{"a.txt", "b.txt"}, exitUsage, ""},
		{"bad format", []string{"-f", "xml", "../../examples/05-vague-report.txt"}, exitUsage, ""},
		{"bad source tree", []string{"--source", "no-such-dir", "../../examples/05-vague-report.txt"}, exitUsage, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := secscreen(t, append([]string{"check", "--backend", "rules"}, tc.args...)...)
			assert.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
			assert.Contains(t, out, tc.want)
			if tc.code <= 5 && tc.code != exitFailure && tc.code != exitUsage {
				assert.Empty(t, errOut, "an advised report is not an error")
			}
		})
	}
}

func TestCheckJSONForTools(t *testing.T) {
	isolate(t)
	code, out, errOut := secscreen(t, "check", "--backend", "rules", "--format", "json", "--maintainers", maintainersFixture,
		"--source", treeFixture, filepath.Join(reportsFixture, "security.eml"))
	require.Equal(t, 0, code, errOut)
	var a map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &a), out)
	assert.Equal(t, "send-to-security-team", a["action"])
	assert.Equal(t, "security", a["verdict"])
	clause := a["clause"].(map[string]any)
	assert.NotEmpty(t, clause["id"])
	assert.NotEmpty(t, clause["summary"])
	send := a["send"].(map[string]any)
	assert.Equal(t, []any{"security@kernel.org"}, send["cc"])
	assert.Contains(t, send["to"], "Tcp Maintainer <tcp@example.org>")
	assert.Contains(t, send["not_to"], "linux-distros@vs.openwall.org")
	src := a["source_check"].(map[string]any)
	assert.Empty(t, src["missing"])
	assert.NotEmpty(t, a["completeness"])
	assert.NotEmpty(t, a["ai_checklist"])
}

// b4Series is a cover letter and its patch as b4 send -o (or git
// format-patch --cover-letter --base) writes them, in one mbox.
const b4Series = `From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
From: Mira Reporter <mira@example.org>
Date: Tue, 03 Mar 2026 09:14:02 +0000
Subject: [PATCH 0/1] tcp: fix a use-after-free in tcp_rcv_state_process()
Message-Id: <20260303-tcp-uaf-v1-0-abc@example.org>
To: Tcp Maintainer <tcp@example.org>
Cc: security@kernel.org
X-Mailer: b4 0.14.2

An unprivileged user can trigger a use-after-free in tcp_rcv_state_process()
on 6.12.3 by racing sendmsg(2) against close. The reproducer triggers it
within a minute and prints "HIT"; tested on 6.12.3 and mainline.

BUG: KASAN: slab-use-after-free in tcp_rcv_state_process+0x1a2/0x1f40

---
Mira Reporter (1):
      tcp: fix a use-after-free in tcp_rcv_state_process()

 net/ipv4/tcp_input.c | 2 ++
 1 file changed, 2 insertions(+)
---
base-commit: BASE
change-id: 20260303-tcp-uaf-0123456789ab

Best regards,
-- 
Mira Reporter <mira@example.org>

From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001
From: Mira Reporter <mira@example.org>
Date: Tue, 03 Mar 2026 09:14:03 +0000
Subject: [PATCH 1/1] tcp: fix a use-after-free in tcp_rcv_state_process()
Message-Id: <20260303-tcp-uaf-v1-1-abc@example.org>
In-Reply-To: <20260303-tcp-uaf-v1-0-abc@example.org>
References: <20260303-tcp-uaf-v1-0-abc@example.org>
To: Tcp Maintainer <tcp@example.org>
Cc: security@kernel.org

Take a reference before the state change.

Fixes: 0123456789ab ("tcp: add state processing")
Signed-off-by: Mira Reporter <mira@example.org>
---
diff --git a/net/ipv4/tcp_input.c b/net/ipv4/tcp_input.c
--- a/net/ipv4/tcp_input.c
+++ b/net/ipv4/tcp_input.c
@@ -5,3 +5,5 @@
 int tcp_rcv_state_process(struct sock *sk, struct sk_buff *skb)
 {
+	sock_hold(sk);
 	return tcp_ack(sk, skb, 0);
 }
`

// gitTree makes a git checkout of the advice fixtures' tree and returns
// its directory and HEAD.
func gitTree(t *testing.T) (string, string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(treeFixture)))
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=T", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-qm", "tree")
	return dir, git("rev-parse", "HEAD")
}

func TestCheckReadsAB4SeriesFromStdin(t *testing.T) {
	isolate(t)
	dir, head := gitTree(t)
	series := strings.Replace(b4Series, "BASE", head, 1)
	var out, errOut strings.Builder
	app := []string{"secscreen", "check", "--backend", "rules", "-f", "json", "--maintainers", maintainersFixture, "--source", dir, "-"}
	code := runWithStdin(t, app, series, &out, &errOut)
	require.Contains(t, []int{0, 3, 4, 5}, code, "%s\n%s", out.String(), errOut.String())
	var a struct {
		ID       string `json:"id"`
		Action   string `json:"action"`
		Sections []struct {
			Name string `json:"name"`
		} `json:"sections"`
		Completeness []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"completeness"`
		SourceCheck struct {
			At      []string `json:"at"`
			Missing []any    `json:"missing"`
		} `json:"source_check"`
	}
	require.NoError(t, json.Unmarshal([]byte(out.String()), &a), out.String())
	assert.Equal(t, "20260303-tcp-uaf-v1-0-abc@example.org", a.ID, "the cover letter is the report")
	require.NotEmpty(t, a.Sections)
	assert.Equal(t, "NETWORKING [TCP]", a.Sections[0].Name, "the patch's file names the maintainers")
	for _, it := range a.Completeness {
		if it.ID == "fix" {
			assert.Equal(t, "ok", it.Status, "the patch of the series counts as the fix")
		}
	}
	assert.Equal(t, []string{head[:12]}, a.SourceCheck.At, "the tree is read at the series' base-commit")
	assert.Empty(t, a.SourceCheck.Missing)
}

// runWithStdin runs the command with stdin replaced by input.
func runWithStdin(t *testing.T, args []string, input string, out, errOut *strings.Builder) int {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	require.NoError(t, err)
	_, err = f.WriteString(input)
	require.NoError(t, err)
	_, err = f.Seek(0, 0)
	require.NoError(t, err)
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old; f.Close() }()
	return run(context.Background(), args, out, errOut)
}

// hook runs contrib/hooks/sendemail-validate as git send-email would, with
// this test binary as secscreen.
func hook(t *testing.T, message, headers string, env ...string) (int, string) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	msg := filepath.Join(dir, "0001-report.patch")
	require.NoError(t, os.WriteFile(msg, []byte(message), 0o644))
	args := []string{"../../contrib/hooks/sendemail-validate", msg}
	if headers != "" {
		hdr := filepath.Join(dir, ".gitsendemail.header.x")
		require.NoError(t, os.WriteFile(hdr, []byte(headers), 0o644))
		args = append(args, hdr)
	}
	cmd := exec.Command("sh", args...)
	cmd.Env = append(os.Environ(), "SECSCREEN="+os.Args[0], "SECSCREEN_TEST_AS_MAIN=1", "SECSCREEN_ARGS=--backend rules")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	require.NoError(t, err)
	return 0, string(out)
}

func TestSendemailValidateHook(t *testing.T) {
	isolate(t)
	notSecurity, err := os.ReadFile("../../examples/02-tc-uaf-needs-net-admin.eml")
	require.NoError(t, err)
	security, err := os.ReadFile("../../examples/01-pipe-splice-overwrite.eml")
	require.NoError(t, err)
	// As git 2.42+ passes them: the message, then the SMTP headers.
	toSecurity := "From: R <r@example.org>\nTo: Maintainer <m@example.org>\nCc: netdev@vger.kernel.org,\n\tsecurity@kernel.org\nSubject: x\n"
	toList := "From: R <r@example.org>\nTo: netdev@vger.kernel.org\nSubject: x\n"

	code, out := hook(t, string(notSecurity), toSecurity)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "not sent to security@kernel.org: it is not a security bug")
	assert.Contains(t, out, "privilege.", "the advice says which clause applies")
	assert.Contains(t, out, "git send-email --no-validate")

	code, out = hook(t, string(security), toSecurity)
	assert.Equal(t, 0, code, out)
	assert.Empty(t, out)

	// Not addressed to the security team: not even checked.
	notAddressed := strings.Replace(string(notSecurity), "To: security@kernel.org\n", "", 1)
	code, out = hook(t, notAddressed, toList, "SECSCREEN=/nonexistent/secscreen")
	assert.Equal(t, 0, code, out)
	assert.Empty(t, out)

	// Older git passes no header file: the message's own headers count
	// (examples/02 is addressed to security@kernel.org).
	code, out = hook(t, string(notSecurity), "")
	assert.Equal(t, 1, code, out)

	// A check that fails lets the message go, and says so.
	code, out = hook(t, string(notSecurity), toSecurity, "SECSCREEN=/nonexistent/secscreen")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "secscreen check failed")

	code, _ = hook(t, string(notSecurity), toSecurity, "SECSCREEN_SKIP=1")
	assert.Equal(t, 0, code)
}

func TestReplyCommand(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "drafts")
	code, out, errOut := secscreen(t, "reply", "--backend", "rules", "--dir", dir, "../../examples/")
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, out)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 4, "every example but the security bug gets a draft")
	assert.Contains(t, errOut, "4 replies drafted in "+dir+" with reply@v1; 1 reports not answered")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		msg, err := mail.ReadMessage(strings.NewReader(string(b)))
		require.NoError(t, err)
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(subject, "Re: "), e.Name())
	}

	// One report to standard output, with a person's label.
	code, out, errOut = secscreen(t, "reply", "--category", "config.out-of-tree", "../../examples/02-tc-uaf-needs-net-admin.eml")
	require.Equal(t, exitOK, code, errOut)
	assert.True(t, strings.HasPrefix(out, "From secscreen "), "an mbox")
	assert.Contains(t, out, "In-Reply-To: <CAJp1ke-route4-uaf@example.net>")
	assert.Contains(t, out, "vendor of that module")

	code, _, errOut = secscreen(t, "reply", "--category", "no.such", "../../examples/02-tc-uaf-needs-net-admin.eml")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "not a category")
}

func TestScreenWithRepliesAndSource(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "drafts")
	code, out, errOut := secscreen(t, "screen", "--backend", "rules", "-f", "jsonl", "--replies", dir,
		"--source", treeFixture, "--maintainers", maintainersFixture, reportsFixture)
	require.Equal(t, exitOK, code, errOut)
	rows := jsonl(t, out)
	require.Len(t, rows, 4)
	for _, r := range rows {
		assert.NotNil(t, r["source_check"], "every row says what the tree had")
	}
	assert.Contains(t, errOut, "cited code looked up in "+treeFixture)
	assert.Contains(t, errOut, "replies drafted in "+dir)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.NotEmpty(t, entries)
}
