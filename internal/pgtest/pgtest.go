// Package pgtest starts a throw-away PostgreSQL 15 server for tests that
// compare fineod with the real thing. It needs the Debian postgresql-15
// package (initdb and postgres under /usr/lib/postgresql/15/bin); without
// it, Start skips the test with a message saying what to install.
package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BinDir is where Debian installs PostgreSQL 15's server binaries.
var BinDir = "/usr/lib/postgresql/15/bin"

// Server is a running PostgreSQL server on 127.0.0.1.
type Server struct {
	Port int
	Dir  string
	user string // OS user that runs the server ("" = the current one)
}

// DSN is a connection string for database db as the superuser "postgres".
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// Start initializes a data directory in a temporary directory, starts
// PostgreSQL on a free loopback port, and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	initdb := filepath.Join(BinDir, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		t.Skipf("PostgreSQL 15 server is not installed (%s missing): apt-get install postgresql-15; .ci/run installs it", initdb)
	}
	s := &Server{}
	// PostgreSQL refuses to run as root: run it as the postgres user.
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		if _, err := user.Lookup("postgres"); err != nil {
			t.Skip("running as root and there is no postgres user to run PostgreSQL as")
		}
		s.user = "postgres"
	}
	base, err := os.MkdirTemp("", "fineod-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	s.Dir = filepath.Join(base, "data")
	if s.user != "" {
		if out, err := exec.Command("chown", "-R", s.user, base).CombinedOutput(); err != nil {
			t.Fatalf("chown %s: %v %s", base, err, out)
		}
	}
	if out, err := s.command(initdb, "-D", s.Dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	opts := strings.Join([]string{
		"-c listen_addresses=127.0.0.1", "-c port=" + strconv.Itoa(s.Port),
		"-c unix_socket_directories=" + base, "-c fsync=off", "-c synchronous_commit=off",
		"-c full_page_writes=off", "-c shared_buffers=256MB", "-c work_mem=64MB",
		"-c max_parallel_workers_per_gather=2", "-c timezone=UTC", "-c log_min_messages=warning",
	}, " ")
	pgctl := filepath.Join(BinDir, "pg_ctl")
	if out, err := s.command(pgctl, "-D", s.Dir, "-o", opts, "-l", filepath.Join(base, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		logb, _ := os.ReadFile(filepath.Join(base, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, logb)
	}
	t.Cleanup(func() {
		s.command(pgctl, "-D", s.Dir, "-m", "immediate", "-w", "stop").Run()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port))
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL did not accept connections: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	if s.user == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("runuser", append([]string{"-u", s.user, "--", name}, args...)...)
}
