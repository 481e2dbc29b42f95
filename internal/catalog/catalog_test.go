package catalog

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
)

func TestCatalog(t *testing.T) {
	fsys := fstest.MapFS{
		"t/screen/v1.system.tmpl":    {},
		"t/screen/v10.system.tmpl":   {},
		"t/screen/v2.system.tmpl":    {},
		"t/screen/v2.user.tmpl":      {},
		"t/screen/draft.system.tmpl": {},
		"t/other/v1.system.tmpl":     {},
		"t/stray.system.tmpl":        {},
	}
	c := Read(fsys, "t", ".system.tmpl")
	assert.Equal(t, []string{"v1", "v2", "v10", "draft"}, c["screen"], "numbered versions in order, others after")
	assert.Equal(t, []string{"other@v1", "screen@v1", "screen@v2", "screen@v10", "screen@draft"}, c.List())

	for spec, want := range map[string][2]string{
		"": {"screen", "draft"}, "screen": {"screen", "draft"}, "screen@2": {"screen", "v2"},
		"screen@v10": {"screen", "v10"}, "other": {"other", "v1"},
	} {
		n, v, ok := c.Resolve(spec, "screen")
		assert.True(t, ok, spec)
		assert.Equal(t, want, [2]string{n, v}, spec)
	}
	_, _, ok := c.Resolve("screen@v3", "screen")
	assert.False(t, ok)
	_, _, ok = c.Resolve("nope", "screen")
	assert.False(t, ok)
}

func TestCompareVersions(t *testing.T) {
	assert.Negative(t, CompareVersions("v2", "v10"))
	assert.Positive(t, CompareVersions("v10", "v9"))
	assert.Negative(t, CompareVersions("v3", "draft"))
	assert.Positive(t, CompareVersions("draft", "v3"))
	assert.Negative(t, CompareVersions("alpha", "beta"))
}
