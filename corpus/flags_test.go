package corpus

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/secscreen/secscreen/internal/cliflag"
)

func TestCheckOptionsFromTheFlags(t *testing.T) {
	assert.Equal(t, CheckOptions{MaxCueAUC: DefaultMaxCueAUC}, NewCheckOptions(cliflag.Given(CheckFlags, nil)))
	assert.Equal(t, CheckOptions{}, NewCheckOptions(cliflag.Given(CheckFlags, map[string]any{"max-cue-auc": 0.0})), "0 turns the audit off")
}
