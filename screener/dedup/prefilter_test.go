package dedup

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/secscreen/secscreen/internal/lazyre"
)

// frameOffset is the regular expression frameOffsetIn reads by hand.
var frameOffset = lazyre.New(`^\s*(?:\[<[0-9a-f]+>\]\s*)?(\?\s+)?([A-Za-z_][\w.]*)\+0x[0-9a-f]+/0x[0-9a-f]+`)

// prefilterLines are lines to check the prefilters on: every line of the
// test reports, and lines made of the fragments the patterns look for, in
// all cases and with the letters case folding brings from outside ASCII.
func prefilterLines(t *testing.T) []string {
	t.Helper()
	var lines []string
	files, err := filepath.Glob(filepath.Join("testdata", "pairs", "*"))
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		lines = append(lines, strings.Split(string(b), "\n")...)
	}
	frags := []string{"On Mon, Bob ", "wrote:", "WROTE:", "Writes:", "ſchrieb:", "Alice a écrit:", "A ÉCRIT:", " ", "\t", "  ",
		"<4>", "[  12.345678]", "[ T123]", "host kernel: ", "kernel:", "Kernel: ", "Call Trace:", "CALL TRACE:", "call trace:",
		"? ", "\v", "\f", "\r", "\n", " <4>", "\t[ 1.000001] ", "foo_bar+0x1a/0x2b0", "foo lib/x.S:9", "[<", ">]", "?", "?\t", "+0x", "/0x", "0x1", "A.b_9", "Zz", "ffff", "é", "a.h:1", "b.c:", "[<ffffffff8100>] ", "RIP: 0010:", "net/sched/cls_route.c", "cls_route.c:123", "fs/ext4/xattr.h",
		"route4_change()", "Re: ", "RE[2]: ", "Fwd:", "FW: ", "aw:", "SV:", "Antw: ", "ſv: ", "[PATCH v2 1/3] ", "[syzbot] ", "CVE-2025-37899", "cve-2024-1234", "Fixes: ", "commit ", "COMMIT ", "1109c00547fcaa", "x", ".", "/", ":", "()",
		"wrote", "WriteS", ":\t", "écrit", "chrieb", "BUG: KASAN: slab-use-after-free in foo_bar", "BUG: soft lockup", "BUG: ", " Read",
		"UBSAN: shift-out-of-bounds in net/x.c:12", "WARNING: CPU: 1 PID: 2 at net/x.c:3 foo+0x1/0x2", "WARNING: suspicious RCU usage",
		"kernel BUG at mm/slub.c:1", "general protection fault", "stack segment", "divide error", "invalid opcode",
		"Unable to handle kernel paging request", "unreferenced object", "list_add corruption", "list_del", "refcount_t: underflow",
		"INFO: task x blocked for more than", "INFO: rcu detected stall", "KASAN", "kernel BUG", "UBSAN"}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		var b strings.Builder
		for range 1 + rng.IntN(6) {
			b.WriteString(frags[rng.IntN(len(frags))])
		}
		lines = append(lines, b.String())
	}
	return lines
}

// Each prefilter may only skip lines its pattern cannot match.
func TestPrefiltersNeverSkipAMatch(t *testing.T) {
	for _, l := range prefilterLines(t) {
		if attribution.MatchString(l) {
			require.True(t, mayAttribute(l), "attribution %q", l)
		}
		stripped := logPrefix.ReplaceAllString(l, "")
		for _, re := range crashHeads {
			if re.MatchString(stripped) {
				h, ok := headLine(l)
				require.True(t, ok, "crash head %q", l)
				require.Equal(t, stripped, h, "crash head %q", l)
				break
			}
		}
		require.Equal(t, logPrefix.ReplaceAllString(l, ""), stripLogPrefix(l), "log prefix %q", l)
		require.Equal(t, strings.TrimSpace(subjectTags.ReplaceAllString(l, "")), Subject(l), "subject %q", l)
		if traceStart.MatchString(l) {
			require.True(t, mayTraceStart(l), "trace start %q", l)
		}
		require.Equal(t, frameOffset.FindStringSubmatch(l), frameOffsetIn(l), "frame %q", l)
		require.Equal(t, frameSymbol.FindStringSubmatch(l), frameSymbolIn(l), "symbol %q", l)
		require.Equal(t, filePath.FindAllString(l, -1), pathsIn(l), "paths %q", l)
		require.Equal(t, filePath.MatchString(l), hasPath(l), "path %q", l)
		if cveID.MatchString(l) {
			require.True(t, containsLower(l, "cve-"), l)
		}
		lower := strings.Map(func(r rune) rune {
			if r >= 'A' && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, l)
		for _, n := range []string{"cve-", "fixes:", "commit", "call trace:", "wrote", "chrieb", "crit", "x", ""} {
			require.Equal(t, strings.Contains(lower, n), containsLower(l, n), "%q in %q", n, l)
		}
		for _, n := range []struct {
			needle string
			at     int
		}{{"cve-", 3}, {"fixes:", 5}, {"commit", 2}, {"commit", 0}, {"x", 0}} {
			require.Equal(t, strings.Contains(lower, n.needle), containsLowerAt(l, n.needle, n.at), "%q in %q", n.needle, l)
		}
		if commitID.MatchString(l) {
			require.True(t, containsLower(l, "fixes:") || containsLower(l, "commit"), l)
		}
	}
}

// Canonical's ASCII path gives what the general one does.
func TestCanonicalASCIIIsCanonical(t *testing.T) {
	slow := func(s string) string {
		return strings.Join(strings.FieldsFunc(strings.ToLower(norm.NFKC.String(s)), unicode.IsSpace), " ")
	}
	for _, l := range append(prefilterLines(t), "", " \t\v\f\r\n ", "A\x00B\x7f", " lead and trail \n") {
		got, ok := appendCanonicalASCII([]byte("kept "), l)
		if !ok {
			require.Equal(t, "kept ", string(got), "nothing is appended to what was there")
			assert.Equal(t, slow(l), Canonical(l))
			continue
		}
		require.Equal(t, "kept "+slow(l), string(got), "%q", l)
	}
}

// frameOffsetIn gives frameOffset's submatches on lines built from every
// combination of the parts a frame has, each right, wrong or missing.
func TestFrameOffsetInIsTheExpression(t *testing.T) {
	parts := [][]string{
		{"", " ", "\t \f", "\v"},
		{"", "[<ffffffff81a0>] ", "[<>] ", "[<FF>]", "[<1f>]x", "[<1f"},
		{"", "? ", "?", "?\t\t", "??"},
		{"foo_bar", "_x.isra.0", "9x", "", "A", "é"},
		{"+0x", "+0X", "+", "-0x", "+0x0x"},
		{"1a", "", "G", "ff"},
		{"/0x", "/", "/0X", "//0x"},
		{"2b0", "", "z", "2b0 [mod]"},
	}
	var build func(i int, prefix string)
	n := 0
	build = func(i int, prefix string) {
		if i == len(parts) {
			n++
			require.Equal(t, frameOffset.FindStringSubmatch(prefix), frameOffsetIn(prefix), "%q", prefix)
			return
		}
		for _, p := range parts[i] {
			build(i+1, prefix+p)
		}
	}
	build(0, "")
	require.Greater(t, n, 10000)
}
