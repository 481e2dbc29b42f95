package rules

import (
	"fmt"
	"github.com/secscreen/secscreen/internal/benchsupport"
	"strings"
	"testing"

	"github.com/secscreen/secscreen/screener/intake"
)

// benchReport builds a report shaped like a real one, about 10 KB: a prose
// description, a KASAN report with allocation and free stacks, a C
// reproducer, and a proposed patch.
func benchReport() *intake.Report {
	var b strings.Builder
	b.WriteString("Hello,\n\nWhile testing the foo socket family I found a use-after-free in\n" +
		"foo_release() (net/foo/af_foo.c). The timer callback foo_timer_fire() can run\n" +
		"after the socket is released, because foo_release() does not cancel it with\n" +
		"timer_shutdown_sync(). Any local user can open an AF_FOO socket, so the bug is\n" +
		"reachable by unprivileged users on distribution kernels that build the module.\n\n" +
		"Tested on 7.3.2 and 6.12.40 with the Debian config; CONFIG_FOO=m is the default.\n" +
		"KASAN was only used to detect the problem; without it the freed object is\n" +
		"reallocated and the refcount underflows.\n\n")
	b.WriteString(kasanTrace)
	b.WriteString("\nAllocated by task 1234:\n")
	frames := []string{"kasan_save_stack", "kasan_save_track", "__kasan_kmalloc", "__kmalloc_noprof",
		"sk_prot_alloc", "sk_alloc", "foo_create", "__sock_create", "__sys_socket", "__x64_sys_socket",
		"do_syscall_64", "entry_SYSCALL_64_after_hwframe"}
	for i, f := range frames {
		fmt.Fprintf(&b, " %s+0x%x/0x%x\n", f, 0x10+i*7, 0x80+i*13)
	}
	b.WriteString("\nFreed by task 1234:\n")
	for i, f := range frames {
		fmt.Fprintf(&b, " %s+0x%x/0x%x\n", strings.Replace(f, "alloc", "free", 1), 0x20+i*5, 0x90+i*11)
	}
	b.WriteString("\nThe buggy address belongs to the object at ffff888012345600\n which belongs to the cache kmalloc-512 of size 512\n\n")
	b.WriteString("Reproducer:\n\n#include <stdio.h>\n#include <stdlib.h>\n#include <sys/socket.h>\n#include <unistd.h>\n\n")
	for i := range 64 {
		fmt.Fprintf(&b, "static void step%d(int fd)\n{\n\tint v = %d;\n\tif (setsockopt(fd, SOL_FOO, FOO_OPT_%d, &v, sizeof(v)) < 0)\n\t\tperror(\"setsockopt\");\n}\n\n", i, i, i)
	}
	b.WriteString("int main(void)\n{\n\tint fd = socket(AF_FOO, SOCK_DGRAM, 0);\n\tstep0(fd);\n\tclose(fd);\n\treturn 0;\n}\n\n")
	b.WriteString("Proposed fix:\n\n--- a/net/foo/af_foo.c\n+++ b/net/foo/af_foo.c\n@@ -412,6 +412,7 @@ static int foo_release(struct socket *sock)\n" +
		" \tlock_sock(sk);\n+\ttimer_shutdown_sync(&fs->timer);\n \tsock_orphan(sk);\n\nSigned-off-by: A Reporter <a@example.org>\n")
	return &intake.Report{ID: "bench", Subject: "[PATCH] foo: fix use-after-free in foo_release()", Body: b.String()}
}

func BenchmarkEvaluate(b *testing.B) {
	e := kernelEngine(b)
	r := benchReport()
	b.SetBytes(int64(len(r.Body)))
	b.ReportAllocs()
	e.Evaluate(r)
	start := benchsupport.CPUTime()
	for b.Loop() {
		e.Evaluate(r)
	}
	benchsupport.ReportCPU(b, start)
}

func TestBenchReportIsRealisticSize(t *testing.T) {
	r := benchReport()
	if n := len(r.Body); n < 8000 || n > 14000 {
		t.Fatalf("benchmark report is %d bytes, want about 10 KB", n)
	}
}

// The engine is shared by the screener's workers.
func TestEvaluateConcurrently(t *testing.T) {
	e := kernelEngine(t)
	r := benchReport()
	want := e.Evaluate(r)
	done := make(chan Evaluation, 4)
	for range 4 {
		go func() { done <- e.Evaluate(r) }()
	}
	for range 4 {
		got := <-done
		if got.Category != want.Category || len(got.Findings) != len(want.Findings) {
			t.Fatalf("concurrent evaluation differs: %s/%d vs %s/%d", got.Category, len(got.Findings), want.Category, len(want.Findings))
		}
	}
}
