// Package synth writes seeded synthetic kernel bug reports as an mbox, for
// benchmarks and load tests: the same seed gives the same bytes.
//
// Each message is a plain-text mail of about 4 KB (headers included) built
// from the pieces real reports are made of: a subsystem-prefixed subject, a
// setup paragraph naming a kernel version and its distribution, a KASAN or
// oops splat with a call trace, a C reproducer, CONFIG options, the
// privileges the trigger needs, and an impact paragraph. The pieces are
// drawn so that every kind of report the rules judge appears (boundary
// crossings, root-only triggers, end-of-life kernels, debug-only
// features, reports missing their version or reproducer). Reports carry no
// label: this is load, not a corpus.
//
// A share of the messages (Options.Replies) answer an earlier one, with
// In-Reply-To, References and a "Re:" subject, as a thread on a list would.
package synth

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

// Options configure Write.
type Options struct {
	// N is the number of messages.
	N int
	// Seed seeds the generator.
	Seed uint64
	// Replies is the share of messages, 0 to 1, that reply to an earlier
	// message of the same mbox (0: every message is a new report).
	Replies float64
	// Size is the body size to aim for in bytes (default 3600, which with
	// the headers makes messages of about 4 KB).
	Size int
	// DistinctCrashes gives every message's crash splats function names of
	// their own, so that no two reports share a crash signature. By default
	// a subsystem's reports share their stack, as reports of one bug do,
	// and duplicate detection reuses one decision for many of them; a
	// benchmark of the model path wants every report to reach the model.
	DistinctCrashes bool
}

// Write writes opt.N messages to w as an mboxrd and returns the bytes
// written.
func Write(w io.Writer, opt Options) (int64, error) {
	if opt.N < 0 {
		return 0, fmt.Errorf("synth: negative count %d", opt.N)
	}
	if opt.Replies < 0 || opt.Replies > 1 {
		return 0, fmt.Errorf("synth: reply share %g is not between 0 and 1", opt.Replies)
	}
	if opt.Size <= 0 {
		opt.Size = 3600
	}
	cw := &countWriter{w: bufio.NewWriterSize(w, 256<<10)}
	g := &gen{rng: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15)), opt: opt}
	for i := range opt.N {
		g.message(cw, i)
		if cw.err != nil {
			return cw.n, fmt.Errorf("synth: %w", cw.err)
		}
	}
	if err := cw.w.(*bufio.Writer).Flush(); err != nil {
		return cw.n, fmt.Errorf("synth: %w", err)
	}
	return cw.n, nil
}

// WriteFile writes opt.N messages to the file path, created or truncated,
// as Write does.
func WriteFile(path string, opt Options) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, fmt.Errorf("synth: %w", err)
	}
	n, err := Write(f, opt)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("synth: %w", cerr)
	}
	return n, err
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) WriteString(s string) {
	if c.err != nil {
		return
	}
	n, err := io.WriteString(c.w, s)
	c.n += int64(n)
	c.err = err
}

// gen holds the generator's state.
type gen struct {
	rng *rand.Rand
	opt Options
	// recent are the last messages written, for replies to answer.
	recent []sent
	// seq is the index of the message being written.
	seq int
}

type sent struct {
	id, subject string
	refs        []string
}

