package rules

// Facts holds what the extractors read from a report; rules, decisions and
// outputs share it. (The rules issue fills in the extractors.)
type Facts struct {
	// Versions lists the kernel versions mentioned.
	Versions []Version `json:"versions,omitempty"`
	// Privileges lists the privileges the report says are needed: "root",
	// "unprivileged", "userns", or CAP_* names.
	Privileges []string `json:"privileges,omitempty"`
	// ConfigOptions lists the CONFIG_* options mentioned.
	ConfigOptions []string `json:"config_options,omitempty"`
	// DebugFeatures lists debugging and sanitizer features mentioned.
	DebugFeatures []string `json:"debug_features,omitempty"`
	// HasReproducer is true when a reproducer (C source, syz program, shell
	// steps) is present.
	HasReproducer bool `json:"has_reproducer"`
	// HasStackTrace is true when a kernel stack trace or sanitizer report is
	// present.
	HasStackTrace bool `json:"has_stack_trace"`
}

// Version is one kernel version mentioned in a report.
type Version struct {
	// Text is the version as written, e.g. "6.1.87".
	Text string `json:"text"`
	// Series is the major.minor series, e.g. "6.1".
	Series string `json:"series"`
	// Maintained is true when the series is maintained per the series list.
	Maintained bool `json:"maintained"`
}
