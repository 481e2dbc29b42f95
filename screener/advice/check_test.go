package advice

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/screener"
	"github.com/secscreen/secscreen/screener/intake"
	"github.com/secscreen/secscreen/screener/rules"
	"github.com/secscreen/secscreen/screener/threatmodel"
)

// rulesScreener screens with the kernel's rules and, when src is not nil,
// looks the cited code up in it.
func rulesScreener(t *testing.T, src screener.SourceChecker) (*screener.Screener, *threatmodel.Model) {
	t.Helper()
	tm := threatmodel.Kernel()
	set := rules.KernelRules()
	eng, err := rules.NewEngine(tm, set, rules.Options{})
	require.NoError(t, err)
	s, err := screener.New(screener.Config{ThreatModel: tm, Rules: eng, Source: src})
	require.NoError(t, err)
	return s, tm
}

func TestCheckAdvisesOnTheWholeThread(t *testing.T) {
	s, tm := rulesScreener(t, nil)
	report, err := os.ReadFile("testdata/reports/security.eml")
	require.NoError(t, err)
	// The report and a reply to it, in one mbox: one report, the thread's
	// first message.
	mbox := "From a@b Thu Jan  1 00:00:00 2026\n" + string(report) + "\nFrom c@d Thu Jan  1 00:00:00 2026\n" +
		"From: c@d\nSubject: Re: more\nIn-Reply-To: <20260303091402.4411-mira@example.org>\n\nand the reproducer is attached.\n"
	path := filepath.Join(t.TempDir(), "thread.mbox")
	require.NoError(t, os.WriteFile(path, []byte(mbox), 0o644))
	a, err := Check(context.Background(), s, []string{path}, intake.Options{}, Options{ThreatModel: tm})
	require.NoError(t, err)
	single, err := Check(context.Background(), s, []string{"testdata/reports/security.eml"}, intake.Options{}, Options{ThreatModel: tm})
	require.NoError(t, err)
	assert.Equal(t, single.ID, a.ID, "the first message is the report")
	assert.NotEmpty(t, a.Action)
}

func TestCheckFails(t *testing.T) {
	s, tm := rulesScreener(t, nil)
	opt := Options{ThreatModel: tm}
	_, err := Check(context.Background(), s, []string{"testdata/reports/missing.eml"}, intake.Options{}, opt)
	assert.ErrorContains(t, err, "missing.eml")

	empty := t.TempDir() // an empty Maildir read for what is new: no message at all
	for _, sub := range []string{"cur", "new", "tmp"} {
		require.NoError(t, os.Mkdir(filepath.Join(empty, sub), 0o755))
	}
	since, err := intake.LoadSinceState(filepath.Join(t.TempDir(), "state.json"))
	require.NoError(t, err)
	_, err = Check(context.Background(), s, []string{empty}, intake.Options{Format: intake.FormatMaildir, Since: since}, opt)
	assert.EqualError(t, err, empty+": no report found")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Check(ctx, s, []string{"testdata/reports/security.eml"}, intake.Options{}, opt)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestExitCodesOfTheActions(t *testing.T) {
	for a, code := range map[Action]int{SendSecurity: 0, SendOrdinary: 3, FixFirst: 4, DoNotSend: 5} {
		assert.Equal(t, code, a.ExitCode(), a)
	}
}
