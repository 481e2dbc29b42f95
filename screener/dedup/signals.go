package dedup

import (
	"slices"
	"strings"

	"github.com/secscreen/secscreen/internal/ascii"
	"github.com/secscreen/secscreen/internal/lazyre"
)

// The kinds of evidence that two reports are about the same bug, strongest
// first. Exact and near compare the texts; the others are same-bug signals
// read from them.
const (
	// SignalExact: the same canonical text (ContentHash).
	SignalExact = "exact"
	// SignalCrash: the same bug type and top stack frames of a crash or
	// sanitizer report.
	SignalCrash = "crash"
	// SignalTitle: the same syzbot-style title, "bug type in function".
	SignalTitle = "title"
	// SignalCVE: the same CVE id.
	SignalCVE = "cve"
	// SignalNear: similar texts (MinHash estimate of the shingles' Jaccard
	// similarity at or above Options.NearAt).
	SignalNear = "near"
	// SignalCommit: the same commit cited (Fixes: tag or "commit <sha>").
	SignalCommit = "commit"
	// SignalFileFunction: the same function cited in the same source file.
	SignalFileFunction = "file-function"
)

// strength orders the signals: a lower value is stronger (an unknown
// kind is 0).
func strength(kind string) int {
	switch kind {
	case SignalCrash:
		return 1
	case SignalTitle:
		return 2
	case SignalCVE:
		return 3
	case SignalNear:
		return 4
	case SignalCommit:
		return 5
	case SignalFileFunction:
		return 6
	}
	return 0
}

// strong reports whether one signal alone makes two reports duplicates.
// The weak ones (commit, file-function) need a second signal or some
// textual similarity: a bad commit often brings several bugs, and a file's
// function often has more than one.
func strong(kind string) bool { return strength(kind) <= strength(SignalNear) }

// Signal is one same-bug signal read from a report.
type Signal struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// key is the signal's lookup key in an index.
// compareSignals orders signals by kind, then value: the order Signals
// returns them in.
func compareSignals(a, b Signal) int {
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	return strings.Compare(a.Value, b.Value)
}

func (s Signal) key() uint64 {
	h := fnvAppend(fnvOffset, s.Kind)
	h *= fnvPrime // a 0 byte between the fields
	return mix64(fnvAppend(h, s.Value))
}

// logPrefix is what a kernel log puts before a message: a level, a
// timestamp, a task or CPU id, a syslog "kernel:".
var logPrefix = lazyre.New(`^\s*(?:<\d>)?(?:\[\s*\d+\.\d+\])?\s*(?:\[\s*[TC]\d+\])?\s*(?:\S+ kernel:\s*)?(?:kernel:\s*)?`)

// crashHeads recognise the first line of a crash or sanitizer report; typ
// is the bug type, fn the culprit when the line names it.
var crashHeads = []*lazyre.Regexp{
	lazyre.New(`^BUG: (?P<typ>K(?:ASAN|MSAN|CSAN|FENCE): [\w-]+(?: (?:[Rr]ead|[Ww]rite))?) in (?P<fn>[A-Za-z_][\w.]*)`),
	lazyre.New(`^(?P<typ>UBSAN: [\w-]+(?: [\w-]+)?) in (?P<fn>[\w./-]+?)(?::\d+)*\s*$`),
	lazyre.New(`^(?P<typ>WARNING): CPU: \d+ PID: \d+ at \S+ (?P<fn>[A-Za-z_][\w.]*)\+0x`),
	lazyre.New(`^(?P<typ>kernel BUG) at \S+`),
	lazyre.New(`^BUG: (?P<typ>kernel NULL pointer dereference|unable to handle page fault|unable to handle kernel paging request|unable to handle kernel NULL pointer dereference|sleeping function called from invalid context|scheduling while atomic|soft lockup|workqueue lockup|Bad page state|Bad page map|spinlock bad magic|stack guard page was hit|corrupted list|memory leak|KASAN: [\w-]+|KMSAN: [\w-]+|KFENCE: [\w-]+)`),
	lazyre.New(`^(?P<typ>general protection fault|stack segment|divide error|invalid opcode|Unable to handle kernel paging request|Unable to handle kernel NULL pointer dereference|Unable to handle kernel access to user memory)`),
	lazyre.New(`^WARNING: (?P<typ>possible circular locking dependency detected|possible recursive locking detected|suspicious RCU usage|inconsistent lock state|bad unlock balance detected|held lock freed)`),
	lazyre.New(`^(?P<typ>unreferenced object)`),
	lazyre.New(`^(?P<typ>list_(?:add|del) corruption|refcount_t: [\w-]+)`),
	lazyre.New(`^INFO: (?P<typ>task \S+ blocked for more than|rcu detected stall|rcu_\w+ detected stalls)`),
}

