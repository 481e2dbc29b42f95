package baseline

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/secscreen/secscreen/internal/atomicfile"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// SaveFile writes the model to path as Save does, atomically: a failed
// write never leaves a half-written model.
func (m *Model) SaveFile(path string) error {
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("save baseline model: %w", err)
	}
	return nil
}

// WriteTrainSummary says what was trained on ex (skipped reports left
// out) of split for tm: the examples per verdict, the categories and
// features learned, the held-out figures of calibration and the model's
// fingerprint.
func WriteTrainSummary(w io.Writer, m *Model, ex []Example, skipped int, tm *threatmodel.Model, split string) error {
	perVerdict := map[threatmodel.Verdict]int{}
	for _, e := range ex {
		perVerdict[e.Verdict]++
	}
	var parts []string
	for _, v := range threatmodel.Verdicts {
		if n := perVerdict[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", v, n))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "trained %s on %d reports of the %s split (%s), %d skipped\n", m.Kind, len(ex), split, strings.Join(parts, ", "), skipped)
	fmt.Fprintf(&b, "threat model %s: %d of %d categories learned, %d features", tm.Name, len(m.Classes), len(tm.Clauses), m.Stats.Features)
	if m.Kind == KindLogReg {
		fmt.Fprintf(&b, ", lambda %g", m.Lambda)
	}
	b.WriteString("\n")
	st := m.Stats
	fmt.Fprintf(&b, "held out (%d folds): verdict accuracy %.3f", m.Options.Folds, st.CVVerdictAccuracy)
	if st.CVCategoryAccuracy > 0 {
		fmt.Fprintf(&b, ", category accuracy %.3f", st.CVCategoryAccuracy)
	}
	fmt.Fprintf(&b, ", macro-F1 %.3f, security recall %.3f, precision %.3f, log-loss %.3f, ECE %.3f\n",
		st.CVMacroF1, st.CVSecurityRecall, st.CVSecurityPrecision, st.CVLogLoss, st.CVECE)
	fmt.Fprintf(&b, "calibration: temperature %g; security when P(security) >= %.2f (target recall %.2f)\n",
		m.Temperature, m.SecurityThreshold, m.Options.TargetRecall)
	fmt.Fprintf(&b, "fingerprint %s\n", m.Fingerprint)
	_, err := io.WriteString(w, b.String())
	return err
}
