package ascii

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsWordByteIsRegexpsW(t *testing.T) {
	w := regexp.MustCompile(`^\w$`)
	for c := range 256 {
		assert.Equal(t, w.MatchString(string([]byte{byte(c)})), IsWordByte(byte(c)), "byte %#x", c)
	}
}

func TestLowerKeepsOffsets(t *testing.T) {
	in := "Ünïcode KASAN: Use-After-Free \u212A"
	got := Lower(in)
	assert.Len(t, got, len(in))
	assert.Equal(t, "Ünïcode kasan: use-after-free \u212A", got)
	for i := range len(in) {
		if in[i] >= 0x80 {
			assert.Equal(t, in[i], got[i], "byte %d", i)
		}
	}
	assert.Equal(t, strings.ToLower("ABCxyz_09"), Lower("ABCxyz_09"))
}
