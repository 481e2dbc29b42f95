package exit

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCodeFindsTheCodeInTheChain(t *testing.T) {
	assert.Equal(t, OK, Code(nil))
	assert.Equal(t, Failure, Code(errors.New("plain")))
	err := Usagef("bad --%s", "flag")
	assert.Equal(t, Usage, Code(err))
	assert.Equal(t, "bad --flag", err.Error())
	wrapped := fmt.Errorf("check: %w", With(Interrupted, errors.New("interrupted")))
	assert.Equal(t, Interrupted, Code(wrapped))
	assert.Equal(t, "check: interrupted", wrapped.Error())
	inner := errors.New("cause")
	assert.ErrorIs(t, With(ModelFailed, inner), inner)
}
