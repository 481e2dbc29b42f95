package rules

import (
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secscreen/secscreen/screener/intake"
)

// Extract reads the Facts of a report. series decides which versions were
// maintained on the report's date (the list's AsOf when the report is
// undated); nil means the built-in list.
func Extract(r *intake.Report, series *SeriesList) Facts {
	if series == nil {
		if s, err := KernelSeries(); err == nil {
			series = s
		}
	}
	parts := r.Parts()
	return extract(r, parts, prepare(parts), series)
}

func prepare(parts []intake.Part) []*text {
	texts := make([]*text, len(parts))
	for i, p := range parts {
		texts[i] = newText(p.Text)
	}
	return texts
}

func extract(r *intake.Report, parts []intake.Part, texts []*text, series *SeriesList) Facts {
	var f Facts
	at := ReportDate(r)
	for i, p := range parts {
		t := p.Text
		if t == "" {
			continue
		}
		ts := texts[i]
		extractVersions(ts, series, at, &f)
		extractTrees(ts, &f)
		extractPrivileges(ts, &f)
		for _, m := range ts.findAll(reConfig, -1) {
			f.ConfigOptions = addOnce(f.ConfigOptions, m)
		}
		for _, m := range ts.findAllSub(reSysctl, -1) {
			f.ConfigOptions = addOnce(f.ConfigOptions, "sysctl:"+strings.ReplaceAll(m[1], "/", "."))
		}
		for _, m := range ts.findAll(reDebug, -1) {
			f.DebugFeatures = addOnce(f.DebugFeatures, normalizeDebug(m))
		}
		f.OutOfTree = addMatches(f.OutOfTree, reOutOfTree, ts)
		f.CraftedImage = addMatches(f.CraftedImage, reCrafted, ts)
		f.HardwareEmulation = addMatches(f.HardwareEmulation, reHWEmu, ts)
		f.PhysicalAccess = addMatches(f.PhysicalAccess, rePhysical, ts)
		extractReproducer(ts, &f)
		if ts.match(reTrace) {
			f.HasStackTrace = true
		}
		for _, m := range ts.findAllSub(reFile, -1) {
			f.Files = addOnce(f.Files, m[1])
		}
		for _, m := range ts.findAllSub(reFunc, -1) {
			name := m[1]
			if name == "" {
				name = m[2]
			}
			if !userspaceFuncs[name] {
				f.Functions = addOnce(f.Functions, name)
			}
		}
		for _, m := range ts.findAll(reCVSS, -1) {
			f.CVSS = addOnce(f.CVSS, strings.TrimSpace(m))
		}
		extractAIMarkers(ts, &f)
		for _, m := range ts.findAll(reInjection, -1) {
			f.Injection = addOnce(f.Injection, oneLine(m, 60))
		}
		if p.Name == "subject" || p.Name == "body" {
			f.Words += len(strings.Fields(t))
		}
	}
	for _, a := range r.Attachments {
		if !a.Binary && reReproName.MatchString(a.Name) && a.Text != "" {
			f.ReproducerKinds = addOnce(f.ReproducerKinds, "attachment")
		}
	}
	f.HasReproducer = len(f.ReproducerKinds) > 0
	if at.IsZero() && series != nil {
		// An undated report that tests a release candidate was written
		// before that series was released: judge its versions then.
		if d := rcDate(texts, series); !d.IsZero() {
			for i := range f.Versions {
				f.Versions[i].Maintained = series.MaintainedAt(f.Versions[i].Series, d)
			}
		}
	}
	return f
}

// reHistory marks a line that names a version as history (where a bug
// came from), not as a kernel the reporter ran.
var reHistory = regexp.MustCompile(`(?i)\bbisect|\bintroduc|\bsince\b|\bregress|\bcommit|\bfirst bad|\bcaused by|\bfixed|\bmerged`)

