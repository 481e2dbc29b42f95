package sourcetree

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// writeTree writes files (path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
}

// tinyKernel is a kernel tree of a few files.
var tinyKernel = map[string]string{
	"net/ipv4/tcp.c":              "int tcp_sendmsg(struct sock *sk)\n{\n\treturn tcp_push(sk);\n}\nSYSCALL_DEFINE6(sendto, int, fd)\n",
	"net/Kconfig":                 "config NET\n\tbool \"Networking support\"\nconfig INET\n\ttristate \"TCP/IP\"\n",
	"include/linux/skbuff.h":      "static inline void kfree_skb(struct sk_buff *skb) {}\n#ifdef CONFIG_DEBUG_NET\n#endif\n",
	"arch/x86/syscall_64.tbl":     "44\tcommon\tsendto\t\t\tsys_sendto\n321\tcommon\tbpf\t\t\tsys_bpf\n",
	"fs/ext4/inode.c":             "int ext4_iget(void) { return 0; }\n",
	"Documentation/notes.txt":     "tcp_frobnicate is only mentioned in prose\n",
	".git-ignored/hidden.c":       "int hidden_function(void);\n",
	"drivers/video/sysimgblt.c":   "void sys_imageblit(void) {}\n",
	"io_uring/io_uring.c":         "SYSCALL_DEFINE2(io_uring_setup, u32, entries)\n",
	"include/uapi/linux/bpf.h":    "#define BPF_PROG_LOAD 5\n",
	"scripts/nothing-here.py":     "def tcp_python(): pass\n",
	"arch/x86/kernel/vmlinux.lds": "SECTIONS { _text = .; }\n",
}

func report(body string) *intake.Report {
	return &intake.Report{ID: "r1", Subject: "bug", Body: body}
}

func check(t *testing.T, tree *Tree, r *intake.Report, f rules.Facts) *Check {
	t.Helper()
	c, err := tree.CheckReport(context.Background(), r, &f)
	require.NoError(t, err)
	return c
}

func TestWorkingTree(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, tinyKernel)
	tree, err := Open(dir)
	require.NoError(t, err)
	assert.False(t, tree.git)

	f := rules.Facts{
		Files:         []string{"net/ipv4/tcp.c", "net/ipv4/tcp_frob.c", "b/fs/ext4/inode.c"},
		Functions:     []string{"tcp_sendmsg", "tcp_frobnicate", "kfree_skb", "hidden_function", "tcp_python"},
		ConfigOptions: []string{"CONFIG_NET", "CONFIG_INET_MODULE", "CONFIG_DEBUG_NET", "CONFIG_TCP_FROB", "sysctl:net.ipv4.tcp_frob"},
	}
	c := check(t, tree, report("see __NR_sendto and bpf(2) and frobctl(2)"), f)
	assert.Equal(t, []string{"the working tree"}, c.At)
	assert.Equal(t, []Citation{
		{KindFile, "net/ipv4/tcp_frob.c", false},
		{KindFunction, "tcp_frobnicate", false},
		{KindFunction, "hidden_function", false},
		{KindFunction, "tcp_python", false},
		{KindConfig, "CONFIG_TCP_FROB", false},
		{KindSyscall, "frobctl", false},
	}, c.Missing, "prose, hidden directories and scripts are not code; sysctls are not checked")
	assert.Len(t, c.Cited, 15)
	assert.Equal(t, "net/ipv4/tcp_frob.c, tcp_frobnicate(), hidden_function(), tcp_python(), CONFIG_TCP_FROB, the frobctl syscall", c.MissingText())
	assert.Greater(t, c.Confidence(), 0.5)
}

func TestNothingMissing(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, tinyKernel)
	tree, err := Open(dir)
	require.NoError(t, err)
	c := check(t, tree, report("trace: __x64_sys_sendto+0x1/0x2 and sys_imageblit() and trace_foo()"),
		rules.Facts{Functions: []string{"__x64_sys_sendto", "sys_imageblit", "trace_sock_recv", "__pfx_tcp_x"}, Files: []string{"fs/ext4/inode.c"}})
	assert.Empty(t, c.Missing)
	assert.Equal(t, []Citation{{KindFile, "fs/ext4/inode.c", true}, {KindSyscall, "sendto", true}, {KindSyscall, "imageblit", true}}, c.Cited,
		"generated syscall wrappers are looked up as their syscall (or as the function itself); trace points are not looked up")
	assert.Zero(t, c.Confidence())
}

