package docformat

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAcceptsTextAndJSONOnly(t *testing.T) {
	f, err := Parse(" json ")
	require.NoError(t, err)
	assert.Equal(t, JSON, f)
	f, err = Parse("text")
	require.NoError(t, err)
	assert.Equal(t, Text, f)
	_, err = Parse("xml")
	assert.EqualError(t, err, `unknown format "xml" (want one of text, json)`)
}

func TestWriteIndentsJSONOrCallsText(t *testing.T) {
	v := map[string][]int{"a": {1, 2}}
	var b bytes.Buffer
	require.NoError(t, Write(&b, JSON, v, func(io.Writer) error { return errors.New("not text") }))
	assert.Equal(t, "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n", b.String())
	b.Reset()
	require.NoError(t, Write(&b, Text, v, func(w io.Writer) error { _, err := io.WriteString(w, "a: 1 2\n"); return err }))
	assert.Equal(t, "a: 1 2\n", b.String())
}

func TestFlagIsTextUnlessGiven(t *testing.T) {
	f, err := Parse(Flag.Default.(string))
	require.NoError(t, err)
	assert.Equal(t, Text, f)
	assert.Equal(t, []string{"f"}, Flag.Aliases)
}
