package main

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/fineod/fineod/internal/pgtest"
)

// TestSQLCommandPrintsTables runs `fineod sql` against a real PostgreSQL
// server: the client speaks plain Postgres wire protocol.
func TestSQLCommandPrintsTables(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	pg := pgtest.Start(t)
	u, _ := url.Parse(pg.DSN("postgres"))
	run := func(stdin string, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		cmd := newRootCmd()
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetIn(strings.NewReader(stdin))
		cmd.SetArgs(append([]string{"sql", "--pg-addr", u.Host, "-d", "postgres", "-U", "postgres"}, args...))
		if err := cmd.Execute(); err != nil {
			t.Fatalf("fineod sql %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	got := run("", "SELECT 1 AS a, 'x, y' AS b UNION ALL SELECT 22, NULL")
	want := "a  | b   \n---+-----\n1  | x, y\n22 |     \n(2 rows)\n"
	if got != want {
		t.Fatalf("table output:\n%q\nwant\n%q", got, want)
	}
	got = run("", "--format", "csv", "SELECT 1 AS a, 'x, y' AS b")
	if got != "a,b\n1,\"x, y\"\n" {
		t.Fatalf("csv output %q", got)
	}
	got = run("CREATE TABLE t (v int);\nINSERT INTO t VALUES (1), (2);\nSELECT sum(v) FROM t;\n")
	if !strings.Contains(got, "CREATE TABLE") || !strings.Contains(got, "INSERT 0 2") || !strings.Contains(got, "3  ") && !strings.Contains(got, "\n3\n") {
		t.Fatalf("stdin statements:\n%s", got)
	}
}
