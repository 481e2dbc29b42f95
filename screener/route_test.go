package screener

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/threatmodel"
)

func TestRoutesCoverEveryVerdict(t *testing.T) {
	rt := DefaultRoutes()
	for _, v := range threatmodel.Verdicts {
		assert.NotEmpty(t, rt.Verdicts[v].To, "no route for %s", v)
	}
	for id := range rt.Categories {
		_, ok := threatmodel.Kernel().Clause(id)
		assert.True(t, ok, "route for unknown category %s", id)
	}
}

func TestRouteForNeedsInfoNamesWhatIsMissing(t *testing.T) {
	got := DefaultRoutes().For("needs-info", "info.missing", []string{"version", "reproducer"})
	assert.Contains(t, got, "version, reproducer")
	assert.Contains(t, DefaultRoutes().For("security", "isolation.data", nil), "security@kernel.org")
	assert.Contains(t, DefaultRoutes().For("not-security", "config.out-of-tree", nil), "vendor")
}

func TestSecurityNeverRoutesPublicly(t *testing.T) {
	rt := DefaultRoutes()
	tm := threatmodel.Kernel()
	assert.False(t, rt.Verdicts["security"].Public)
	for _, id := range tm.IDs() {
		if v, _ := tm.VerdictOf(id); v == threatmodel.Security {
			assert.False(t, rt.Of("security", id).Public, id)
		}
	}
	assert.True(t, rt.Of("not-security", "leak.pointer").Public, "ordinary bugs go to the public list")
	assert.False(t, rt.Of("not-security", "config.out-of-tree").Public, "out-of-tree code goes to its vendor")
}

func TestParseRoutesError(t *testing.T) {
	_, err := ParseRoutes([]byte("verdicts: [oops"))
	require.Error(t, err)
	_, err = ParseRoutes([]byte("verdicts:\n  security: {public: false}\n"))
	require.ErrorContains(t, err, "security: no destination")
}
