package maintainers

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func load(t *testing.T) *File {
	t.Helper()
	f, err := Load("testdata/MAINTAINERS")
	require.NoError(t, err)
	require.Empty(t, f.Warnings)
	return f
}

// names lists the matched sections' names in order.
func names(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Section.Name)
	}
	return out
}

func TestParseSkipsThePreamble(t *testing.T) {
	f := load(t)
	require.Len(t, f.Sections, 9)
	s := f.Sections[1]
	assert.Equal(t, "IO_URING", s.Name)
	assert.Equal(t, []string{"Ring Maintainer <ring@example.org>"}, s.Maintainers)
	assert.Equal(t, []string{"Ring Reviewer <ring-review@example.org>"}, s.Reviewers)
	assert.Equal(t, "Maintained", s.Status)
	assert.Equal(t, []string{"include/linux/io_uring*.h", "io_uring/"}, s.Files)
	assert.Equal(t, []string{"git git://git.example.org/linux.git"}, f.Sections[8].Other["T"])
	assert.True(t, f.Sections[8].CatchAll())
	assert.False(t, s.CatchAll())
}

func TestMostSpecificSectionFirst(t *testing.T) {
	f := load(t)
	ms := f.Match([]string{"net/ipv4/tcp_input.c"}, "")
	assert.Equal(t, []string{"NETWORKING [TCP]", "NETWORKING [IPv4/IPv6]", "NETWORKING [GENERAL]", "THE REST"}, names(ms))
	assert.Equal(t, "F: net/ipv4/tcp*.c", ms[0].By)
	assert.Equal(t, 3, ms[0].Depth)
	assert.Equal(t, -1, ms[3].Depth)
	assert.Equal(t, []string{"net/ipv4/tcp_input.c"}, ms[0].Paths)
}

func TestGlobsStayInTheirDirectory(t *testing.T) {
	f := load(t)
	// net/netfilter/* covers the files in net/netfilter, not below it.
	assert.Equal(t, []string{"NETFILTER", "NETWORKING [GENERAL]", "THE REST"}, names(f.Match([]string{"net/netfilter/nf_tables_api.c"}, "")))
	assert.Equal(t, []string{"NETWORKING [GENERAL]", "THE REST"}, names(f.Match([]string{"net/netfilter/xt/xt_foo.c"}, "")))
	// The tcp*.c glob needs the same number of slashes.
	assert.NotContains(t, names(f.Match([]string{"net/ipv4/tcp/more.c"}, "")), "NETWORKING [TCP]")
	// A wildcard in a file name.
	assert.Equal(t, "IO_URING", f.Match([]string{"include/linux/io_uring_types.h"}, "")[0].Section.Name)
}

func TestExclusionsAreTestedFirst(t *testing.T) {
	f := load(t)
	// NETWORKING [GENERAL] has F: net/ but X: net/bluetooth/.
	assert.Equal(t, []string{"BLUETOOTH SUBSYSTEM", "THE REST"}, names(f.Match([]string{"net/bluetooth/l2cap_core.c"}, "")))
	// ... and X: net/ipv4/netfilter/, which NETFILTER and IPv4 still cover.
	assert.Equal(t, []string{"NETFILTER", "NETWORKING [IPv4/IPv6]", "THE REST"}, names(f.Match([]string{"net/ipv4/netfilter/arp_tables.c"}, "")))
	// NETFILTER excludes ipvs (which the glob would not reach anyway).
	assert.NotContains(t, names(f.Match([]string{"net/netfilter/ipvs/ip_vs_core.c"}, "")), "NETFILTER")
}

func TestRegexesMatchPaths(t *testing.T) {
	f := load(t)
	ms := f.Match([]string{"drivers/gpu/host1x/tegra-foo.c"}, "")
	require.Equal(t, []string{"TEGRA ARCHITECTURE SUPPORT", "THE REST"}, names(ms))
	assert.Equal(t, "N: [^a-z]tegra", ms[0].By)
	assert.Equal(t, 0, ms[0].Depth)
	// [^a-z]tegra: "integrator" is not Tegra.
	assert.NotContains(t, names(f.Match([]string{"drivers/misc/integrator.c"}, "")), "TEGRA ARCHITECTURE SUPPORT")
}

