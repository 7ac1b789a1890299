package pgwire

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func runPsql(t *testing.T, ts *testServer, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not on PATH; install postgresql-client to run this test")
	}
	host, port, _ := net.SplitHostPort(ts.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"-X", "-h", host, "-p", port, "-U", "tester", "-d", "db", "-v", "ON_ERROR_STOP=1"}, args...)...)
	cmd.Env = append(os.Environ(), "PGSSLMODE=prefer", "PGCONNECT_TIMEOUT=5", "PGTZ=UTC")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestPsql(t *testing.T) {
	ts := startServer(t, nil)
	if got := runPsql(t, ts, "-A", "-t", "-c", "select 1"); got != "1\n" {
		t.Errorf("select 1: %q", got)
	}
	got := runPsql(t, ts, "-c", "select * from metrics")
	for _, want := range []string{"2024-03-01 12:00:01+00 | b", "-3e+20", "(3 rows)"} {
		if !strings.Contains(got, want) {
			t.Errorf("select * from metrics: missing %q in\n%s", want, got)
		}
	}
	got = runPsql(t, ts, "-c", `\copy metrics to stdout`)
	want := "2024-03-01 12:00:00+00\ta\t1.5\t1\n" +
		"2024-03-01 12:00:01+00\tb\t2.25\t\\N\n" +
		"2024-03-01 12:00:02+00\ttab\\there\t-3e+20\t-7\n"
	if got != want {
		t.Errorf("\\copy to stdout: got %q want %q", got, want)
	}
	got = runPsql(t, ts, "-c", `\copy metrics (host, value) to stdout with (format csv, header)`)
	if want := "host,value\na,1.5\nb,2.25\ntab\there,-3e+20\n"; got != want {
		t.Errorf("\\copy csv: got %q want %q", got, want)
	}
	// \copy from a file, then read it back.
	file := t.TempDir() + "/in.csv"
	if err := os.WriteFile(file, []byte("a,b\n1,x\n2,\"y,z\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runPsql(t, ts, "-c", `\copy target (a, b) from '`+file+`' with (format csv, header)`); got != "COPY 2\n" {
		t.Errorf("\\copy from: %q", got)
	}
	if got := runPsql(t, ts, "-A", "-t", "-c", "select a, b from target"); got != "1|x\n2|y,z\n" {
		t.Errorf("rows after \\copy: %q", got)
	}
	// Errors are reported with their SQLSTATE (in verbose mode).
	path, _ := exec.LookPath("psql")
	host, port, _ := net.SplitHostPort(ts.addr)
	out, err := exec.Command(path, "-X", "-h", host, "-p", port, "-U", "tester", "-d", "db",
		"-v", "VERBOSITY=verbose", "-c", "select * from nope").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "42P01") {
		t.Errorf("error: %v %s", err, out)
	}
}
