package corpus

import "github.com/secscreen/secscreen/internal/cliflag"

// CheckFlags are the flags of `secscreen corpus check` (WriteCheck) that
// follow the threat model's: --json, and --max-cue-auc (CheckOptions).
var CheckFlags = []cliflag.Flag{
	{Name: "json", Default: false, Usage: "print the check report as JSON"},
	{Name: "max-cue-auc", Default: DefaultMaxCueAUC,
		Usage: "fail when one surface cue (length, fix line, subject prefix, year...) separates security from the rest with this AUC or more; 0 turns the audit off"},
}

// NewCheckOptions returns the options the flags v give (CheckFlags).
func NewCheckOptions(v cliflag.Values) CheckOptions {
	return CheckOptions{MaxCueAUC: v.Float64("max-cue-auc")}
}