// rcDate returns the day before the release of the newest series that
// texts name as a release candidate they ran ("tested on 6.16-rc3"; not
// "bisected to v6.8-rc3"), or zero when there is none or the series is not
// released in the list.
func rcDate(texts []*text, series *SeriesList) time.Time {
	var d time.Time
	for _, ts := range texts {
		for _, m := range ts.findAllSubIndex(reVersion, -1) {
			if m[10] < 0 || reHistory.MatchString(lineAround(ts.t, m[0])) {
				continue
			}
			s := ts.t[m[4]:m[5]] + "." + ts.t[m[6]:m[7]]
			if r := series.released(s); !r.IsZero() && r.After(d) {
				d = r
			}
		}
	}
	if d.IsZero() {
		return d
	}
	return d.Add(-24 * time.Hour)
}

var reDateLine = regexp.MustCompile(`(?m)^Date:[ \t]*(.+?)\s*$`)

// ReportDate returns the report's date: its Date header, or else a
// "Date:" line among the first lines of a plain-text body (RFC 5322 or
// YYYY-MM-DD); zero when there is none.
func ReportDate(r *intake.Report) time.Time {
	if !r.Date.IsZero() {
		return r.Date
	}
	head := r.Body
	if n := nthIndex(head, '\n', 30); n >= 0 {
		head = head[:n]
	}
	m := reDateLine.FindStringSubmatch(head)
	if m == nil {
		return time.Time{}
	}
	if d, err := mail.ParseDate(m[1]); err == nil {
		return d
	}
	for _, layout := range []string{time.DateOnly, time.DateTime, time.RFC3339} {
		if d, err := time.Parse(layout, m[1]); err == nil {
			return d
		}
	}
	return time.Time{}
}

func nthIndex(s string, c byte, n int) int {
	i := -1
	for range n {
		j := strings.IndexByte(s[i+1:], c)
		if j < 0 {
			return -1
		}
		i += j + 1
	}
	return i
}

func addOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func addMatches(list []string, re *regexp.Regexp, ts *text) []string {
	for _, m := range ts.findAll(re, -1) {
		list = addOnce(list, strings.ToLower(oneLine(m, 60)))
	}
	return list
}

// --- versions -------------------------------------------------------------

var (
	reVersion = regexp.MustCompile(`(?i)(?:\b(linux-|v)|\b)(\d{1,2})\.(\d{1,2})(?:\.(\d{1,3}))?(-rc\d{1,2})?((?:[-.+~][0-9A-Za-z_]+)*\+?)`)
	// reVersionContext must occur on the same line as a bare version.
	reVersionContext = regexp.MustCompile(`(?i)\b(?:kernels?|linux|uname|tainted|stable|mainline|longterm|lts|upstream|trees?|release[sd]?|versions?|tested|affect\w*|reproduc\w*|introduced|since|commits?|tags?|branch(?:es)?|next-\d{8}|fixed|regressed|bisected|vulnerable|backport\w*)\b`)
	// reVersionTool rejects a version right after another program's name.
	reVersionTool  = regexp.MustCompile(`(?i)(?:gcc|clang|llvm|python\d?|glibc|libc|qemu|gdb|binutils|\bld|\bgo|golang|rustc?|openssl|cvss|score|ubuntu|debian|fedora|rhel|centos|android|macos|windows|syzkaller|perl|bash|busybox|systemd|iproute2?|nftables|iptables|libnl|libbpf|util-linux|e2fsprogs|xfsprogs|ssh|tls|http|ipv|version of [a-z]+)[\s:/=v-]*$`)
	reVendorSuffix = regexp.MustCompile(`(?i)generic|amd64|arm64|x86_64|aarch64|\bel\d|\.el|fc\d|android|aws|azure|gcp|oracle|uek|lowlatency|\brt\d*\b|default|ubuntu|deb\d|cloud|pve|arch\d|zen|qcom|mtk|^-\d+`)
	reCVSSLine     = regexp.MustCompile(`(?i)cvss`)
)