// rip finds the faulting function in a register dump.
var rip = lazyre.New(`(?:RIP: \d{4}:|\bpc : |\bepc : |PC is at |NIP \[[0-9a-f]+\] )(?:\[<[0-9a-f]+>\] )?([A-Za-z_][\w.]*)\+0x`)

// frameSymbol is a symbolised call trace line, "func path/file.c:123" (the
// other form, "func+0x1a/0x2b0", is read by frameOffsetIn); traceStart
// opens a call trace.
var (
	frameSymbol = lazyre.New(`^\s*([A-Za-z_][\w.]*) ((?:[\w-]+/)*[\w.-]+\.[chS]):\d+`)
	traceStart  = lazyre.New(`(?i)^\s*call trace:\s*$`)
)

// genericFrames are frames every crash of a kind shares (the reporting
// machinery, the syscall entry, the fault handler): they say nothing about
// which bug it is. Matched by prefix.
var genericFrames = []string{
	"dump_stack", "__dump_stack", "show_stack", "show_regs", "print_address_description", "print_report",
	"kasan_", "__kasan_", "__asan_", "kmsan_", "__msan_", "ubsan_", "__ubsan_", "kcsan_", "__tsan_", "kfence_",
	"check_memory_region", "__warn", "warn_slowpath", "report_bug", "handle_bug", "exc_", "asm_exc_", "do_error_trap",
	"do_trap", "die", "__die", "oops_", "panic", "__might_", "___might_", "lockdep_", "__lock_acquire", "lock_acquire",
	"print_circular_bug", "check_noncircular", "check_prev_add", "validate_chain", "do_syscall_", "entry_SYSCALL",
	"x64_sys_call", "el0_", "el1_", "invoke_syscall", "ret_from_fork", "kthread", "worker_thread", "process_one_work",
	"__sanitizer_", "instrument_", "page_fault_oops", "do_user_addr_fault", "kernelmode_fixup_or_oops",
	"__bad_area", "bad_area", "do_kern_addr_fault", "fixup_exception", "ex_handler_", "__pfx_", "srso_",
	"kmemleak_", "slab_post_alloc_hook", "refcount_warn_saturate", "__list_add_valid", "__list_del_entry_valid",
	"__check_object_size", "__fortify_", "fortify_", "bug_handler", "do_bug", "dump_backtrace", "__schedule_bug",
	// A hung task waits in the scheduler and the locks, whatever the bug.
	"__schedule", "schedule", "io_schedule", "preempt_schedule", "__mutex_lock", "mutex_lock", "rwsem_down_",
	"down_read", "down_write", "__down", "wait_for_completion", "__wait_for_common", "do_wait_for_common",
}

// utilityFrames are library functions a crash is often detected in
// (string and memory copies, allocator entry points): the culprit of a
// title is the first frame that is not one of them, as syzbot does.
var utilityFrames = []string{
	"strlen", "strnlen", "strcpy", "strscpy", "strncpy", "strcmp", "strncmp", "memcpy", "__memcpy", "memmove",
	"__memmove", "memset", "__memset", "memcmp", "_copy_to_user", "copy_to_user", "_copy_from_user", "copy_from_user",
	"copyout", "copyin", "raw_copy_to_user", "raw_copy_from_user", "copy_user_generic", "rep_movs_alternative",
	"kfree", "kvfree", "__kmalloc", "kmalloc", "kmem_cache_free", "kmem_cache_alloc", "__kmem_cache_free",
	"kfree_skb", "sk_skb_reason_drop", "consume_skb", "refcount_", "atomic_", "__refcount_", "sprintf", "vsnprintf",
	"snprintf", "sscanf", "string", "number", "format_decode",
	"__alloc_skb", "alloc_skb", "kmalloc_reserve", "__kmalloc_node_track_caller", "slab_alloc_node", "kmem_cache_alloc_node",
	"__do_kmalloc_node", "kmalloc_node", "__kmalloc_node", "kvmalloc", "kvmalloc_node", "__kvmalloc_node", "kzalloc",
	"__vmalloc", "vmalloc", "alloc_pages", "__alloc_pages", "alloc_pages_mpol", "folio_alloc", "kmemdup", "krealloc",
}

