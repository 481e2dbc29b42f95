package rules

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
}