var base = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func (g *gen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *gen) message(w *countWriter, i int) {
	g.seq = i
	date := base.Add(time.Duration(i)*97*time.Second + time.Duration(g.rng.IntN(60))*time.Second)
	first, last := g.pick(firstNames), g.pick(lastNames)
	domain := g.pick(domains)
	from := fmt.Sprintf("%s %s <%s.%s@%s>", first, last, strings.ToLower(first), strings.ToLower(last), domain)
	id := fmt.Sprintf("synth-%d-%08x@%s", i, g.rng.Uint32(), domain)

	var subject, body string
	var refs []string
	reply := len(g.recent) > 0 && g.rng.Float64() < g.opt.Replies
	if reply {
		parent := g.recent[g.rng.IntN(len(g.recent))]
		subject = "Re: " + strings.TrimPrefix(parent.subject, "Re: ")
		refs = append(append([]string{}, parent.refs...), parent.id)
		body = g.replyBody()
	} else {
		sub := subsystems[g.rng.IntN(len(subsystems))]
		subject = fmt.Sprintf("%s: %s in %s on %s", sub.prefix, g.pick(bugKinds), g.pick(sub.funcs), g.version())
		body = g.reportBody(sub)
	}

	w.WriteString(fmt.Sprintf("From %s.%s@%s %s\n", strings.ToLower(first), strings.ToLower(last), domain, date.Format("Mon Jan _2 15:04:05 2006")))
	w.WriteString("From: " + from + "\n")
	w.WriteString("To: security@kernel.org\n")
	w.WriteString("Subject: " + subject + "\n")
	w.WriteString("Date: " + date.Format(time.RFC1123Z) + "\n")
	w.WriteString("Message-ID: <" + id + ">\n")
	if reply {
		w.WriteString("In-Reply-To: <" + refs[len(refs)-1] + ">\n")
		parts := make([]string, len(refs))
		for j, r := range refs {
			parts[j] = "<" + r + ">"
		}
		w.WriteString("References: " + strings.Join(parts, " ") + "\n")
	}
	w.WriteString("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n")
	for _, line := range strings.SplitAfter(body, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, ">"), "From ") {
			w.WriteString(">") // mboxrd escaping
		}
		w.WriteString(line)
	}
	if !strings.HasSuffix(body, "\n") {
		w.WriteString("\n")
	}
	w.WriteString("\n")

	if len(refs) < 6 {
		g.recent = append(g.recent, sent{id: id, subject: subject, refs: refs})
		if len(g.recent) > 32 {
			g.recent = g.recent[1:]
		}
	}
}

func (g *gen) version() string {
	v := g.pick(versions)
	if g.rng.IntN(3) == 0 {
		return v + "-rc" + fmt.Sprint(1+g.rng.IntN(7))
	}
	return fmt.Sprintf("%s.%d", v, g.rng.IntN(120))
}

func (g *gen) reportBody(sub subsystem) string {
	var b strings.Builder
	fn := g.pick(sub.funcs)
	fmt.Fprintf(&b, "%s\n\n", g.pick(greetings))
	fmt.Fprintf(&b, "I found %s in %s (%s) while %s. %s\n\n",
		g.pick(bugKinds), fn, sub.prefix, g.pick(activities), g.pick(framing))
	if g.rng.IntN(6) != 0 {
		fmt.Fprintf(&b, "Setup\n-----\n  - %s, kernel %s\n  - %s\n\n", g.pick(distros), g.version(), g.pick(setups))
	}
	fmt.Fprintf(&b, "%s\n\n", g.pick(privileges))
	for b.Len() < g.opt.Size {
		switch g.rng.IntN(7) {
		case 0, 1:
			g.splat(&b, sub, fn)
		case 2:
			g.repro(&b, sub)
		case 3:
			fmt.Fprintf(&b, "Config: %s=y, %s=y, %s=m\n\n", g.pick(configs), g.pick(configs), g.pick(configs))
		case 4:
			fmt.Fprintf(&b, "%s\n\n", g.pick(impacts))
		case 5:
			fmt.Fprintf(&b, "%s\n\n", g.pick(analysis))
		default:
			fmt.Fprintf(&b, "%s %s\n\n", g.pick(framing), g.pick(analysis))
		}
	}
	fmt.Fprintf(&b, "Thanks,\n%s\n", g.pick(firstNames))
	return b.String()
}

func (g *gen) replyBody() string {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s\n> %s\n\n", g.pick(framing), g.pick(analysis))
	fmt.Fprintf(&b, "%s\n\n", g.pick(followUps))
	if g.rng.IntN(2) == 0 {
		fmt.Fprintf(&b, "It also reproduces on %s (%s).\n\n", g.version(), g.pick(distros))
	}
	fmt.Fprintf(&b, "-- \n%s\n", g.pick(firstNames))
	return b.String()
}

func (g *gen) splat(b *strings.Builder, sub subsystem, fn string) {
	name := func(f string) string {
		if g.opt.DistinctCrashes {
			return fmt.Sprintf("%s_%d", f, g.seq)
		}
		return f
	}
	fmt.Fprintf(b, "  BUG: KASAN: %s in %s+0x%x/0x%x\n", g.pick(kasanKinds), name(fn), g.rng.IntN(0x400), 0x400+g.rng.IntN(0x400))
	fmt.Fprintf(b, "  Read of size %d at addr ffff88810%07x by task %s/%d\n\n", 1<<g.rng.IntN(4), g.rng.IntN(1<<28), g.pick(tasks), 100+g.rng.IntN(30000))
	fmt.Fprintf(b, "  CPU: %d PID: %d Comm: %s Not tainted %s #1\n", g.rng.IntN(8), 100+g.rng.IntN(30000), g.pick(tasks), g.version())
	b.WriteString("  Call Trace:\n   <TASK>\n   dump_stack_lvl+0x4d/0x70\n   print_report+0xcf/0x620\n   kasan_report+0xb5/0xe0\n")
	for _, f := range sub.funcs {
		fmt.Fprintf(b, "   %s+0x%x/0x%x\n", name(f), g.rng.IntN(0x300), 0x300+g.rng.IntN(0x300))
	}
	b.WriteString("   do_syscall_64+0x5d/0x170\n   entry_SYSCALL_64_after_hwframe+0x76/0x7e\n   </TASK>\n\n")
}