// utility reports whether fn is a utility frame (see utilityFrames): one
// of them, or starting with one that ends in "_".
func utility(fn string) bool {
	if fn == "" {
		return false
	}
	for _, p := range utilityByFirst[fn[0]] {
		if fn == p || strings.HasSuffix(p, "_") && strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// generic reports whether fn is a generic frame: it starts with one of
// genericFrames.
func generic(fn string) bool {
	if fn == "" {
		return false
	}
	for _, p := range genericByFirst[fn[0]] {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// utilityByFirst and genericByFirst are utilityFrames and genericFrames by
// their first byte, so that a frame is compared with the few that start as
// it does (none is empty); headStartsByFirst is headStarts so.
var utilityByFirst, genericByFirst, headStartsByFirst [256][]string

// init fills the tables by first byte in place: made by a function that
// returned each by value (6 KB), they took a ~20 KB frame and its copies,
// which grew the stack of every process's initialisation.
func init() {
	byFirstByte(&utilityByFirst, utilityFrames)
	byFirstByte(&genericByFirst, genericFrames)
	byFirstByte(&headStartsByFirst, headStarts)
}

// byFirstByte adds each of names to t under its first byte.
func byFirstByte(t *[256][]string, names []string) {
	for _, n := range names {
		t[n[0]] = append(t[n[0]], n)
	}
}

// funcName strips the compiler's suffixes: foo.cold, foo.isra.0,
// foo.constprop.0, foo.part.1.
func funcName(fn string) string {
	if i := strings.IndexByte(fn, '.'); i > 0 {
		return fn[:i]
	}
	return fn
}

// TopFrames is how many stack frames a crash signature keeps.
const TopFrames = 3

// crash is what was read from a crash or sanitizer report.
type crash struct {
	typ, culprit string
	frames       []string
}

// headWords are words one of which every crashHeads line contains.
var headWords = []string{"BUG", "WARNING", "UBSAN", "general protection", "Unable to handle", "unreferenced object",
	"list_", "refcount_t", "INFO:", "stack segment", "divide error", "invalid opcode"}

// mayHead is a cheap test that line might start a crash report.
func mayHead(line string) bool {
	for _, w := range headWords {
		if strings.Contains(line, w) {
			return true
		}
	}
	return false
}

// headStarts are what a line without its log prefix starts with when a
// crashHeads expression matches it (each is anchored at the start, and
// starts with one of these literals).
var headStarts = []string{"BUG: ", "UBSAN: ", "WARNING: ", "kernel BUG at ", "general protection fault", "stack segment",
	"divide error", "invalid opcode", "Unable to handle kernel ", "unreferenced object", "list_add corruption",
	"list_del corruption", "refcount_t: ", "INFO: "}

// headLine returns line without its log prefix when a crashHeads
// expression may match it, and whether one may. A line whose prefix is
// only white space (most lines) is told by its start; the others, whose
// prefix takes a regular expression to strip, by mayHead first.
func headLine(line string) (string, bool) {
	l, ok := stripSpacePrefix(line)
	if !ok {
		if !mayHead(line) {
			return "", false
		}
		l = stripLogPrefix(line)
	}
	if l == "" {
		return "", false
	}
	for _, h := range headStartsByFirst[l[0]] {
		if strings.HasPrefix(l, h) {
			return l, true
		}
	}
	return "", false
}

// readCrash finds the first crash report in text: its bug type, its culprit
// function (from the first line, else the register dump, else the top
// frame that is not a utility), and the top frames of its call trace. For a
// kernel-infoleak, where every trace ends in a copy to user space, the
// frames are those that stored or created the uninitialised memory.
func readCrash(lines []string) (crash, bool) {
	var c crash
	head := -1
	for i, raw := range lines {
		l, ok := headLine(raw)
		if !ok {
			continue
		}
		for _, re := range crashHeads {
			if m := re.FindStringSubmatch(l); m != nil {
				c.typ = normalType(m[re.SubexpIndex("typ")])
				if k := re.SubexpIndex("fn"); k > 0 {
					c.culprit = funcName(m[k])
				}
				head = i
				break
			}
		}
		if head >= 0 {
			break
		}
	}
	if head < 0 {
		return crash{}, false
	}
	rest := lines[head+1:]
	if c.culprit == "" {
		for _, raw := range rest[:min(len(rest), maxTraceGap)] {
			if m := rip.FindStringSubmatch(raw); m != nil && !generic(m[1]) {
				c.culprit = funcName(m[1])
				break
			}
		}
	}
	c.frames = topFrames(rest)
	if strings.HasSuffix(c.typ, "kernel-infoleak") {
		for _, mark := range []string{"Uninit was stored to memory at:", "Uninit was created at:"} {
			for i, raw := range rest {
				if strings.Contains(raw, mark) {
					if f := topFrames(rest[i+1:]); len(f) > 0 {
						c.frames, c.culprit = f, f[0]
					}
					break
				}
			}
			if c.culprit != "" && !utility(c.culprit) {
				break
			}
		}
	}
	if c.culprit == "" || utility(c.culprit) {
		c.culprit = ""
		if len(c.frames) > 0 {
			c.culprit = c.frames[0]
		}
	}
	return c, true
}

// maxTraceGap bounds the lines between a crash's first line and its trace.
const maxTraceGap = 60

// topFrames reads the first call trace in lines: the frames that follow a
// "Call Trace:" line, or that start within maxTraceGap lines, up to the
// first line that is not a frame. Stale ("?"), generic and utility frames
// are skipped; TopFrames are kept.
func topFrames(lines []string) []string {
	var frames []string
	started := false
	for i, raw := range lines {
		if !started && i >= maxTraceGap {
			break
		}
		l := stripLogPrefix(raw)
		t := strings.TrimSpace(l)
		switch {
		case mayTraceStart(l) && traceStart.MatchString(l):
			if started {
				return frames
			}
			continue
		case t == "<TASK>" || t == "</TASK>" || t == "<IRQ>" || t == "</IRQ>" || t == "<NMI>" || t == "</NMI>":
			continue
		}
		var fn string
		if m := frameOffsetIn(l); m != nil && !strings.Contains(l, "RIP:") {
			if m[1] != "" {
				started = true
				continue // "?": a stale return address, not a frame
			}
			fn = m[2]
		} else if m := frameSymbolIn(l); m != nil {
			fn = m[1]
		} else {
			if started {
				return frames
			}
			continue
		}
		started = true
		fn = funcName(fn)
		if generic(fn) || utility(fn) || slices.Contains(frames, fn) {
			continue
		}
		frames = append(frames, fn)
		if len(frames) == TopFrames {
			return frames
		}
	}
	return frames
}

// normalType writes a bug type the way titles compare: lower case, without
// the access direction ("Read", "Write") syzbot adds to some.
func normalType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	t = strings.TrimSuffix(strings.TrimSuffix(t, " read"), " write")
	if strings.HasPrefix(t, "task ") && strings.HasSuffix(t, " blocked for more than") {
		return "task hung"
	}
	return t
}

// syzTitle reads a syzbot-style title from a subject: "KASAN:
// slab-use-after-free Read in tcp_retransmit_timer", "WARNING in foo",
// "general protection fault in bar".
var syzTitle = lazyre.New(`^(?P<typ>(?:KASAN|KMSAN|KCSAN|KFENCE|UBSAN): [\w-]+(?: (?:[Rr]ead|[Ww]rite))?|WARNING|BUG: [\w ,-]+?|kernel BUG|general protection fault|INFO: task hung|possible deadlock|memory leak|divide error|invalid opcode) in (?P<fn>[A-Za-z_][\w.]*)\s*$`)

var (
	filePath = lazyre.New(`\b((?:[A-Za-z0-9_-]+/)+[A-Za-z0-9_-]+\.[ch])\b`)
	funcCall = lazyre.New(`\b([A-Za-z_]\w{2,})\(\)`)
	funcOff  = lazyre.New(`\b([A-Za-z_][\w.]*)\+0x[0-9a-f]+`)
	cveID    = lazyre.New(`(?i)\bCVE-(\d{4})-(\d{4,7})\b`)
	commitID = lazyre.New(`(?i)(?:\bfixes:\s*|\bcommit\s+)([0-9a-f]{12,40})\b`)
)

// functionsIn returns the functions a line cites: "name()", a frame
// "name+0x1a/0x40", or a symbolised frame "name path/file.c:12".
func functionsIn(l string) []string {
	var fns []string
	if strings.Contains(l, "()") {
		for _, m := range funcCall.FindAllStringSubmatch(l, -1) {
			fns = append(fns, m[1])
		}
	}
	if strings.Contains(l, "+0x") {
		for _, m := range funcOff.FindAllStringSubmatch(l, -1) {
			fns = append(fns, funcName(m[1]))
		}
	}
	if m := frameSymbolIn(l); m != nil {
		fns = append(fns, funcName(m[1]))
	}
	return fns
}

// maxFileFunctions bounds the file+function pairs kept per report: the
// first ones cited are the ones the report is about.
const maxFileFunctions = 4

// Signals reads the same-bug signals of a report's Text (subject first):
// its crash signature and syzbot-style title, the CVE ids and commits it
// cites, and the first functions it cites with their source file. The
// result is sorted and has no repeats.
func Signals(subject, text string) []Signal {
	s := getScratch()
	defer s.put()
	return s.signals(Subject(subject), text)
}

// signals is Signals with s's buffers, for a subject already without its
// tags (Subject).
func (s *scratch) signals(subject, text string) []Signal {
	var out []Signal
	add := func(kind, value string) {
		s := Signal{Kind: kind, Value: value}
		if value != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if m := syzTitle.FindStringSubmatch(subject); m != nil {
		add(SignalTitle, normalType(m[syzTitle.SubexpIndex("typ")])+" in "+funcName(m[syzTitle.SubexpIndex("fn")]))
	}
	s.lines = appendLines(s.lines, text)
	lines := s.lines
	if c, ok := readCrash(lines); ok {
		if c.culprit != "" {
			add(SignalTitle, c.typ+" in "+c.culprit)
		}
		if len(c.frames) > 0 {
			add(SignalCrash, c.typ+": "+strings.Join(c.frames, " "))
		}
	}
	if containsLowerAt(text, "cve-", 3) {
		for _, m := range cveID.FindAllStringSubmatch(text, -1) {
			add(SignalCVE, "CVE-"+m[1]+"-"+m[2])
		}
	}
	if containsLowerAt(text, "fixes:", 5) || containsLowerAt(text, "commit", 2) {
		for _, m := range commitID.FindAllStringSubmatch(text, -1) {
			add(SignalCommit, strings.ToLower(m[1][:12]))
		}
	}
	pairs := 0
	for i, l := range lines {
		if pairs == maxFileFunctions {
			break
		}
		paths := pathsIn(l)
		if len(paths) != 1 {
			continue // none, or several: which function goes with which file is unclear
		}
		fns := functionsIn(l)
		// Prose wraps: "route4_change() in\nnet/sched/cls_route.c frees", or
		// "... in net/sched/cls_route.c\nroute4_change() frees ...".
		if len(fns) == 0 && i > 0 && !hasPath(lines[i-1]) {
			fns = functionsIn(lines[i-1])
		}
		if len(fns) == 0 && i+1 < len(lines) && !hasPath(lines[i+1]) {
			fns = functionsIn(lines[i+1])
		}
		for _, fn := range fns {
			if generic(fn) || utility(fn) || pairs == maxFileFunctions {
				continue
			}
			n := len(out)
			add(SignalFileFunction, paths[0]+":"+fn)
			if len(out) > n {
				pairs++
			}
		}
	}
	slices.SortFunc(out, compareSignals)
	return out
}

// appendLines appends the lines of text to dst, as strings.Split(text,
// "\n") has them.
func appendLines(dst []string, text string) []string {
	for rest, more := text, true; more; {
		var l string
		l, rest, more = strings.Cut(rest, "\n")
		dst = append(dst, l)
	}
	return dst
}

// The regular expressions above run on every line of a report; these
// cheap tests skip the lines they cannot match (each test is a literal
// every match contains; TestPrefiltersNeverSkipAMatch checks them).

// stripLogPrefix removes logPrefix's match from the start of line. Its
// parts after the leading white space need a "<", a "[" or "kernel:":
// without them, the match is that white space (\s: tab, line feed, form
// feed, carriage return, space).
func stripLogPrefix(line string) string {
	if l, ok := stripSpacePrefix(line); ok {
		return l
	}
	return logPrefix.ReplaceAllString(line, "")
}

// stripSpacePrefix is stripLogPrefix for a line whose prefix is only
// white space (no "kernel:", no "<" or "[" after the white space): it
// returns the line without it, or false for any other line.
func stripSpacePrefix(line string) (string, bool) {
	if strings.Contains(line, "kernel:") {
		return "", false
	}
	i := skipSpace(line, 0)
	if i == len(line) || line[i] != '<' && line[i] != '[' {
		return line[i:], true
	}
	return "", false
}

// mayTraceStart: "call trace:" in ASCII lower case.
func mayTraceStart(l string) bool {
	return containsLower(l, "call trace:")
}

// frameOffsetIn matches a call trace line "func+0x1a/0x2b0" in l, as the
// regular expression
//
//	^\s*(?:\[<[0-9a-f]+>\]\s*)?(\?\s+)?([A-Za-z_][\w.]*)\+0x[0-9a-f]+/0x[0-9a-f]+
//
// would (an address or "?" may come first): it returns the match, the
// "?" group ("" when absent) and the function, or nil. It reads l left to
// right: every part of the expression ends where the next must begin (no
// part can take the next one's first character), so there is nothing to
// backtrack to and this is the expression's one match
// (TestPrefiltersNeverSkipAMatch compares them).
func frameOffsetIn(l string) []string {
	i := skipSpace(l, 0)
	if strings.HasPrefix(l[i:], "[<") {
		k := skipHex(l, i+2)
		if k == i+2 || !strings.HasPrefix(l[k:], ">]") {
			return nil
		}
		i = skipSpace(l, k+2)
	}
	stale := ""
	if i < len(l) && l[i] == '?' {
		k := skipSpace(l, i+1)
		if k == i+1 {
			return nil
		}
		stale, i = l[i:k], k
	}
	if i == len(l) || !(l[i] == '_' || 'a' <= l[i]|0x20 && l[i]|0x20 <= 'z') {
		return nil
	}
	j := i + 1
	for j < len(l) && (l[j] == '.' || ascii.IsWordByte(l[j])) {
		j++
	}
	if !strings.HasPrefix(l[j:], "+0x") {
		return nil
	}
	k := skipHex(l, j+3)
	if k == j+3 || !strings.HasPrefix(l[k:], "/0x") {
		return nil
	}
	end := skipHex(l, k+3)
	if end == k+3 {
		return nil
	}
	return []string{l[:end], stale, l[i:j]}
}

// skipSpace returns the index of the first byte of l from i on that is not
// white space as a regular expression's \s sees it (tab, line feed, form
// feed, carriage return, space).
func skipSpace(l string, i int) int {
	for i < len(l) && (l[i] == ' ' || l[i] == '\t' || l[i] == '\n' || l[i] == '\f' || l[i] == '\r') {
		i++
	}
	return i
}

// skipHex returns the index of the first byte of l from i on that is not
// a lower-case hexadecimal digit.
func skipHex(l string, i int) int {
	for i < len(l) && ('0' <= l[i] && l[i] <= '9' || 'a' <= l[i] && l[i] <= 'f') {
		i++
	}
	return i
}

// frameSymbolIn is frameSymbol's submatches in l; a match has a space and
// ".c:", ".h:" or ".S:".
func frameSymbolIn(l string) []string {
	if strings.IndexByte(l, ' ') < 0 || !strings.Contains(l, ".c:") && !strings.Contains(l, ".h:") && !strings.Contains(l, ".S:") {
		return nil
	}
	return frameSymbol.FindStringSubmatch(l)
}

// mayHavePath is a cheap test that filePath may match l: a match has a
// "/" and ".c" or ".h".
func mayHavePath(l string) bool {
	return strings.IndexByte(l, '/') >= 0 && (strings.Contains(l, ".c") || strings.Contains(l, ".h"))
}

// pathsIn is filePath's matches in l.
func pathsIn(l string) []string {
	if !mayHavePath(l) {
		return nil
	}
	return filePath.FindAllString(l, -1)
}

// hasPath reports whether l cites a source file (filePath matches).
func hasPath(l string) bool {
	return mayHavePath(l) && filePath.MatchString(l)
}
