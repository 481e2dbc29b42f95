package history

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The PostgreSQL tests run against a real server: the one named by
// SECSCREEN_TEST_POSTGRES (a DSN whose user may create databases), else
// one this package starts from Debian's postgresql package
// (/usr/lib/postgresql/*/bin) in a temporary directory, on a loopback
// port, as the postgres user when the tests run as root (initdb refuses
// root). They skip, saying why, only when no server can be had.

// pg is the test server, started once for the package.
var pg struct {
	once   sync.Once
	admin  string // DSN of the server's maintenance database
	err    error
	cmd    *exec.Cmd
	exited chan error
	dir    string
	n      atomic.Int32
}

func TestMain(m *testing.M) {
	if target := os.Getenv(helperEnv); target != "" {
		os.Exit(helperWriter(target))
	}
	code := m.Run()
	for _, f := range exits {
		f()
	}
	stopPostgres()
	os.Exit(code)
}

// postgresDSN returns the DSN of a new, empty database on the test server,
// dropped when the test ends, or skips the test saying why there is none.
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn, drop, err := newPostgresDatabase()
	if err != nil {
		t.Skipf("no PostgreSQL server for this test: %v", err)
	}
	t.Cleanup(drop)
	return dsn
}

// newPostgresDatabase creates a database on the test server and returns
// its DSN and a function that drops it.
func newPostgresDatabase() (string, func(), error) {
	pg.once.Do(func() { pg.admin, pg.err = startPostgres() })
	if pg.err != nil {
		return "", nil, pg.err
	}
	name := fmt.Sprintf("secscreen_test_%d_%d", os.Getpid(), pg.n.Add(1))
	db, err := sql.Open("pgx", pg.admin)
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		return "", nil, fmt.Errorf("create test database: %w", err)
	}
	drop := func() {
		db, err := sql.Open("pgx", pg.admin)
		if err == nil {
			db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			db.Close()
		}
	}
	return withDatabase(pg.admin, name), drop, nil
}

// exits are run by TestMain before the server stops.
var exits []func()

func atExit(f func()) { exits = append(exits, f) }

// withDatabase replaces a DSN's database.
func withDatabase(dsn, name string) string {
	base, query, _ := strings.Cut(dsn, "?")
	i := strings.LastIndex(base, "/")
	if i < len("postgres://") {
		base += "/"
		i = len(base) - 1
	}
	out := base[:i+1] + name
	if query != "" {
		out += "?" + query
	}
	return out
}

// postgresBin finds the newest installed server binaries.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server binaries (initdb) under /usr/lib/postgresql/*/bin or on PATH; install Debian's postgresql package (apt-get install postgresql) or set SECSCREEN_TEST_POSTGRES to a server's DSN")
}

// serverCredential is who runs the server: the current user, or, as root,
// the postgres user (or nobody) that the server accepts.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root, and neither a postgres nor a nobody user exists to run the server as")
}

func startPostgres() (string, error) {
	if dsn := os.Getenv("SECSCREEN_TEST_POSTGRES"); dsn != "" {
		return dsn, nil
	}
	bin, err := postgresBin()
	if err != nil {
		return "", err
	}
	cred, err := serverCredential()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "secscreen-pg-")
	if err != nil {
		return "", err
	}
	pg.dir = dir
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return "", err
		}
	}
	as := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGTERM}
		return cmd
	}
	data := filepath.Join(dir, "data")
	var out bytes.Buffer
	initdb := as("initdb", "-D", data, "-U", "secscreen", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	initdb.Stdout, initdb.Stderr = &out, &out
	if err := initdb.Run(); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, lastLines(out.String(), 5))
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return "", err
	}
	defer logf.Close()
	srv := as("postgres", "-D", data, "-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB", "-c", "max_connections=60")
	srv.Stdout, srv.Stderr = logf, logf
	if err := srv.Start(); err != nil {
		return "", fmt.Errorf("start postgres: %w", err)
	}
	pg.cmd = srv
	exited := make(chan error, 1)
	pg.exited = exited
	go func() { exited <- srv.Wait() }()
	admin := fmt.Sprintf("postgres://secscreen@127.0.0.1:%d/postgres?sslmode=disable", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			pg.cmd = nil
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return "", fmt.Errorf("postgres exited (%v): %s", err, lastLines(string(log), 5))
		default:
		}
		db, err := sql.Open("pgx", admin)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err = db.PingContext(ctx)
			cancel()
			db.Close()
			if err == nil {
				return admin, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("postgres did not accept connections within a minute: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func stopPostgres() {
	if pg.cmd != nil {
		pg.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-pg.exited:
		case <-time.After(10 * time.Second):
			pg.cmd.Process.Kill()
			<-pg.exited
		}
	}
	if pg.dir != "" {
		os.RemoveAll(pg.dir)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// PostgresTestDSN is postgresDSN for this package's external tests, which
// run whole screening runs against the test server.
var PostgresTestDSN = postgresDSN