func TestKeywordsMatchTheTextAfterFiles(t *testing.T) {
	f := load(t)
	ms := f.Match([]string{"net/ipv4/tcp.c"}, "the reproducer calls io_uring_setup() first")
	require.Equal(t, []string{"NETWORKING [TCP]", "NETWORKING [IPv4/IPv6]", "NETWORKING [GENERAL]", "THE REST", "IO_URING"}, names(ms))
	last := ms[len(ms)-1]
	assert.True(t, last.Keyword)
	assert.Equal(t, `K: \bio_uring_(?:setup|enter|register)\b`, last.By)
	// A section a file matched is not listed again for its keyword.
	ms = f.Match([]string{"io_uring/rsrc.c"}, "io_uring_register")
	assert.Equal(t, []string{"IO_URING", "THE REST"}, names(ms))
	assert.False(t, ms[0].Keyword)
}

func TestSeveralFilesMergeSections(t *testing.T) {
	f := load(t)
	ms := f.Match([]string{"b/net/ipv6/route.c", "./net/ipv4/tcp.c", "net/ipv6/route.c"}, "")
	assert.Equal(t, []string{"NETWORKING [TCP]", "NETWORKING [IPv4/IPv6]", "NETWORKING [GENERAL]", "THE REST"}, names(ms))
	assert.Equal(t, []string{"net/ipv6/route.c", "net/ipv4/tcp.c"}, ms[1].Paths)
}

func TestRecipients(t *testing.T) {
	f := load(t)
	r := RecipientsOf(f.Match([]string{"net/ipv4/tcp.c"}, ""))
	assert.Equal(t, []string{"Tcp Maintainer <tcp@example.org>", "Ip Maintainer <ip@example.org>", `"Net Maintainer" <net@example.org>`, "Second Net <net2@example.org>"}, r.Maintainers,
		"the catch-all section's maintainer is left out when a specific one exists")
	assert.Equal(t, []string{"netdev@vger.example.org", "linux-kernel@vger.kernel.org"}, r.Lists)
	assert.Empty(t, r.Orphans)

	r = RecipientsOf(f.Match([]string{"drivers/misc/widget.c"}, ""))
	assert.Equal(t, []string{"Top Maintainer <top@example.org>"}, r.Maintainers, "no specific maintainer: the catch-all's")
	assert.Equal(t, []string{"OLD WIDGET DRIVER"}, r.Orphans)
	assert.Equal(t, []string{"linux-kernel@vger.kernel.org"}, r.Lists)

	r = RecipientsOf(f.Match([]string{"net/ipv4/netfilter/arp_tables.c"}, ""))
	assert.Contains(t, r.Lists, "coreteam@netfilter.example.org", "list remarks are dropped")
}

func TestUnknownPathsMatchOnlyTheCatchAll(t *testing.T) {
	f := load(t)
	assert.Equal(t, []string{"THE REST"}, names(f.Match([]string{"fs/ext4/inode.c"}, "")))
	assert.Equal(t, []string{"THE REST"}, names(f.Match([]string{"Makefile"}, "")), "F: * covers top-level files")
	assert.Empty(t, f.Match([]string{""}, ""))
}

func TestDirectoryWithoutSlash(t *testing.T) {
	f, err := Parse(strings.NewReader("FOO DRIVER\nM:\tA <a@example.org>\nF:\tdrivers/foo\n"))
	require.NoError(t, err)
	assert.Len(t, f.Match([]string{"drivers/foo/core.c"}, ""), 1, "an F: path without a dot names a directory")
	assert.Empty(t, f.Match([]string{"drivers/foobar/core.c"}, ""))
}

func TestBadRegexIsAWarningNotAFailure(t *testing.T) {
	f, err := Parse(strings.NewReader("FOO\nM:\tA <a@example.org>\nN:\tfoo(?=bar)\nK:\t(?<!x)y\nF:\tfoo/\n"))
	require.NoError(t, err)
	require.Len(t, f.Warnings, 2)
	assert.Contains(t, f.Warnings[0], "line 3: FOO: N:")
	assert.Len(t, f.Match([]string{"foo/x.c"}, "y"), 1)
}

func TestExtendedPatternsIgnoreSpaces(t *testing.T) {
	f, err := Parse(strings.NewReader("FOO\nM:\tA <a@example.org>\nK:\t\\b (printk | pr_err) \\b\nK:\t[ ]x\n"))
	require.NoError(t, err)
	assert.Len(t, f.Match(nil, "calls pr_err here"), 1)
	assert.Len(t, f.Match(nil, "a x"), 1, "a space inside a class is kept")
}

func TestNoSectionsIsAnError(t *testing.T) {
	_, err := Parse(strings.NewReader("just prose\n\tM: indented, as in the preamble\n"))
	assert.ErrorContains(t, err, "no sections")
	_, err = Load("testdata/nope")
	assert.Error(t, err)
}
