package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// startupSample is one run's cost.
type startupSample struct {
	user, sys, wall time.Duration
	faults          int64 // minor and major page faults
}

// startupBinary is one binary under measurement and its samples.
type startupBinary struct {
	name, path, home string
	samples          []startupSample
}

// startup measures the start-up cost of one or more binaries run with the
// same arguments, taking turns so that a loaded machine's changes of load
// fall on all of them alike.
func startup(args []string) int {
	fs := flag.NewFlagSet("startup", flag.ExitOnError)
	runs := fs.Int("runs", 51, "measured runs per binary")
	warm := fs.Int("warm", 3, "unmeasured runs per binary first (page cache, history file)")
	_ = fs.Parse(args)
	var bins []*startupBinary
	rest := fs.Args()
	for len(rest) > 0 && rest[0] != "--" {
		name, path, ok := strings.Cut(rest[0], "=")
		if !ok {
			name, path = filepath.Base(rest[0]), rest[0]
		}
		bins = append(bins, &startupBinary{name: name, path: path})
		rest = rest[1:]
	}
	if len(bins) == 0 || len(rest) == 0 {
		fmt.Fprintln(os.Stderr, "usage: benchtool startup [-runs N] [-warm N] NAME=BINARY... -- ARGS...")
		return 2
	}
	cmdArgs := rest[1:]
	tmp, err := os.MkdirTemp("", "benchtool-startup-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool startup:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	for i, b := range bins {
		b.home = filepath.Join(tmp, fmt.Sprint(i))
	}
	for round := 0; round < *warm+*runs; round++ {
		for _, b := range bins {
			s, err := runOnce(b, cmdArgs)
			if err != nil {
				fmt.Fprintf(os.Stderr, "benchtool startup: %s: %v\n", b.name, err)
				return 1
			}
			if round >= *warm {
				b.samples = append(b.samples, s)
			}
		}
	}
	fmt.Printf("%d runs each, median [quartiles] in ms: %s\n", *runs, strings.Join(cmdArgs, " "))
	for _, b := range bins {
		pick := func(f func(startupSample) time.Duration) string {
			v := make([]time.Duration, len(b.samples))
			for i, s := range b.samples {
				v[i] = f(s)
			}
			slices.Sort(v)
			ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
			n := len(v)
			return fmt.Sprintf("%5.1f [%5.1f %5.1f]", ms(v[n/2]), ms(v[n/4]), ms(v[(3*n)/4]))
		}
		faults := make([]int64, len(b.samples))
		for i, s := range b.samples {
			faults[i] = s.faults
		}
		slices.Sort(faults)
		fmt.Printf("%-10s cpu %s  user %s  sys %s  wall %s  faults %d\n", b.name,
			pick(func(s startupSample) time.Duration { return s.user + s.sys }),
			pick(func(s startupSample) time.Duration { return s.user }),
			pick(func(s startupSample) time.Duration { return s.sys }),
			pick(func(s startupSample) time.Duration { return s.wall }),
			faults[len(faults)/2])
	}
	return 0
}

// runOnce runs b once with its own XDG directories; exit codes 0 to 5 are
// secscreen's verdicts and count as a run.
func runOnce(b *startupBinary, args []string) (startupSample, error) {
	cmd := exec.Command(b.path, args...)
	cmd.Env = append(os.Environ(),
		"XDG_DATA_HOME="+filepath.Join(b.home, "data"),
		"XDG_CACHE_HOME="+filepath.Join(b.home, "cache"),
		"XDG_STATE_HOME="+filepath.Join(b.home, "state"))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		return startupSample{}, err
	}
	if code := cmd.ProcessState.ExitCode(); code < 0 || code > 5 {
		return startupSample{}, fmt.Errorf("exit %d: %s", code, out)
	}
	s := startupSample{user: cmd.ProcessState.UserTime(), sys: cmd.ProcessState.SystemTime(), wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.faults = ru.Minflt + ru.Majflt
	}
	return s, nil
}