func (g *gen) repro(b *strings.Builder, sub subsystem) {
	fmt.Fprintf(b, "Reproducer (%s):\n\n", g.pick(reproKinds))
	b.WriteString("  #define _GNU_SOURCE\n  #include <sched.h>\n  #include <sys/socket.h>\n  #include <unistd.h>\n\n  int main(void)\n  {\n")
	for _, l := range sub.repro {
		fmt.Fprintf(b, "  \t%s\n", l)
	}
	b.WriteString("  \treturn 0;\n  }\n\n")
}

type subsystem struct {
	prefix string
	funcs  []string
	repro  []string
}

var subsystems = []subsystem{
	{"netfilter: nf_tables", []string{"nft_setelem_catchall_deactivate", "nf_tables_newrule", "nft_trans_gc_work"},
		[]string{"unshare(CLONE_NEWUSER | CLONE_NEWNET);", "int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);", "send_batch(fd, NFT_MSG_NEWSET, NFT_MSG_DELSET);"}},
	{"io_uring", []string{"io_uring_cmd_prep", "io_req_task_work_add", "io_poll_remove_entries"},
		[]string{"struct io_uring ring; io_uring_queue_init(8, &ring, 0);", "submit_linked_timeouts(&ring, 64);"}},
	{"bpf: verifier", []string{"check_mem_access", "adjust_ptr_min_max_vals", "do_check_common"},
		[]string{"int prog = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, insns, n);", "setsockopt(s, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(prog));"}},
	{"net/sched: cls_u32", []string{"u32_change", "tcf_exts_validate", "u32_destroy_key"},
		[]string{"system(\"tc qdisc add dev lo root handle 1: prio\");", "system(\"tc filter add dev lo parent 1: u32 match ip src 0/0\");"}},
	{"ext4", []string{"ext4_xattr_set_entry", "ext4_find_extent", "ext4_fill_super"},
		[]string{"mount(\"/dev/loop0\", \"/mnt\", \"ext4\", 0, NULL); /* crafted image */", "setxattr(\"/mnt/f\", \"user.x\", buf, 4096, 0);"}},
	{"usb: gadget", []string{"usb_gadget_giveback_request", "f_hidg_write", "gadget_dev_desc_UDC_store"},
		[]string{"int fd = open(\"/dev/hidg0\", O_RDWR);", "write(fd, report, sizeof(report)); /* needs a malicious USB host */"}},
	{"drm/amdgpu", []string{"amdgpu_cs_ioctl", "amdgpu_vm_bo_update", "amdgpu_bo_list_create"},
		[]string{"int fd = open(\"/dev/dri/renderD128\", O_RDWR);", "ioctl(fd, DRM_IOCTL_AMDGPU_CS, &cs);"}},
	{"staging: rtl8723bs", []string{"rtw_cfg80211_set_ie", "rtw_get_wps_ie", "OnAssocReq"},
		[]string{"/* over the air: a crafted association request */", "send_frame(iface, assoc_req, sizeof(assoc_req));"}},
	{"kvm: x86", []string{"kvm_mmu_page_fault", "vmx_handle_exit", "kvm_set_msr_common"},
		[]string{"int kvm = open(\"/dev/kvm\", O_RDWR);", "int vm = ioctl(kvm, KVM_CREATE_VM, 0);", "run_guest_with_msr(vm, 0xc0010015);"}},
	{"fs/proc", []string{"proc_pid_stack", "do_task_stat", "proc_map_files_readdir"},
		[]string{"int fd = open(\"/proc/1/stack\", O_RDONLY);", "read(fd, buf, sizeof(buf));"}},
}

