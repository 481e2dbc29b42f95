package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/secscreen/secscreen/corpus"
	"github.com/secscreen/secscreen/internal/benchsupport"
	"github.com/secscreen/secscreen/internal/lazydfa"
	"github.com/secscreen/secscreen/internal/progtab"
)

// warmMinShare is the share of the warm-up reports (in percent) that
// must reach a state for warm.bin to hold it.
const warmMinShare = 3

// warmUpEnv names the file TestWarmUpProcess writes warm.bin's data to.
const warmUpEnv = "SECSCREEN_RULES_WARMUP_OUT"

// TestWarmDFAsGenerated fails when warm.bin is not what the warm-up gives
// today (run go generate ./screener/rules); with -update it rewrites the
// file. The warm-up runs in a process of its own (TestWarmUpProcess), so
// that every finder starts there cold, whatever ran before in this one.
func TestWarmDFAsGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine over the corpus's dev split")
	}
	out := filepath.Join(t.TempDir(), "warm.bin")
	cmd := exec.Command(os.Args[0], "-test.run=^TestWarmUpProcess$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), warmUpEnv+"="+out)
	log, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", log)
	t.Logf("%s", log)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	if err := progtab.WriteOrCheck("warm.bin", data, *updateKernelGen); err != nil {
		t.Fatalf("%v: run go generate ./screener/rules", err)
	}
	if *updateKernelGen {
		return
	}
	require.Equal(t, lazydfa.NewWarmSet(string(data)).Len(), warmDFAs().Len(), "the embedded set reads")
	require.NotZero(t, warmDFAs().Len())
	// progtab.Uint32s reads aligned words in place: the DFAs read the
	// snapshots from the binary, no copy.
	require.Zero(t, uintptr(unsafe.Pointer(unsafe.StringData(warmData)))%4, "warm.bin is not aligned for words")
}

// TestWarmUpProcess is the warm-up of warm.bin (see progs.go), run by
// TestWarmDFAsGenerated in a process of its own: the engine evaluates the
// corpus's dev split, every finder starting cold on each report, and the
// states that at least warmMinShare percent of the reports reach are
// written. It logs what share of the states that synthetic reports (of a
// seed the warm-up does not use) reach the set holds.
func TestWarmUpProcess(t *testing.T) {
	out := os.Getenv(warmUpEnv)
	if out == "" {
		t.Skip("run by TestWarmDFAsGenerated")
	}
	var made []*lazydfa.Finder
	finderMade = func(f *lazydfa.Finder) { made = append(made, f) }
	defer func() { finderMade = nil }()
	c, err := corpus.Load(filepath.Join("..", "..", "corpus"))
	require.NoError(t, err)
	var paths []string
	for _, l := range c.Labels {
		if l.SplitOf() == corpus.SplitDev {
			paths = append(paths, c.Path(l))
		}
	}
	reports := readReports(t, paths...)
	e := kernelEngine(t)
	var rec lazydfa.WarmRecorder
	for _, r := range reports {
		e.Evaluate(r)
		rec.Record(made...)
	}
	data := rec.Bytes(max(1, len(reports)*warmMinShare/100))
	require.NoError(t, os.WriteFile(out, data, 0o644))

	var fresh lazydfa.WarmRecorder
	for _, r := range benchsupport.SynthReports(t, 100, 8) {
		e.Evaluate(r)
		fresh.Record(made...)
	}
	reached, held := fresh.Coverage(lazydfa.NewWarmSet(string(data)))
	t.Logf("warm.bin: %d bytes, %d DFAs; of the states synthetic reports reach, %d of %d are in it (%.0f%%)",
		len(data), lazydfa.NewWarmSet(string(data)).Len(), held, reached, 100*float64(held)/float64(max(reached, 1)))
}
