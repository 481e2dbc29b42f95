package charset

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestSecscreenLinksNoIndex: the secscreen command does not link the
// indexes this package replaces, nor go-message's charset package, whose
// initialisation built their maps at every start.
func TestSecscreenLinksNoIndex(t *testing.T) {
	const cmd = "github.com/secscreen/secscreen/cmd/secscreen"
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", cmd).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", cmd, err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/secscreen/secscreen/screener/intake/charset") {
		t.Fatalf("%s does not link this package; the list is wrong: %q", cmd, deps)
	}
	for _, pkg := range []string{"golang.org/x/text/encoding/ianaindex", "golang.org/x/text/encoding/htmlindex", "github.com/emersion/go-message/charset"} {
		if slices.Contains(deps, pkg) {
			t.Errorf("%s links %s", cmd, pkg)
		}
	}
}