func TestNothingCitedReadsNothing(t *testing.T) {
	tree, err := Open(t.TempDir())
	require.NoError(t, err)
	c := check(t, tree, report("it crashes"), rules.Facts{})
	assert.Empty(t, c.Cited)
	assert.Empty(t, c.At, "the tree is not even indexed")
	assert.Zero(t, c.Confidence())
}

func TestReproducerHelpersAreNotCitations(t *testing.T) {
	body := "Call spray() then trigger().\n\n#include <stdio.h>\nstatic void spray(void)\n{\n}\nint trigger(int fd) {\n}\nint main(void) { spray(); }\n" +
		"The frob_it() syscall is used.\nvoid frob_it(void);\n"
	cs, all := Cite(report(body), &rules.Facts{Functions: []string{"spray", "trigger", "tcp_sendmsg"}})
	assert.True(t, all)
	assert.Equal(t, []Citation{{Kind: KindFunction, Name: "tcp_sendmsg"}}, cs)
}

func TestCitationsAreBoundedAndSafe(t *testing.T) {
	var f rules.Facts
	for i := range MaxCitations + 5 {
		f.Functions = append(f.Functions, "fn_"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	f.Files = []string{"../../etc/passwd", "net/../../x.c", "-rf.c"}
	cs, all := Cite(report(""), &f)
	assert.False(t, all)
	assert.Len(t, cs, MaxCitations)
	for _, c := range cs {
		assert.Equal(t, KindFunction, c.Kind, "paths that could leave the tree are refused")
	}
}

func TestConfidence(t *testing.T) {
	c := &Check{Cited: make([]Citation, 5), Missing: []Citation{{Kind: KindFunction}}}
	assert.Equal(t, 0.15, c.Confidence())
	c = &Check{Cited: make([]Citation, 3), Missing: []Citation{{Kind: KindFile}, {Kind: KindFunction}}}
	assert.Equal(t, 0.542, c.Confidence())
	c = &Check{Cited: make([]Citation, 4), Missing: make([]Citation, 4)}
	assert.Equal(t, 0.9, c.Confidence())
	assert.Zero(t, (*Check)(nil).Confidence())
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope"))
	assert.Error(t, err)
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err = Open(file)
	assert.ErrorContains(t, err, "not a directory")
}

// git runs git in dir for a test.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=T", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "git %v: %s", args, out)
}

// gitKernel builds a checkout with two tagged versions: v6.8 has
// old_helper() in net/core/old.c, v6.9 removed them and added
// new_helper(); the working tree (uncommitted) adds wip_helper().
func gitKernel(t *testing.T) (string, string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	writeTree(t, dir, map[string]string{
		"net/core/old.c": "void old_helper(void) {}\n",
		"net/Kconfig":    "config OLD_OPTION\n\tbool\n",
		"net/core/dev.c": "int dev_queue_xmit(void) { return 0; }\n",
	})
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-qm", "v6.8")
	git(t, dir, "tag", "v6.8")
	require.NoError(t, os.Remove(filepath.Join(dir, "net/core/old.c")))
	writeTree(t, dir, map[string]string{
		"net/core/new.c": "void new_helper(void) {}\n",
		"net/Kconfig":    "config NEW_OPTION\n\tbool\n",
	})
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-qm", "v6.9")
	git(t, dir, "tag", "v6.9")
	writeTree(t, dir, map[string]string{"net/core/wip.c": "void wip_helper(void) {}\n"})
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	require.NoError(t, err)
	return dir, string(out[:40])
}

func TestGitCheckoutAtTheVersionTheReportNames(t *testing.T) {
	dir, head := gitKernel(t)
	tree, err := Open(dir)
	require.NoError(t, err)
	require.True(t, tree.git)
	f := rules.Facts{
		Files:         []string{"net/core/old.c", "net/core/new.c", "net/core/dev.c"},
		Functions:     []string{"old_helper", "new_helper", "dev_queue_xmit", "wip_helper"},
		ConfigOptions: []string{"CONFIG_OLD_OPTION", "CONFIG_NEW_OPTION"},
	}

	// 6.8.3 is not tagged here: the series' tag v6.8 is read instead.
	f.Versions = []rules.Version{{Text: "6.8.3", Series: "6.8", Maintained: true}}
	c := check(t, tree, report(""), f)
	require.Len(t, c.At, 1)
	assert.Regexp(t, `^v6\.8 \([0-9a-f]{12}\)$`, c.At[0])
	assert.Contains(t, c.Notes, "v6.8.3 is not in the checkout; read v6.8 instead")
	assert.Equal(t, "net/core/new.c, new_helper(), wip_helper(), CONFIG_NEW_OPTION", c.MissingText())

	// At v6.9 the old code is gone.
	f.Versions = []rules.Version{{Text: "v6.9", Series: "6.9", Maintained: true}}
	c = check(t, tree, report(""), f)
	assert.Equal(t, "net/core/old.c, old_helper(), wip_helper(), CONFIG_OLD_OPTION", c.MissingText())

	// Two versions: found in either counts as found.
	f.Versions = []rules.Version{{Text: "6.8", Series: "6.8"}, {Text: "6.9.0", Series: "6.9"}}
	c = check(t, tree, report(""), f)
	assert.Len(t, c.At, 2)
	assert.Equal(t, "wip_helper()", c.MissingText())

	// A base-commit line names the exact commit (git format-patch --base, b4).
	f.Versions = nil
	c = check(t, tree, report("the fix\n\nbase-commit: "+head+"\n"), f)
	assert.Equal(t, []string{head[:12]}, c.At)
	assert.Equal(t, "net/core/old.c, old_helper(), wip_helper(), CONFIG_OLD_OPTION", c.MissingText())

	// A version the checkout does not have, or none: the working tree.
	f.Versions = []rules.Version{{Text: "5.4.1", Series: "5.4"}, {Text: "5.15.0-91-generic", Series: "5.15", Vendor: true}}
	c = check(t, tree, report(""), f)
	assert.Equal(t, []string{"the working tree"}, c.At)
	assert.Contains(t, c.Notes, "no revision for 5.4.1 in the checkout; read the working tree")
	assert.Equal(t, "net/core/old.c, old_helper(), CONFIG_OLD_OPTION", c.MissingText(), "the vendor version is not looked for")
}

func TestRevisions(t *testing.T) {
	r := report("x\nbase-commit: 0123456789abcdef\n")
	f := rules.Facts{Versions: []rules.Version{
		{Text: "6.8.2"}, {Text: "v6.9-rc3"}, {Text: "6.1.0"}, {Text: "linux-5.15"}, {Text: "6.8.0-51-generic", Vendor: true},
	}}
	assert.Equal(t, []Wanted{
		{From: "base-commit 0123456789abcdef", Names: []string{"0123456789abcdef"}},
		{From: "6.8.2", Names: []string{"v6.8.2", "v6.8"}},
		{From: "v6.9-rc3", Names: []string{"v6.9-rc3"}},
		{From: "6.1.0", Names: []string{"v6.1"}},
		{From: "linux-5.15", Names: []string{"v5.15"}},
	}, Revisions(r, &f))
}

// TestWithTheRulesFacts runs the check on what the built-in rules extract
// from a report, as the screener does.
func TestWithTheRulesFacts(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, tinyKernel)
	tree, err := Open(dir)
	require.NoError(t, err)
	set := rules.KernelRules()
	eng, err := rules.NewEngine(threatmodel.Kernel(), set, rules.Options{})
	require.NoError(t, err)
	r := report("A use-after-free in tcp_frobnicate() in net/ipv4/tcp_frob.c, reached from tcp_sendmsg(),\n" +
		"needs CONFIG_TCP_FROB=y. Tested on 6.12.1.\n")
	ev := eng.Evaluate(r)
	c, err := tree.CheckReport(context.Background(), r, &ev.Facts)
	require.NoError(t, err)
	assert.Equal(t, "net/ipv4/tcp_frob.c, tcp_frobnicate(), CONFIG_TCP_FROB", c.MissingText())
}

// TestConcurrentChecks runs checks at once, as screen's workers do: the
// index is built once and git answers are cached safely.
func TestConcurrentChecks(t *testing.T) {
	dir, _ := gitKernel(t)
	tree, err := Open(dir)
	require.NoError(t, err)
	facts := []rules.Facts{
		{Functions: []string{"old_helper", "new_helper"}, Versions: []rules.Version{{Text: "6.8"}}},
		{Functions: []string{"old_helper", "new_helper"}, Versions: []rules.Version{{Text: "6.9"}}},
		{Functions: []string{"old_helper", "wip_helper"}},
	}
	want := []string{"new_helper()", "old_helper()", "old_helper()"}
	errs := make(chan error, 30)
	for i := range 30 {
		go func() {
			c, err := tree.CheckReport(context.Background(), report(""), &facts[i%3])
			if err == nil && c.MissingText() != want[i%3] {
				err = fmt.Errorf("check %d: missing %q, want %q", i, c.MissingText(), want[i%3])
			}
			errs <- err
		}()
	}
	for range 30 {
		require.NoError(t, <-errs)
	}
}
