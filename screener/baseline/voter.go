package baseline

import (
	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// Voter returns the offline classifier as the third voter beside a model
// and the rules, or nil when m was trained for another threat model than
// tm (its categories would not be tm's).
func Voter(m *Model, tm *threatmodel.Model, eng *rules.Engine) screener.Classifier {
	if m.ThreatModel != tm.Name {
		return nil
	}
	return NewClassifier(m, eng)
}
