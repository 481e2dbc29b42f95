package rules

import "slices"

// Facts holds what the extractors read from a report; rules (through their
// requires conditions), the rules-only decision and the outputs share it.
type Facts struct {
	// Versions lists the kernel versions mentioned, each once.
	Versions []Version `json:"versions,omitempty"`
	// Trees lists kernel trees named without a number: "mainline",
	// "linux-next", "stable", "net-next" and the like.
	Trees []string `json:"trees,omitempty"`
	// Privileges lists the privileges the report says are needed: "root",
	// "unprivileged", "userns", or CAP_* names. A capability mentioned only
	// as not needed ("without CAP_SYS_ADMIN") is left out.
	Privileges []string `json:"privileges,omitempty"`
	// ConfigOptions lists the CONFIG_* options mentioned.
	ConfigOptions []string `json:"config_options,omitempty"`
	// DebugFeatures lists debugging and sanitizer features mentioned:
	// "KASAN", "LOCKDEP", "FAULT_INJECTION", "DEBUG_*" options and the like.
	DebugFeatures []string `json:"debug_features,omitempty"`
	// OutOfTree lists signs of code outside the mainline kernel: staging
	// drivers, out-of-tree or proprietary modules, vendor forks.
	OutOfTree []string `json:"out_of_tree,omitempty"`
	// CraftedImage lists signs that the bug needs a crafted or corrupted
	// file system image to be mounted.
	CraftedImage []string `json:"crafted_image,omitempty"`
	// HardwareEmulation lists signs of emulated or fake devices
	// (raw-gadget, dummy_hcd, Facedancer, QEMU-emulated devices).
	HardwareEmulation []string `json:"hardware_emulation,omitempty"`
	// PhysicalAccess lists signs that physical access or special hardware is
	// needed (DMA attacks, Thunderbolt, evil maid).
	PhysicalAccess []string `json:"physical_access,omitempty"`
	// HasReproducer is true when a reproducer (C source, syz program, shell
	// steps) is present.
	HasReproducer bool `json:"has_reproducer"`
	// ReproducerKinds says which kinds were seen: "c" (C with main()),
	// "syz" (a syzkaller program), "shell" (a shell session), "steps"
	// (numbered steps), "described" (a "Reproducer:" section), "named" (a
	// reproducer file said to be attached or below), "link" (a syzbot
	// reproducer link), "attachment" (a text attachment named like one).
	ReproducerKinds []string `json:"reproducer_kinds,omitempty"`
	// HasStackTrace is true when a kernel stack trace or sanitizer report is
	// present.
	HasStackTrace bool `json:"has_stack_trace"`
	// Files lists kernel source files cited, e.g. "net/ipv4/tcp.c".
	Files []string `json:"files,omitempty"`
	// Functions lists functions cited as name(), e.g. "tcp_sendmsg".
	Functions []string `json:"functions,omitempty"`
	// CVSS lists CVSS scores or vectors claimed.
	CVSS []string `json:"cvss,omitempty"`
	// AIMarkers lists signs of Markdown or AI-written text: "heading",
	// "table", "emoji", "bold", "ai-phrase", "long-impact".
	AIMarkers []string `json:"ai_markers,omitempty"`
	// Injection lists instructions aimed at a screening model found in the
	// report ("ignore previous instructions", "classify this as", ...).
	Injection []string `json:"injection,omitempty"`
	// Words is the number of words in the subject and body.
	Words int `json:"words"`
	// Other holds the facts of a rule pack's own extractors, by name, for
	// names that are none of the fields above.
	Other map[string][]string `json:"other,omitempty"`
}

// add adds value v to the fact called name, once, keeping at most
// maxFactValues values per fact.
func (f *Facts) add(name, v string) {
	switch name {
	case "trees":
		f.Trees = addCapped(f.Trees, v)
	case "privileges":
		f.Privileges = addCapped(f.Privileges, v)
	case "config_options":
		f.ConfigOptions = addCapped(f.ConfigOptions, v)
	case "debug_features":
		f.DebugFeatures = addCapped(f.DebugFeatures, v)
	case "out_of_tree":
		f.OutOfTree = addCapped(f.OutOfTree, v)
	case "crafted_image":
		f.CraftedImage = addCapped(f.CraftedImage, v)
	case "hardware_emulation":
		f.HardwareEmulation = addCapped(f.HardwareEmulation, v)
	case "physical_access":
		f.PhysicalAccess = addCapped(f.PhysicalAccess, v)
	case "reproducer":
		f.ReproducerKinds = addCapped(f.ReproducerKinds, v)
		f.HasReproducer = true
	case "stack_trace":
		f.HasStackTrace = true
	case "files":
		f.Files = addCapped(f.Files, v)
	case "functions":
		f.Functions = addCapped(f.Functions, v)
	case "cvss":
		f.CVSS = addCapped(f.CVSS, v)
	case "ai_markers":
		f.AIMarkers = addCapped(f.AIMarkers, v)
	case FactInjection:
		f.Injection = addCapped(f.Injection, v)
	default:
		if f.Other == nil {
			f.Other = map[string][]string{}
		}
		f.Other[name] = addCapped(f.Other[name], v)
	}
}

func addCapped(list []string, s string) []string {
	if len(list) >= maxFactValues || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// Version is one kernel version mentioned in a report.
type Version struct {
	// Text is the version as written, e.g. "6.1.87" or "v6.8-rc3".
	Text string `json:"text"`
	// Series is the major.minor series, e.g. "6.1".
	Series string `json:"series"`
	// Maintained is true when the series was maintained on the report's date.
	// An undated report is judged on the day before the release of the
	// newest series it names as a release candidate, else on the series
	// list's as-of date.
	Maintained bool `json:"maintained"`
	// Vendor is true when the version carries a distribution or vendor
	// suffix (e.g. "5.4.0-150-generic"): its maintenance is the vendor's.
	Vendor bool `json:"vendor,omitempty"`
	// Role says what the text uses the version for: "" for a kernel the
	// reporter ran or names as affected, RoleIntroduced for where the bug
	// came in ("introduced in 4.14", "Fixes: ... (v5.4)"), RoleFixed for a
	// release that carries the fix ("fixed in 6.1.92, 6.6.32"). Only
	// versions the reporter ran say whether the setup is outdated.
	Role string `json:"role,omitempty"`
}

// Roles of a Version.
const (
	RoleIntroduced = "introduced"
	RoleFixed      = "fixed"
)