var (
	firstNames = []string{"Alex", "Maria", "Jun", "Priya", "Tomasz", "Fatima", "Lars", "Chen", "Aisha", "Diego", "Yuki", "Olga"}
	lastNames  = []string{"Ritter", "Nowak", "Okafor", "Lindqvist", "Haddad", "Moreau", "Tanaka", "Iyer", "Kowalski", "Silva"}
	domains    = []string{"example.org", "research.example.net", "fuzzlab.example", "mail.example.com", "uni-example.edu"}
	versions   = []string{"6.12", "6.6", "6.1", "5.15", "5.10", "6.13", "6.14", "4.19", "5.4", "6.7", "6.9"}
	bugKinds   = []string{"a use-after-free", "an out-of-bounds write", "an out-of-bounds read", "a NULL pointer dereference",
		"a double free", "a reference count leak", "an integer overflow", "a kernel memory leak to user space", "a WARN_ON splat"}
	kasanKinds = []string{"slab-use-after-free", "slab-out-of-bounds", "use-after-free", "global-out-of-bounds", "null-ptr-deref"}
	tasks      = []string{"syz-executor", "poc", "repro", "kworker/0:1", "exploit", "a.out"}
	greetings  = []string{"Hi all,", "Hello,", "Dear kernel security team,", "Hi,", "Hello maintainers,"}
	activities = []string{"fuzzing with syzkaller", "auditing the code by hand", "running our static analyzer", "porting a driver",
		"testing a patch series", "investigating a crash on a production host"}
	framing = []string{"I believe this is exploitable for privilege escalation.", "It looks like a plain bug to me, not sure about security impact.",
		"An AI assistant helped me to write this report.", "I have not checked whether the latest stable kernel is affected.",
		"The crash is reliable within a few seconds.", "I could only trigger it once in a week of fuzzing."}
	distros = []string{"Ubuntu 24.04", "Debian 12", "Fedora 41", "CentOS 7", "Arch Linux", "RHEL 9.4", "openSUSE Tumbleweed", "a custom Yocto build"}
	setups  = []string{"QEMU x86_64 guest with 4 CPUs and KASAN enabled", "bare metal, Intel Xeon, 64 GB",
		"Raspberry Pi 4 running the vendor kernel", "a Kubernetes node with unprivileged user namespaces enabled",
		"CONFIG_DEBUG_KMEMLEAK and lockdep on", "out-of-tree module loaded from the vendor"}
	privileges = []string{"The trigger needs no privileges: any local user can run the reproducer.",
		"The reproducer must run as root in the initial user namespace.",
		"It requires CAP_NET_ADMIN, which an unprivileged user can get in a new user namespace (unshare -Urn).",
		"It requires CAP_NET_ADMIN in the initial namespace.",
		"Only reachable through debugfs, which is root-only.",
		"A remote attacker on the same network segment can trigger it without authentication.",
		"A malicious guest can trigger this from inside the VM and crash the host.",
		"An attacker with physical access and a crafted USB device can trigger it."}
	configs = []string{"CONFIG_KASAN", "CONFIG_USER_NS", "CONFIG_NF_TABLES", "CONFIG_IO_URING", "CONFIG_BPF_SYSCALL",
		"CONFIG_DEBUG_FS", "CONFIG_FAULT_INJECTION", "CONFIG_NET_CLS_U32", "CONFIG_KVM_INTEL", "CONFIG_USB_GADGET"}
	impacts = []string{"Impact: a local unprivileged user can escalate to root; we have a working exploit for 6.6.",
		"Impact: denial of service only, the machine panics.", "Impact: an information leak of a few bytes of kernel heap.",
		"Impact: container escape from an unprivileged container.", "Impact: the guest can read host memory.",
		"Impact: unclear, it needs fault injection to hit the error path."}
	analysis = []string{"The object is freed in the error path of the transaction abort but a pointer stays in the set's catch-all list.",
		"The length field comes from user space and is never checked against the buffer size before the copy.",
		"The reference taken in the lookup is dropped twice when the second allocation fails.",
		"The bug was introduced by the refactoring in the merge window and fixed upstream last week; stable kernels still have it.",
		"With panic_on_warn set the WARN_ON becomes a panic, which is how syzbot saw it.",
		"This only happens with the out-of-tree driver from the vendor SDK loaded.",
		"The race window is small, but userfaultfd makes it wide enough to win every time."}
	reproKinds = []string{"C, builds with gcc -static", "syzkaller C repro, trimmed", "minimal, written by hand"}
	followUps  = []string{"Thanks for the quick reply. Here is the information you asked for.",
		"I bisected it to the commit that added the catch-all element handling.", "The attached patch fixes it for me.",
		"Could you tell me whether this qualifies for a CVE?", "Ping: any news on this one?",
		"Sorry, I forgot to say: this needs root, so it may not be a security issue after all."}
)
