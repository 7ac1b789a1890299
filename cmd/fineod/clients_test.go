package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// sqlServer starts the fineod binary with the Postgres wire server and
// writes 100 rows of table over HTTP into database "clients".
func sqlServer(t *testing.T, table string) (pgAddr string) {
	t.Helper()
	bin := buildBinary(t)
	pgAddr = freeAddr(t)
	s := startServer(t, bin, t.TempDir(), "--pg-addr", pgAddr)
	t.Cleanup(func() { s.kill9(t) })
	var body bytes.Buffer
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 100; i++ {
		// h0: usage 0, 1, ... 49; h1: 0.5, 1.5, ... 49.5; one row per host per second.
		host := i % 2
		usage := float64(i/2) + float64(host)*0.5
		fmt.Fprintf(&body, "%s,host=h%d usage=%g %d\n", table, host, usage, base.Add(time.Duration(i/2)*time.Second).UnixNano())
	}
	resp, err := http.Post("http://"+s.addr+"/write?db=clients", "text/plain", &body)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %v %v", err, resp)
	}
	resp.Body.Close()
	return pgAddr
}

func TestPgxClient(t *testing.T) {
	pgAddr := sqlServer(t, "pgx_cpu")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://fineo@"+pgAddr+"/clients?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Extended protocol with binary results and a parameter.
	var n int64
	var maxUsage float64
	var last time.Time
	err = conn.QueryRow(ctx, "SELECT count(*), max(usage), max(time) FROM pgx_cpu WHERE host = $1", "h1").Scan(&n, &maxUsage, &last)
	if err != nil {
		t.Fatal(err)
	}
	if n != 50 || maxUsage != 49.5 || !last.Equal(time.Date(2024, 1, 1, 0, 0, 49, 0, time.UTC)) {
		t.Fatalf("got %d %v %v", n, maxUsage, last)
	}
	// A batch.
	b := &pgx.Batch{}
	b.Queue("SELECT count(*) FROM pgx_cpu WHERE host = $1", "h0")
	b.Queue("SELECT sum(usage) FROM pgx_cpu")
	br := conn.SendBatch(ctx, b)
	var c0 int64
	var sum float64
	if err := br.QueryRow().Scan(&c0); err != nil {
		t.Fatal(err)
	}
	if err := br.QueryRow().Scan(&sum); err != nil {
		t.Fatal(err)
	}
	br.Close()
	if c0 != 50 || sum != 2475 {
		t.Fatalf("batch: %d %v", c0, sum)
	}
	// Simple protocol.
	rows, err := conn.Query(ctx, "SELECT host, count(*) FROM pgx_cpu GROUP BY host ORDER BY host", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var h string
		var c int64
		rows.Scan(&h, &c)
		got = append(got, fmt.Sprintf("%s=%d", h, c))
	}
	if rows.Err() != nil || strings.Join(got, ",") != "h0=50,h1=50" {
		t.Fatalf("simple protocol: %v %v", got, rows.Err())
	}
	// An error, then the connection keeps working.
	if _, err := conn.Exec(ctx, "SELECT nope FROM pgx_cpu"); err == nil {
		t.Fatal("no error for an unknown column")
	}
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after error: %v", err)
	}
}

func TestPsqlClient(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client); .ci/run installs it")
	}
	pgAddr := sqlServer(t, "psql_cpu")
	host, port, _ := strings.Cut(pgAddr, ":")
	run := func(cmd string) string {
		t.Helper()
		out, err := exec.Command(psql, "-X", "-h", host, "-p", port, "-U", "fineo", "-d", "clients", "-v", "ON_ERROR_STOP=1", "-c", cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("psql -c %q: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
	if out := run(`\dt`); !strings.Contains(out, "psql_cpu") {
		t.Fatalf(`\dt: %s`, out)
	}
	if out := run(`\d psql_cpu`); !strings.Contains(out, "usage") || !strings.Contains(out, "timestamp with time zone") {
		t.Fatalf(`\d: %s`, out)
	}
	if out := run(`\l`); !strings.Contains(out, "clients") {
		t.Fatalf(`\l: %s`, out)
	}
	if out := run(`\dn`); !strings.Contains(out, "public") {
		t.Fatalf(`\dn: %s`, out)
	}
	if out := run(`\copy (SELECT host, usage FROM psql_cpu WHERE host = 'h0' ORDER BY time LIMIT 3) TO STDOUT WITH CSV`); out != "h0,0\nh0,1\nh0,2\n" {
		t.Fatalf(`\copy to: %q`, out)
	}
	out, err := exec.Command(psql, "-X", "-A", "-t", "-h", host, "-p", port, "-U", "fineo", "-d", "clients",
		"-c", "SELECT host, max(usage) FROM psql_cpu GROUP BY host ORDER BY host").CombinedOutput()
	if err != nil || string(out) != "h0|49\nh1|49.5\n" {
		t.Fatalf("query: %v %q", err, out)
	}
}

func TestJDBCClient(t *testing.T) {
	javac, err := exec.LookPath("javac")
	if err != nil {
		t.Skip("javac is not installed (apt-get install default-jdk-headless); .ci/run installs it")
	}
	jar := "/usr/share/java/postgresql.jar"
	if _, err := os.Stat(jar); err != nil {
		t.Skip("pgjdbc is not installed (apt-get install libpostgresql-jdbc-java); .ci/run installs it")
	}
	pgAddr := sqlServer(t, "jdbc_cpu")
	dir := t.TempDir()
	if out, err := exec.Command(javac, "-cp", jar, "-d", dir, "testdata/clients/FineodJdbc.java").CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	out, err := exec.Command("java", "-cp", jar+string(os.PathListSeparator)+dir, "FineodJdbc", "jdbc:postgresql://"+pgAddr+"/clients").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("pgjdbc: %v\n%s", err, out)
	}
	t.Logf("pgjdbc:\n%s", out)
}

func TestPsycopg2Client(t *testing.T) {
	// Debian's python3-psycopg2 installs for the system interpreter.
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("/usr/bin/python3 is not installed; .ci/run installs python3-psycopg2")
	}
	if err := exec.Command(py, "-c", "import psycopg2").Run(); err != nil {
		t.Skip("psycopg2 is not installed (apt-get install python3-psycopg2); .ci/run installs it")
	}
	pgAddr := sqlServer(t, "py_cpu")
	host, port, _ := strings.Cut(pgAddr, ":")
	script, _ := filepath.Abs("testdata/clients/psycopg2_client.py")
	out, err := exec.Command(py, script, fmt.Sprintf("host=%s port=%s dbname=clients user=fineo", host, port)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("psycopg2: %v\n%s", err, out)
	}
}
