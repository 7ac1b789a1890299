package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestPgxCopyFrom declares a table with CREATE TABLE, bulk-loads 10,000
// rows with pgx CopyFrom (binary COPY) and reads them back.
func TestPgxCopyFrom(t *testing.T) {
	pgAddr := sqlServer(t, "copy_seed")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://fineo@"+pgAddr+"/clients?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE meters (time timestamptz, site text, kwh double precision, pulses bigint, ok boolean) WITH (tags = 'site')`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS meters (time timestamptz)`); err != nil {
		t.Fatal(err)
	}
	var pe *pgconn.PgError
	if _, err := conn.Exec(ctx, `CREATE TABLE meters (time timestamptz)`); !asPgErr(err, &pe) || pe.Code != "42P07" {
		t.Fatalf("duplicate CREATE TABLE: %v", err)
	}
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	const n = 10000
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{base.Add(time.Duration(i/4) * time.Second), fmt.Sprintf("s%d", i%4), float64(i) / 4, int64(i), i%2 == 0}
	}
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"meters"}, []string{"time", "site", "kwh", "pulses", "ok"}, pgx.CopyFromRows(rows))
	if err != nil || copied != n {
		t.Fatalf("CopyFrom: %d %v", copied, err)
	}
	var count, pulses int64
	var kwh float64
	var okCount int64
	var last time.Time
	err = conn.QueryRow(ctx, `SELECT count(*), sum(kwh), max(pulses), count(*) FILTER (WHERE ok), max(time) FROM meters`).Scan(&count, &kwh, &pulses, &okCount, &last)
	if err != nil {
		t.Fatal(err)
	}
	if count != n || kwh != float64(n-1)*n/2/4 || pulses != n-1 || okCount != n/2 || !last.Equal(base.Add((n/4-1)*time.Second)) {
		t.Fatalf("read back: %d %v %d %d %v", count, kwh, pulses, okCount, last)
	}
	var site string
	if err := conn.QueryRow(ctx, `SELECT site, count(*) FROM meters WHERE site = 's3' GROUP BY site`).Scan(&site, &count); err != nil || count != n/4 {
		t.Fatalf("by tag: %s %d %v", site, count, err)
	}
	// A bad value ends the COPY with its SQLSTATE; the connection keeps working.
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"nope"}, []string{"time"}, pgx.CopyFromRows([][]any{{base}}))
	if !asPgErr(err, &pe) || pe.Code != "42P01" {
		t.Fatalf("CopyFrom into a missing table: %v", err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM meters").Scan(&count); err != nil || count != n {
		t.Fatalf("after error: %d %v", count, err)
	}
	// DROP TABLE deletes the table and its rows; the name can be used again.
	if _, err := conn.Exec(ctx, `DROP TABLE meters`); err != nil {
		t.Fatalf("DROP TABLE: %v", err)
	}
	if _, err := conn.Exec(ctx, `SELECT count(*) FROM meters`); !asPgErr(err, &pe) || pe.Code != "42P01" {
		t.Fatalf("select from a dropped table: %v", err)
	}
	if _, err := conn.Exec(ctx, `DROP TABLE meters`); !asPgErr(err, &pe) || pe.Code != "42P01" {
		t.Fatalf("second DROP TABLE: %v", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE meters (time timestamptz, site text, kwh double precision) WITH (tags = 'site')`); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM meters").Scan(&count); err != nil || count != 0 {
		t.Fatalf("re-created table has %d rows (%v)", count, err)
	}
}

func asPgErr(err error, pe **pgconn.PgError) bool {
	return errors.As(err, pe)
}

// TestPsqlCopy loads a CSV file with psql's \copy (into an existing table
// and into a new one) and copies a query out.
func TestPsqlCopy(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed (apt-get install postgresql-client); .ci/run installs it")
	}
	pgAddr := sqlServer(t, "psqlcopy_cpu")
	host, port, _ := strings.Cut(pgAddr, ":")
	run := func(cmd string) (string, error) {
		out, err := exec.Command(psql, "-X", "-A", "-t", "-h", host, "-p", port, "-U", "fineo", "-d", "clients", "-v", "ON_ERROR_STOP=1", "-c", cmd).CombinedOutput()
		return string(out), err
	}
	must := func(cmd string) string {
		t.Helper()
		out, err := run(cmd)
		if err != nil {
			t.Fatalf("psql -c %q: %v\n%s", cmd, err, out)
		}
		return out
	}
	dir := t.TempDir()
	csvFile := filepath.Join(dir, "in.csv")
	data := "time,host,usage\n2024-01-02 00:00:00+00,h7,1.25\n2024-01-02 00:00:01+00,h7,\n2024-01-02 00:00:02+00,\"h,8\",3\n"
	if err := os.WriteFile(csvFile, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := must(`\copy psqlcopy_cpu (time, host, usage) from '` + csvFile + `' with (format csv, header)`); !strings.Contains(out, "COPY 2") {
		t.Fatalf(`\copy from: %q`, out)
	}
	if out := must(`SELECT host, usage FROM psqlcopy_cpu WHERE time >= '2024-01-02' ORDER BY time`); out != "h7|1.25\nh,8|3\n" {
		t.Fatalf("after \\copy from: %q", out)
	}
	// A new table: text columns become tags, numbers fields.
	if out := must(`\copy psqlcopy_new (time, host, usage) from '` + csvFile + `' csv header`); !strings.Contains(out, "COPY 2") {
		t.Fatalf(`\copy into a new table: %q`, out)
	}
	if out := must(`COPY (SELECT host, usage FROM psqlcopy_new ORDER BY time) TO STDOUT WITH (FORMAT csv, HEADER)`); out != "host,usage\nh7,1.25\n\"h,8\",3\n" {
		t.Fatalf("copy out: %q", out)
	}
	if out := must(`\copy (SELECT host, usage FROM psqlcopy_cpu WHERE host = 'h1' ORDER BY time LIMIT 2) to stdout`); out != "h1\t0.5\nh1\t1.5\n" {
		t.Fatalf(`\copy to: %q`, out)
	}
	if out := must(`\copy psqlcopy_new (host) to stdout with (format csv, delimiter ';')`); out != "h7\nh,8\n" && out != "h,8\nh7\n" {
		t.Fatalf(`\copy table to: %q`, out)
	}
	// Bad data names its line.
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("2024-01-03 00:00:00+00,h1,1\n2024-01-03 00:00:01+00,h1,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(`\copy psqlcopy_cpu (time, host, usage) from '` + bad + `' csv`)
	if err == nil || !strings.Contains(out, "22P02") && !strings.Contains(out, "line 2") {
		t.Fatalf("bad data: %v %q", err, out)
	}
	t.Logf("bad data: %s", out)
}
