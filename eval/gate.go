package eval

import (
	"fmt"
	"strings"
)

// GateError lists every threshold a run missed.
type GateError struct {
	// Missed has one line per missed threshold.
	Missed []string
}

// Error lists the missed thresholds on one line.
func (e *GateError) Error() string {
	return "evaluation below threshold: " + strings.Join(e.Missed, "; ")
}

// Gate checks the final decision's scores against the thresholds of the
// run's Options (MinAccuracy, MinSecurityRecall, MinMacroF1; zero disables
// one) and returns a *GateError naming every threshold missed, or nil. An
// undefined score (for example security recall on a corpus without security
// reports) misses any threshold set on it.
func (r *Run) Gate() error {
	var missed []string
	check := func(name string, got Num, min float64) {
		if min <= 0 {
			return
		}
		if !got.Defined() || float64(got) < min {
			missed = append(missed, fmt.Sprintf("%s %s < %.3f", name, got, min))
		}
	}
	check("accuracy", r.Final.Accuracy, r.Options.MinAccuracy)
	check("security recall", r.Final.SecurityRecall, r.Options.MinSecurityRecall)
	check("macro-F1", r.Final.MacroF1, r.Options.MinMacroF1)
	if len(missed) > 0 {
		return &GateError{Missed: missed}
	}
	return nil
}
