package screener

import (
	"fmt"
	"github.com/secscreen/secscreen/screener/threatmodel"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/secscreen/secscreen/prompts"
	"github.com/secscreen/secscreen/screener/intake"
)

func TestShotPickerSpreadsVerdictsAndNeverShowsTheReport(t *testing.T) {
	var ex []prompts.Shot
	add := func(verdict, category string, k int) {
		for i := range k {
			id := fmt.Sprintf("%s-%d", verdict, i)
			ex = append(ex, prompts.Shot{Report: &intake.Report{ID: id, Hash: "h-" + id}, Label: threatmodel.Label{Verdict: threatmodel.Verdict(verdict), Category: category}})
		}
	}
	add("security", "isolation.data", 3)
	add("not-security", "privilege.root", 3)
	add("needs-info", "info.missing", 1)
	pick := ShotPicker(ex, 4)

	got := pick(&intake.Report{ID: "other"})
	var verdicts []string
	for _, s := range got {
		verdicts = append(verdicts, string(s.Verdict))
	}
	assert.Equal(t, []string{"security", "not-security", "needs-info", "security"}, verdicts)

	// The screened report is one of the examples: by id, and by content.
	for _, self := range []*intake.Report{{ID: "security-0"}, {ID: "copy", Hash: "h-security-0"}} {
		for _, s := range pick(self) {
			assert.NotEqual(t, "security-0", s.Report.ID)
		}
		assert.Len(t, pick(self), 4)
	}
	assert.Len(t, ShotPicker(ex, 100)(&intake.Report{ID: "x"}), 7, "no more than there are")
	assert.Empty(t, ShotPicker(nil, 3)(&intake.Report{ID: "x"}))
}
