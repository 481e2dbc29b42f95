// Command benchtool helps scripts/bench measure secscreen:
//
//	benchtool run [-n REPORTS] -- COMMAND ARGS...
//	    runs the command and prints one line: wall seconds, CPU seconds
//	    (user+system), peak RSS in MB, and reports/s when -n is given;
//	    -stamps adds the command's start and end in Unix nanoseconds (to
//	    set against the server's call log).
//	benchtool startup [-runs 51] [-warm 3] NAME=BINARY... -- ARGS...
//	    runs each BINARY with ARGS -runs times, the binaries taking turns
//	    (paired runs on a loaded machine), each with its own XDG data,
//	    cache and state directories, and prints per binary the median,
//	    first and third quartile of user, system and user+system CPU and
//	    of wall time, in milliseconds.
//	benchtool serve [-latency 200ms] [-addr 127.0.0.1:0]
//	    serves an OpenAI-compatible chat-completions endpoint that answers
//	    every request with a valid screening answer after a fixed latency,
//	    and prints its base URL (http://HOST:PORT/v1) on the first line.
//	    GET /bench/calls returns, and forgets, the calls answered so far:
//	    one line per call, when its request had arrived whole and when its
//	    reply was written, in Unix nanoseconds, to see when a client's calls
//	    leave and how long each waits on the server.
//
// It is a measuring aid, not part of secscreen.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool run|startup|serve ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "run":
		os.Exit(run(os.Args[2:]))
	case "startup":
		os.Exit(startup(os.Args[2:]))
	case "serve":
		os.Exit(serve(os.Args[2:]))
	}
	fmt.Fprintln(os.Stderr, "usage: benchtool run|startup|serve ...")
	os.Exit(2)
}

func run(args []string) int {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	n := fs.Int("n", 0, "reports the command handles, for reports/s")
	label := fs.String("label", "", "label printed first")
	stamps := fs.Bool("stamps", false, "print the start and end of the command in Unix nanoseconds")
	_ = fs.Parse(args)
	cmdArgs := fs.Args()
	if len(cmdArgs) == 0 {
		fmt.Fprintln(os.Stderr, "benchtool run: no command")
		return 2
	}
	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "benchtool run:", err)
		return 1
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	var rss float64
	if ru != nil {
		rss = float64(ru.Maxrss) / 1024 // Linux reports KiB
	}
	line := fmt.Sprintf("wall %.3f s  cpu %.3f s  peak RSS %.1f MB", wall.Seconds(), cpu.Seconds(), rss)
	if *n > 0 {
		line += fmt.Sprintf("  %.1f reports/s  %.2f ms CPU/report", float64(*n)/wall.Seconds(), cpu.Seconds()*1000/float64(*n))
	}
	if *stamps {
		line += fmt.Sprintf("  start %d  end %d", start.UnixNano(), start.Add(wall).UnixNano())
	}
	if *label != "" {
		line = *label + ": " + line
	}
	fmt.Println(line)
	if code := cmd.ProcessState.ExitCode(); code > 0 && code != 3 {
		return code
	}
	return 0
}

// answer is a valid answer for the built-in kernel threat model.
const answer = `{"verdict":"not-security","category":"privilege.root","confidence":0.8,` +
	`"attacker_privileges":"root","boundary_crossed":"none","missing_information":[],` +
	`"ai_generated_signs":[],"rationale":"benchmark answer","cited_clauses":["privilege.root"]}`

func serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	latency := fs.Duration("latency", 200*time.Millisecond, "time before each answer")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	_ = fs.Parse(args)

	reply, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": "bench",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": answer}}},
		"usage": map[string]any{"prompt_tokens": 6000, "completion_tokens": 80, "total_tokens": 6080},
	})
	var calls atomic.Int64
	var log callLog
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		arrived := time.Now()
		calls.Add(1)
		time.Sleep(*latency)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(reply)
		log.add(arrived, time.Now())
	})
	mux.HandleFunc("/bench/calls", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(log.take())
	})
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[{"id":"bench","object":"model"}]}`)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool serve:", err)
		return 1
	}
	fmt.Printf("http://%s/v1\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		<-ch
		fmt.Fprintf(os.Stderr, "benchtool serve: %d calls\n", calls.Load())
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "benchtool serve:", err)
		return 1
	}
	return 0
}

// callLog keeps when each call arrived and when its reply was written.
type callLog struct {
	mu    sync.Mutex
	lines []byte
}

func (l *callLog) add(arrived, replied time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = strconv.AppendInt(l.lines, arrived.UnixNano(), 10)
	l.lines = append(l.lines, ' ')
	l.lines = strconv.AppendInt(l.lines, replied.UnixNano(), 10)
	l.lines = append(l.lines, '\n')
}

// take returns the lines logged so far and forgets them.
func (l *callLog) take() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}