// maxMinor bounds the minor numbers of real kernel series per major.
var maxMinor = map[int]int{2: 6, 3: 19, 4: 20, 5: 19, 6: 19, 7: 20}

func extractVersions(ts *text, series *SeriesList, at time.Time, f *Facts) {
	t := ts.t
	for _, m := range ts.findAllSubIndex(reVersion, -1) {
		start, end := m[0], m[1]
		prefix := ""
		if m[2] >= 0 {
			prefix = strings.ToLower(t[m[2]:m[3]])
		}
		major, _ := strconv.Atoi(t[m[4]:m[5]])
		minor, _ := strconv.Atoi(t[m[6]:m[7]])
		hasPatch := m[8] >= 0
		rc := m[10] >= 0
		suffix := ""
		if m[12] >= 0 {
			suffix = t[m[12]:m[13]]
		}
		numStart := m[4]
		if numStart > 0 {
			c := t[numStart-1]
			if prefix == "" && (c == '.' || c == '-' || c == '_' || c == '/' || isAlnum(c)) {
				continue
			}
		}
		if strings.HasPrefix(suffix, ".") && len(suffix) > 1 && suffix[1] >= '0' && suffix[1] <= '9' {
			continue // a fourth number: an address or a different scheme
		}
		mx, ok := maxMinor[major]
		if !ok || minor > mx || (major == 2 && (minor != 6 || !hasPatch)) {
			continue
		}
		line := lineAround(t, start)
		context := linesBefore(t, start, 2) + line
		before := t[max(0, strings.LastIndexByte(t[:start], '\n')+1):start]
		if reVersionTool.MatchString(before) || reCVSSLine.MatchString(line) {
			continue
		}
		if prefix == "" && !rc && !reVersionContext.MatchString(context) {
			continue
		}
		text := strings.TrimRight(t[start:end], ".-+~_")
		if strings.HasSuffix(t[start:end], "+") {
			text += "+"
		}
		s := strconv.Itoa(major) + "." + strconv.Itoa(minor)
		v := Version{Text: text, Series: s, Vendor: suffix != "" && reVendorSuffix.MatchString(suffix)}
		if series != nil {
			v.Maintained = series.MaintainedAt(s, at)
		}
		if !slices.ContainsFunc(f.Versions, func(x Version) bool { return x.Text == v.Text }) {
			f.Versions = append(f.Versions, v)
		}
	}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// linesBefore returns up to n whole lines before the line holding i.
func linesBefore(t string, i, n int) string {
	end := strings.LastIndexByte(t[:i], '\n')
	if end < 0 {
		return ""
	}
	start := end
	for range n {
		p := strings.LastIndexByte(t[:start], '\n')
		if p < 0 {
			return t[:end+1]
		}
		start = p
	}
	return t[start+1 : end+1]
}

func lineAround(t string, i int) string {
	s := strings.LastIndexByte(t[:i], '\n') + 1
	e := strings.IndexByte(t[i:], '\n')
	if e < 0 {
		return t[s:]
	}
	return t[s : i+e]
}

var reTree = mustWrapped(`(?i)\b(linux-next|net-next|bpf-next|mm-unstable|mainline|torvalds/linux|linus'?s? (?:tree|master)|latest (?:upstream|stable|mainline)|linux-stable|stable tree|upstream (?:master|head|tip))\b`)

func extractTrees(ts *text, f *Facts) {
	for _, m := range ts.findAll(reTree, -1) {
		m = strings.ToLower(m)
		switch {
		case strings.Contains(m, "next"), m == "mm-unstable":
			f.Trees = addOnce(f.Trees, m)
		case strings.Contains(m, "stable"):
			f.Trees = addOnce(f.Trees, "stable")
		default:
			f.Trees = addOnce(f.Trees, "mainline")
		}
	}
}

// --- privileges -------------------------------------------------------------

var (
	reRoot = mustWrapped(`(?i)\b(?:requires?|needs?|needing|only|must be|run(?:ning|s)? as|executed as|performed by|done by|triggered by|as|by) (?:the )?root\b|\broot (?:privileges?|access|permissions?|user) (?:is |are )?(?:required|needed)|\bas uid 0\b|\broot in the init(?:ial)? (?:user )?namespace`)
	// reRootMore finds root stated as a requirement in other words, each
	// pattern with its own literals for the prefilter.
	reRootMore = []*regexp.Regexp{
		mustWrapped(`(?i)\b(?:need|needs|have|has|must) to (?:already )?be root\b|\b(?:is|are) root-only\b`),
		mustWrapped(`(?i)\b(?:ran|run|running|executed?|started)\w* (?:\w+ ){0,3}with sudo\b`),
	}
	// reRootOutcome rejects "root" named as the result of an attack.
	reRootOutcome  = mustWrapped(`(?i)(?:gain\w*|obtain\w*|escalat\w*|become|becoming|get|getting|achiev\w*|pop\w*|spawn\w*|to)\s+(?:a |full )?$`)
	reUnprivileged = mustWrapped(`(?i)\bunprivileged\b|\b(?:normal|regular|ordinary|non-root|low-privileged?|unprivileged local|logged-in|local) (?:users?|accounts?|students?|callers?|readers?|principals?)\b|\bany (?:local )?user\b|\bwithout (?:any )?(?:special )?privileges\b|\bno (?:special )?(?:privileges?|permissions?) (?:are |is )?(?:needed|required)`)
	// reUnprivilegedMore finds an attacker stated as a plain local user, a
	// uid other than 0, or "no root / no capabilities / privileges: none".
	// They are separate patterns so that each keeps a rare literal for the
	// prefilter.
	reUnprivilegedMore = []*regexp.Regexp{
		mustWrapped(`(?i)\b(?:as|for) uid [1-9]\d{2,}\b`),
		mustWrapped(`(?i)\blocal (?:users?|attackers?),? (?:with )?no (?:capabilit|privilege|root)|\blocal attackers?\b`),
		mustWrapped(`(?i)\b(?:needs?|requires?) no (?:special )?(?:privileges?|capabilit(?:y|ies))\b`),
		mustWrapped(`(?i)\bprivileges?: none\b|\bno root,? no (?:capabilities|privileges)\b|\bno (?:special )?(?:capabilities|capability) (?:are |is )?(?:needed|required)\b`),
		mustWrapped(`(?i)\b(?:any|an) (?:installed|untrusted|ordinary) (?:app|application)s?\b`),
		mustWrapped(`(?i)\b(?:users?|process(?:es)?|attackers?) without root\b|\bwithout root (?:privileges|access|rights)\b|\b(?:a|an|any) shell account\b`),
	}
	reUserns   = mustWrapped(`(?i)\buser[ _-]?namespaces?\b|\buserns\b|\bunshare\s+(?:-[a-zA-Z]*[Ur]|--user|--map-root-user)|\bCLONE_NEWUSER\b|\brootless (?:containers?|podman|docker)\b`)
	reCap      = regexp.MustCompile(`\bCAP_[A-Z_]{3,}\b`)
	reNegation = regexp.MustCompile(`(?i)(?:\bnot\b|n't\b|\bwithout\b|\bno\b|\bnever\b|\bcannot\b|\black\w*|\binstead of\b|\bdrop\w*|\bunless\b)`)
)

// negated reports whether the few words before i in t negate what follows.
func negated(t string, i int) bool {
	s := max(0, i-40)
	if nl := strings.LastIndexAny(t[s:i], ".\n;"); nl >= 0 {
		s += nl + 1
	}
	return reNegation.MatchString(reNoPrivilege.ReplaceAllString(t[s:i], " "))
}

func extractPrivileges(ts *text, f *Facts) {
	t := ts.t
	for _, re := range append([]*regexp.Regexp{reRoot}, reRootMore...) {
		for _, m := range ts.findAllIndex(re, -1) {
			if negated(t, m[0]) || reRootOutcome.MatchString(t[max(0, m[0]-30):m[0]]) {
				continue
			}
			f.Privileges = addOnce(f.Privileges, "root")
		}
	}
	for _, re := range append([]*regexp.Regexp{reUnprivileged}, reUnprivilegedMore...) {
		for _, m := range ts.findAllIndex(re, -1) {
			if !negated(t, m[0]) {
				f.Privileges = addOnce(f.Privileges, "unprivileged")
			}
		}
	}
	for _, m := range ts.findAllIndex(reUserns, -1) {
		if !negated(t, m[0]) {
			f.Privileges = addOnce(f.Privileges, "userns")
		}
	}
	for _, m := range ts.findAllIndex(reCap, -1) {
		if !negated(t, m[0]) {
			f.Privileges = addOnce(f.Privileges, t[m[0]:m[1]])
		}
	}
}

// --- configuration, debugging, exposure ------------------------------------

var (
	reConfig = regexp.MustCompile(`\bCONFIG_[A-Z0-9_]+\b`)
	reSysctl = regexp.MustCompile(`(?:\bsysctl\s+(?:-w\s+)?|/proc/sys/)([a-z][a-z0-9_./]*[a-z0-9_])`)
	reDebug  = regexp.MustCompile(`\b(?:CONFIG_)?(?:KASAN|KMSAN|KCSAN|UBSAN|LOCKDEP|lockdep|PROVE_LOCKING|FAULT_INJECTION|FAILSLAB|failslab|fail_nth|fail_page_alloc|fail_usercopy|DEBUG_[A-Z0-9_]+|SLUB_DEBUG|KMEMLEAK|kmemleak)\b`)
)

func normalizeDebug(m string) string {
	m = strings.TrimPrefix(m, "CONFIG_")
	switch m {
	case "lockdep", "PROVE_LOCKING":
		return "LOCKDEP"
	case "failslab", "FAILSLAB", "fail_nth", "fail_page_alloc", "fail_usercopy":
		return "FAULT_INJECTION"
	case "kmemleak":
		return "KMEMLEAK"
	}
	return m
}

var (
	reOutOfTree = mustWrapped(`(?i)\bdrivers/staging/[\w/.-]+|\bCONFIG_STAGING\b|\bstaging driver|\bout[- ]of[- ]tree\b|\bproprietary (?:kernel )?(?:module|driver)|\bvendor (?:kernel|fork|tree|bsp)\b|\bandroid (?:common )?kernel\b|\bnvidia\.ko\b|\bvboxdrv\b|\bdkms\b|\bTainted: [A-Z ]*\bO\b|\bkernel fork\b|\bmodule verification failed`)
	reCrafted   = mustWrapped(`(?i)\b(?:crafted|corrupt(?:ed)?|malformed|malicious|fuzzed|manipulated|specially[- ]crafted|invalid|bad) (?:[\w-]+ ){0,3}(?:file ?system|fs|disk|partition|ext[234]|xfs|btrfs|f2fs|ntfs3?|hfs\+?|hfsplus|jfs|udf|squashfs|erofs|ocfs2|gfs2|nilfs2?|reiserfs|vfat|exfat|iso9660) images?\b|\bsyz_mount_image\b|\bmount(?:ing|s|ed)? (?:a |an |the |this )?(?:crafted|corrupt\w*|malformed|malicious|fuzzed)\b`)
	reHWEmu     = mustWrapped(`(?i)\braw[-_]gadget\b|\bdummy_hcd\b|\bfacedancer\b|\bvhci[-_]hcd\b|\bgadgetfs\b|\bsyz_usb_connect\w*|\bfake (?:usb|hid|pci) device|\bemulated (?:usb|pci|hid) device|\bmalicious usb device|\busb(?: device)? emulat\w+`)
	rePhysical  = mustWrapped(`(?i)\bphysical(?:ly)? (?:access|present|attacker|proximity)|\bevil[- ]maid\b|\bDMA attacks?\b|\bthunderbolt\b|\bpcileech\b|\bmalicious (?:pci|pcie|thunderbolt|usb) (?:device|peripheral|card)|\bfirewire\b|\blogic analy[sz]er|\bcold[- ]boot attack|\bJTAG\b|\bbadusb\b`)
)

// --- reproducers and traces ------------------------------------------------

var (
	reCMain     = regexp.MustCompile(`(?m)(?:\b(?:int|void)\s+|^)main\s*\(`)
	reCInclude  = regexp.MustCompile(`(?m)^\s*#\s*include\s*[<"]`)
	reSyz       = regexp.MustCompile(`(?m)^(?:r\d+ = )?[a-z_0-9]+\$[\w]+\(|^r\d+ = [a-z_0-9]+\(|\bsyz-execprog\b|\bsyz-repro\b|^# \{"?threaded"?:`)
	reShellLine = regexp.MustCompile(`(?m)^\s*(?:(?:\$|\w+\$|\w+@[\w-]+:[^\s]*\$) (?:sudo )?[\w./-]+|(?:#|root@[\w-]+:[^\s]*#) (?:sudo )?(?:\./\S+|gcc|cc|clang|make|unshare|insmod|modprobe|rmmod|mount|umount|echo|cat|ip|tc|nft|iptables|sysctl|dd|mkfs\S*|losetup|chmod|bash|sh|python3?|perl|taskset|stress-ng|syz-\w+|keyctl|setcap|su|id|truncate|fallocate|mkdir|touch|ln))\b`)
	reShebang   = regexp.MustCompile(`(?m)^#!\s*/(?:usr/)?bin/(?:env )?(?:ba|da|z)?sh\b`)
	reSteps     = regexp.MustCompile(`(?im)^\W*(?:steps to reproduce|to reproduce|reproduction(?: steps)?|reproducer|how to reproduce)\b[^\n]*:?\s*\n(?:\s*\n)?\s*(?:1[.)]|-|\*|\$|#)\s*\S`)
	// reReproSection finds a "Reproducer:" (or PoC, proof, exploit) section
	// with content after it: the report describes or inlines one.
	reReproSection = regexp.MustCompile(`(?im)^[ \t>*#-]*(?:c |syz |the )?(?:reproducers?|repro|reproduction|poc|proof[- ]of[- ]concept|proof|exploit|test program|trigger program)\b[^:\n]{0,60}:[ \t]*(?:\S|\n[ \t]*\S|\n?\z)`)
	// reReproNamed finds a reproducer file the report says it attaches or
	// inlines.
	reReproNamed = mustWrapped(`(?i)\b[\w-]+\.(?:c|py|sh|syz) (?:\(|\w+ ){0,4}(?:attached|below|inline|included)\b|\b(?:attached|included|below):? (?:\w+ ){0,4}[\w-]+\.(?:c|py|sh|syz)\b`)
	// reReproFile finds a reproducer word followed closely by the file
	// name of a program ("Reproducer: join.c (60 lines)", "exploit file
	// memexec.c", a "Proof of Concept" heading over `poc.c`). Neighbouring
	// alternatives start with different letters: a shared first letter
	// would be factored out and cost the prefilter its literals.
	reReproFile = regexp.MustCompile(`(?i)\b(?:repro\w*|poc|exploit|proof[- ]of[- ]concept|test program|PoC|trigger program)\b[^.]{0,50}?(?:^|[\s\x60'"(])[\w-]+\.(?:c|py|sh|syz)\b`)
	reReproLink = regexp.MustCompile(`(?i)https?://syzkaller\.appspot\.com/x/repro\.(?:c|syz)\b`)
	reReproName = regexp.MustCompile(`(?i)(?:^|[/_.-])(?:repro\w*|poc\w*|exploit\w*|trigger\w*)\b|\.(?:c|syz|sh)$`)
	reTrace     = regexp.MustCompile(`Call Trace:|\bRIP: [0-9a-f]{4}:|\bBUG: (?:KASAN|KMSAN|KCSAN|KFENCE|unable to handle|kernel NULL pointer|sleeping function|soft lockup|scheduling while atomic)|general protection fault|\bOops: |\bUBSAN: |WARNING: CPU: \d+ PID: \d+|kernel BUG at |Kernel panic - not syncing|Unable to handle kernel|WARNING: possible circular locking|INFO: task \S+ blocked for more than`)
)

func extractReproducer(ts *text, f *Facts) {
	t := ts.t
	if ts.match(reCMain) && ts.match(reCInclude) {
		f.ReproducerKinds = addOnce(f.ReproducerKinds, "c")
	}
	if ts.match(reSyz) {
		f.ReproducerKinds = addOnce(f.ReproducerKinds, "syz")
	}
	if len(ts.findAllIndex(reShellLine, 3)) >= 2 || (ts.match(reShebang) && strings.Count(t, "\n") >= 2) {
		f.ReproducerKinds = addOnce(f.ReproducerKinds, "shell")
	}
	if reSteps.MatchString(t) {
		f.ReproducerKinds = addOnce(f.ReproducerKinds, "steps")
	}
	if ts.match(reReproSection) {
		f.ReproducerKinds = addOnce(f.ReproducerKinds, "described")
	}
	if ts.match(reReproNamed) {
		f.ReproducerKinds = addOnce(f.ReproducerKinds, "named")
	}
	if m := ts.findAllIndex(reReproFile, -1); slices.ContainsFunc(m, func(m []int) bool { return !negated(t, m[0]) }) {
		f.ReproducerKinds = addOnce(f.ReproducerKinds, "named")
	}
	if ts.match(reReproLink) {
		f.ReproducerKinds = addOnce(f.ReproducerKinds, "link")
	}
}

// --- citations ---------------------------------------------------------------

var (
	reFile = regexp.MustCompile(`\b((?:arch|block|crypto|drivers|fs|include|init|io_uring|ipc|kernel|lib|mm|net|rust|security|sound|virt|certs)/[\w./+-]*\.[chS])\b`)
	reFunc = regexp.MustCompile(`\b([a-z_][a-z0-9_]{2,})\(\)|\b([a-z_][a-z0-9_]{2,})\+0x[0-9a-f]+/0x[0-9a-f]+`)
	reCVSS = mustWrapped(`(?i)\bCVSS:[34]\.[01]/AV:[NALP]\S*|\bCVSS(?:v?[234](?:\.\d)?)?(?:\s+base)?(?:\s+score)?(?:\s+of)?\s*[:=]?\s*\d{1,2}\.\d\b|\bAV:[NALP]/AC:[LH]/\S+`)
)

// userspaceFuncs are C library calls a reproducer makes; they are not
// kernel functions a report cites.
var userspaceFuncs = map[string]bool{
	"main": true, "printf": true, "fprintf": true, "perror": true, "exit": true, "malloc": true,
	"free": true, "sizeof": true, "memset": true, "memcpy": true, "strlen": true, "syscall": true,
	"open": true, "close": true, "read": true, "write": true, "socket": true, "bind": true,
	"connect": true, "ioctl": true, "mmap": true, "munmap": true, "fork": true, "clone": true,
	"unshare": true, "pthread_create": true, "sleep": true, "usleep": true, "system": true,
	"setsockopt": true, "getsockopt": true, "getpid": true, "getuid": true, "geteuid": true,
}

// --- AI-style markers and injection ---------------------------------------------

var (
	reHeading  = regexp.MustCompile(`(?m)^#{1,6} +[A-Z*][^\n]*$`)
	reTableSep = regexp.MustCompile(`(?m)^\|?\s*:?-{3,}:?\s*\|`)
	reEmoji    = regexp.MustCompile(`[\x{1F300}-\x{1FAFF}\x{2705}\x{274C}\x{26A0}\x{2B50}\x{1F6A8}]`)
	reBold     = regexp.MustCompile(`\*\*[^*\n]{2,80}\*\*`)
	reAIPhrase = mustWrapped(`(?i)\bas an AI\b|\bas a large language model\b|\bcertainly!|\bI hope this helps\b|\bhere(?:'s| is) (?:a|the|my) (?:detailed|comprehensive|thorough)\b|\bcomprehensive (?:security )?analysis\b|\bgreat question\b|\bI apologi[sz]e for\b|\b(?:generated|written|found|discovered|identified) (?:with the help of |using |by |with )(?:an? )?(?:AI|LLM|ChatGPT|GPT-?\d\w*|Claude|Gemini|Copilot|large language model)\b|\bAI[- ](?:assisted|powered|driven) (?:analysis|audit|review|scan)`)
	reImpact   = regexp.MustCompile(`(?im)^\W{0,6}(?:potential |security |overall )?(?:impact|exploitation scenarios?|attack scenarios?|risk assessment)(?: analysis| assessment)?\W{0,4}\s*$`)
	reSection  = regexp.MustCompile(`(?m)^(?:#{1,6} |\*\*[^*\n]+\*\*:?\s*$|[A-Z][\w ]{2,40}:\s*$)`)
	// reInjection finds text addressed to a screening model.
	reInjection = mustWrapped(`(?i)\b(?:ignore|disregard|forget) (?:all |any )?(?:of )?(?:the |your )?(?:previous|prior|above|earlier|preceding|system) (?:instructions|prompts?|rules|guidelines|messages?)\b|\bclassify (?:this|the|it)(?: report| issue| bug)? as\b|\byou are (?:a|an|the) (?:[\w-]+ ){0,3}(?:screening|triage|classification|classifier|security review) (?:model|assistant|bot|system|agent|llm)\b|(?m:^\s*(?:system|assistant)(?: prompt)?\s*:\s*(?:you|ignore|disregard|from now on|new instructions|override))|<\|(?:im_start|system|endoftext)\|>|\[/?INST\]|\b(?:verdict|category)"?\s*[:=]\s*"?(?:security|not-security|needs-info|invalid|capability\.[a-z-]+|isolation\.[a-z]+)\b|\b(?:note|instructions?|message) (?:to|for) (?:the |any )?(?:AI|LLM|language model|model|screener|classifier|bot)\b|\bmark (?:this|it) as (?:a )?(?:security|critical|valid|high)`)
)

func extractAIMarkers(ts *text, f *Facts) {
	t := ts.t
	if n := len(ts.findAllIndex(reHeading, 3)); n >= 2 {
		f.AIMarkers = addOnce(f.AIMarkers, "heading")
	}
	if ts.match(reTableSep) {
		f.AIMarkers = addOnce(f.AIMarkers, "table")
	}
	if ts.match(reEmoji) {
		f.AIMarkers = addOnce(f.AIMarkers, "emoji")
	}
	if len(ts.findAllIndex(reBold, 3)) >= 3 {
		f.AIMarkers = addOnce(f.AIMarkers, "bold")
	}
	if ts.match(reAIPhrase) {
		f.AIMarkers = addOnce(f.AIMarkers, "ai-phrase")
	}
	for _, m := range ts.findAllIndex(reImpact, -1) {
		rest := t[m[1]:]
		if loc := reSection.FindStringIndex(rest); loc != nil && loc[0] > 0 {
			rest = rest[:loc[0]]
		}
		if len(strings.Fields(rest)) > 150 {
			f.AIMarkers = addOnce(f.AIMarkers, "long-impact")
			break
		}
	}
}

// mustWrapped compiles a prose pattern whose spaces also match line breaks
// (see wrapSpaces).
func mustWrapped(p string) *regexp.Regexp { return regexp.MustCompile(wrapSpaces(p)) }

// oneLine collapses whitespace in s and shortens it to at most n runes,
// ending with "…" when cut.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
