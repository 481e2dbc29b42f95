package sourcetree

import (
	"slices"
	"strings"

	"github.com/secscreen/secscreen/internal/lazyre"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
)

// Kinds of cited identifiers.
const (
	KindFile     = "file"
	KindFunction = "function"
	KindConfig   = "config"
	KindSyscall  = "syscall"
)

// Citation is one identifier a report cites, and whether the tree has it.
type Citation struct {
	// Kind is KindFile, KindFunction, KindConfig or KindSyscall.
	Kind string `json:"kind"`
	// Name is the path, the function or syscall name, or the CONFIG_
	// option as the report wrote it.
	Name string `json:"name"`
	// Found is true when the tree has it (at one of the revisions read,
	// at least).
	Found bool `json:"found"`
}

// String names the citation for a person: "net/ipv4/tcp.c",
// "tcp_sendmsg()", "CONFIG_NET", "the sendto syscall".
func (c Citation) String() string {
	switch c.Kind {
	case KindFunction:
		return c.Name + "()"
	case KindSyscall:
		return "the " + c.Name + " syscall"
	}
	return c.Name
}

// MaxCitations bounds the identifiers looked up for one report; a report
// that cites more has the first ones checked, with a note.
const MaxCitations = 48

var (
	reIdent = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]{1,127}$`)
	rePath  = lazyre.New(`^[A-Za-z0-9_][A-Za-z0-9_./+-]{0,255}$`)

	// Syscalls named the ways that leave no doubt: __NR_x, SYS_x,
	// x(2) (the manual section of system calls), sys_x(, and "x() syscall".
	reSyscallNR   = lazyre.New(`\b__NR_([a-z][a-z0-9_]{1,40})\b`)
	reSyscallSYS  = lazyre.New(`\bSYS_([a-z][a-z0-9_]{1,40})\b`)
	reSyscallMan  = lazyre.New(`\b([a-z_][a-z0-9_]{1,40})\(2\)`)
	reSyscallSys  = lazyre.New(`\bsys_([a-z][a-z0-9_]{1,40})\(`)
	reSyscallWord = lazyre.New(`\b([a-z_][a-z0-9_]{2,40})\(\)\s+(?:syscall|system call)\b`)

	// generatedSyscall are prefixes the SYSCALL_DEFINE macros give the
	// functions of a syscall: the stack trace shows them, the source does
	// not spell them out.
	generatedSyscall = []string{
		"__x64_sys_", "__ia32_sys_", "__arm64_sys_", "__s390x_sys_", "__s390_sys_", "__riscv_sys_",
		"__x64_compat_sys_", "__ia32_compat_sys_", "__arm64_compat_sys_",
		"__se_sys_", "__do_sys_", "__se_compat_sys_", "__do_compat_sys_", "sys_",
	}
	// generatedOther are prefixes of functions that macros or the compiler
	// make (trace points, static calls, BPF programs, patchable entries):
	// they cannot be looked up by name, so they are not checked.
	generatedOther = []string{
		"__pfx_", "trace_", "__traceiter_", "__bpf_trace_", "perf_trace_", "trace_event_raw_event_",
		"__probestub_", "__SCT__", "__static_call", "bpf_prog_", "__bpf_prog_", "__cfi_",
	}

	// manNotSyscall are manual pages of section 2 that name no system call
	// of that name (the C library's name for another one, or an index page).
	manNotSyscall = []string{"intro", "syscall", "syscalls", "_exit", "posix_fadvise", "fstatat", "wait", "wait3",
		"sigaction", "sigprocmask", "sigsuspend", "sigpending", "sigreturn", "getpagesize", "prlimit", "unimplemented"}
)

// Cite lists the identifiers a report cites that a source tree can
// confirm: the files, functions and CONFIG_ options the rules extracted
// (f), and the syscalls the report names. Functions the report defines
// itself (a reproducer's helpers) and functions whose names macros make
// are left out; a trace's __x64_sys_NAME counts as the syscall NAME.
// Sysctls are not checked. The second result is false when the report
// cites more than MaxCitations identifiers and only the first were kept.
func Cite(r *intake.Report, f *rules.Facts) ([]Citation, bool) {
	var out []Citation
	add := func(kind, name string) {
		c := Citation{Kind: kind, Name: name}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, p := range f.Files {
		if p = cleanPath(p); p != "" {
			add(KindFile, p)
		}
	}
	text := reportText(r)
	for _, fn := range f.Functions {
		if !reIdent.MatchString(fn) || definedIn(text, fn) {
			continue
		}
		if name, ok := syscallOf(fn); ok {
			add(KindSyscall, name)
			continue
		}
		if hasPrefix(fn, generatedOther) {
			continue
		}
		add(KindFunction, fn)
	}
	for _, opt := range f.ConfigOptions {
		if strings.HasPrefix(opt, "CONFIG_") && reIdent.MatchString(opt) && len(opt) > len("CONFIG_") {
			add(KindConfig, opt)
		}
	}
	for _, re := range []*lazyre.Regexp{reSyscallNR, reSyscallSYS, reSyscallMan, reSyscallSys, reSyscallWord} {
		for _, m := range re.FindAllStringSubmatch(text, 64) {
			name := strings.ToLower(m[1])
			if re == reSyscallMan && slices.Contains(manNotSyscall, name) {
				continue
			}
			if re == reSyscallWord && definedIn(text, name) {
				continue
			}
			add(KindSyscall, name)
		}
	}
	if len(out) > MaxCitations {
		return out[:MaxCitations], false
	}
	return out, true
}

// syscallOf returns the syscall a generated function name stands for.
func syscallOf(fn string) (string, bool) {
	for _, p := range generatedSyscall {
		if name, ok := strings.CutPrefix(fn, p); ok && name != "" {
			return name, true
		}
	}
	return "", false
}

func hasPrefix(s string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(s, p) })
}

// reportText is the report's subject, body and text attachments.
func reportText(r *intake.Report) string {
	var b strings.Builder
	for _, p := range r.Parts() {
		b.WriteString(p.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// reDefinition finds a C function definition or declaration "type name(":
// a reproducer's own helpers, which no kernel tree has.
var reDefinition = lazyre.New(`(?m)^[ \t]*(?:static[ \t]+)?(?:inline[ \t]+)?(?:const[ \t]+)?(?:void|int|long|char|bool|size_t|ssize_t|unsigned(?:[ \t]+(?:int|long|char))?|u?int(?:8|16|32|64)_t|__u(?:8|16|32|64)|u(?:8|16|32|64)|struct[ \t]+\w+|uintptr_t)[ \t*]+(\w+)[ \t]*\(`)

// definedIn reports whether text defines or declares function name.
func definedIn(text, name string) bool {
	if !strings.Contains(text, name) {
		return false
	}
	for _, m := range reDefinition.FindAllStringSubmatch(text, -1) {
		if m[1] == name {
			return true
		}
	}
	return false
}

// cleanPath trims a diff's a/ or b/ and ./ from a cited path and refuses
// anything that could leave the tree.
func cleanPath(p string) string {
	p = strings.TrimSpace(p)
	for _, pre := range []string{"./", "a/", "b/"} {
		p = strings.TrimPrefix(p, pre)
	}
	if !rePath.MatchString(p) || slices.Contains(strings.Split(p, "/"), "..") {
		return ""
	}
	return p
}
