package corpus

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener/intake"
)

func TestReadReportsSetsLabelIDsAndKeepsBadFilesAsErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("labels.jsonl", `{"id":"a","file":"a.eml","verdict":"invalid","category":"invalid.intended"}
{"id":"b","file":"b.txt","verdict":"needs-info","category":"info.missing"}
{"id":"c","file":"missing.txt","verdict":"needs-info","category":"info.missing"}
`)
	write("a.eml", "From: x@example.org\r\nSubject: root can load modules\r\nMessage-ID: <m1@example.org>\r\n\r\nIs this a bug?\r\n")
	write("b.txt", "")
	c, err := Load(dir)
	require.NoError(t, err)
	got, err := c.ReadReports(context.Background(), intake.Options{})
	require.NoError(t, err)
	require.Len(t, got, 3, "one entry per label, in label order")
	require.NoError(t, got[0].Err)
	assert.Equal(t, "a", got[0].Report.ID, "the label's id replaces the Message-ID")
	assert.Equal(t, "root can load modules", got[0].Report.Subject)
	assert.Error(t, got[1].Err, "an empty file is an error, not a report")
	assert.Error(t, got[2].Err, "a missing file is an error")
	assert.Equal(t, "c", got[2].Label.ID)
}

func TestReadReportsRefusesFilesOutsideTheCorpus(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	require.NoError(t, os.WriteFile(secret, []byte("embargoed: do not send anywhere\n"), 0o644))
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "reports"), 0o755))
	require.NoError(t, os.Symlink(secret, filepath.Join(dir, "reports", "link.txt")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "reports", "ok.txt"), []byte("a report\n"), 0o644))
	rel, err := filepath.Rel(dir, secret)
	require.NoError(t, err)
	labels := `{"id":"climb","file":"` + filepath.ToSlash(rel) + `","verdict":"needs-info","category":"info.missing"}
{"id":"abs","file":"` + filepath.ToSlash(secret) + `","verdict":"needs-info","category":"info.missing"}
{"id":"link","file":"reports/link.txt","verdict":"needs-info","category":"info.missing"}
{"id":"ok","file":"reports/ok.txt","verdict":"needs-info","category":"info.missing"}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, LabelsFile), []byte(labels), 0o644))
	c, err := Load(dir)
	require.NoError(t, err)
	got, err := c.ReadReports(context.Background(), intake.Options{})
	require.NoError(t, err)
	require.Len(t, got, 4)
	for _, lr := range got[:3] {
		require.Error(t, lr.Err, lr.Label.ID)
		assert.Nil(t, lr.Report, lr.Label.ID)
		assert.Contains(t, lr.Err.Error(), `label "`+lr.Label.ID+`"`, "the error names the label")
		assert.Regexp(t, `(not inside|leads outside) the corpus directory`, lr.Err.Error())
	}
	require.NoError(t, got[3].Err)
	assert.Equal(t, "a report", got[3].Report.Subject)
}

func TestReadReportsFoldsAThreadIntoOneReport(t *testing.T) {
	dir := t.TempDir()
	thread := "From reporter@example.org Tue Mar  4 10:12:33 2025\n" +
		"From: Ann Reporter <reporter@example.org>\nSubject: tun: crash on attach\nMessage-ID: <r1@example.org>\nDate: Tue, 4 Mar 2025 10:12:33 +0000\n\nThe kernel oopses when I attach.\n\n" +
		"From maint@example.org Tue Mar  4 12:00:00 2025\n" +
		"From: Max Maintainer <maint@example.org>\nSubject: Re: tun: crash on attach\nMessage-ID: <r2@example.org>\nIn-Reply-To: <r1@example.org>\nReferences: <r1@example.org>\nDate: Tue, 4 Mar 2025 12:00:00 +0000\n\n> The kernel oopses when I attach.\nWhich version, and as which user?\n\n" +
		"From reporter@example.org Wed Mar  5 09:00:00 2025\n" +
		"From: Ann Reporter <reporter@example.org>\nSubject: Re: tun: crash on attach\nMessage-ID: <r3@example.org>\nIn-Reply-To: <r2@example.org>\nReferences: <r1@example.org> <r2@example.org>\nDate: Wed, 5 Mar 2025 09:00:00 +0000\n\n6.12.17, as uid 1000 with no capabilities.\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "t.mbox"), []byte(thread), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, LabelsFile),
		[]byte(`{"id":"t","file":"t.mbox","verdict":"security","category":"capability.sys-admin"}`+"\n"), 0o644))
	c, err := Load(dir)
	require.NoError(t, err)
	got, err := c.ReadReports(context.Background(), intake.Options{})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.NoError(t, got[0].Err)
	r := got[0].Report
	assert.Equal(t, "t", r.ID)
	assert.Equal(t, 3, r.ThreadSize)
	assert.Equal(t, "tun: crash on attach", r.Subject, "the root's subject")
	assert.Equal(t, "r1@example.org", r.MessageID)
	assert.Contains(t, r.Body, "The kernel oopses when I attach.")
	assert.Contains(t, r.Body, "----- reply 1: from Max Maintainer <maint@example.org>")
	assert.Contains(t, r.Body, "----- reply 2: from Ann Reporter")
	assert.Contains(t, r.Body, "6.12.17, as uid 1000", "the answer that decides the label is screened")
	assert.Less(t, strings.Index(r.Body, "Which version"), strings.Index(r.Body, "6.12.17"), "replies keep their order")
}

// The bundled corpus read on several goroutines is the corpus read one
// label at a time, in label order.
func TestReadReportsInParallelIsInLabelOrder(t *testing.T) {
	c, err := Load(filepath.Join("..", "corpus"))
	require.NoError(t, err)
	got, err := c.ReadReports(context.Background(), intake.Options{})
	require.NoError(t, err)
	require.Len(t, got, len(c.Labels))
	root, err := realRoot(c.Dir)
	require.NoError(t, err)
	for i, l := range c.Labels {
		want := readLabel(context.Background(), root, &realDirs{}, l, intake.Options{})
		require.Equal(t, want, got[i], l.ID)
	}
}

// The paths ReadReports resolves, each directory once, are resolveInside's
// for every label of the bundled corpus, and for a directory and a file
// reached through links, inside the corpus and out.
func TestLabelPathsAreResolveInsides(t *testing.T) {
	check := func(dir string) {
		t.Helper()
		c, err := Load(dir)
		require.NoError(t, err)
		root, err := realRoot(c.Dir)
		require.NoError(t, err)
		dirs := &realDirs{}
		for _, l := range c.Labels {
			want, wantProblem := "", (*fileProblem)(nil)
			if rel, ok := localPath(l.File); ok {
				want, wantProblem = resolveInside(root, rel)
			}
			got, problem := dirs.labelPath(root, l)
			assert.Equal(t, want, got, l.File)
			if wantProblem != nil {
				require.NotNil(t, problem, l.File)
				assert.Equal(t, *wantProblem, *problem, l.File)
			} else {
				assert.Nil(t, problem, l.File)
			}
		}
	}
	check("../corpus")

	outside := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("embargoed\n"), 0o644))
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "reports", "real"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "reports", "real", "a.txt"), []byte("a report\n"), 0o644))
	require.NoError(t, os.Symlink("real", filepath.Join(dir, "reports", "alias")))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "reports", "away")))
	require.NoError(t, os.Symlink("real/a.txt", filepath.Join(dir, "reports", "b.txt")))
	var labels strings.Builder
	for i, f := range []string{"reports/real/a.txt", "reports/alias/a.txt", "reports/away/secret.txt", "reports/b.txt", "reports/none.txt", "reports/real"} {
		fmt.Fprintf(&labels, `{"id":"l%d","file":%q,"verdict":"needs-info","category":"info.missing"}`+"\n", i, f)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, LabelsFile), []byte(labels.String()), 0o644))
	check(dir)
}
