package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/fineod/fineod/bench/gen"
	"github.com/fineod/fineod/ingest/lineprotocol"
	"github.com/fineod/fineod/internal/pgtest"
)

var cpuTags = []string{"hostname", "region", "datacenter", "rack", "os", "arch", "team", "service", "service_version", "service_environment"}
var cpuFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// diffData generates the differential data set: DevOps cpu for 10 hosts over
// 6 hours, and a mem table with some NULLs, as line protocol and as rows.
func diffData(t *testing.T) (lp []byte, cpuRows, memRows [][]any) {
	t.Helper()
	cfg := gen.DefaultConfig()
	cfg.Scale = 10
	cfg.Duration = 6 * time.Hour
	var buf bytes.Buffer
	g, err := gen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	lp = buf.Bytes()
	var p lineprotocol.Parser
	p.Reset(lp, lineprotocol.Nanosecond, 0)
	for p.Next() {
		if p.Err() != nil {
			t.Fatal(p.Err())
		}
		row := make([]any, 1+len(cpuTags)+len(cpuFields))
		row[0] = time.Unix(0, p.Time()).UTC()
		for _, tg := range p.Tags() {
			for i, k := range cpuTags {
				if k == string(tg.Key) {
					row[1+i] = string(tg.Value)
				}
			}
		}
		for _, f := range p.Fields() {
			for i, k := range cpuFields {
				if k == string(f.Key) {
					row[1+len(cpuTags)+i] = f.I
				}
			}
		}
		cpuRows = append(cpuRows, row)
	}
	start := gen.DefaultStart
	n := 0
	for ts := start; ts.Before(start.Add(6 * time.Hour)); ts = ts.Add(30 * time.Second) {
		for h := 0; h < 10; h++ {
			n++
			host := fmt.Sprintf("host_%d", h)
			used := any(float64((n*37)%1000) / 10)
			free := float64((n*53)%1000) / 10
			if n%7 == 0 {
				used = nil
				fmt.Fprintf(&buf, "mem,hostname=%s free=%g %d\n", host, free, ts.UnixNano())
			} else {
				fmt.Fprintf(&buf, "mem,hostname=%s used=%g,free=%g %d\n", host, used, free, ts.UnixNano())
			}
			memRows = append(memRows, []any{ts, host, used, free})
		}
	}
	return buf.Bytes(), cpuRows, memRows
}

func loadPostgres(t *testing.T, ctx context.Context, conn *pgx.Conn, cpuRows, memRows [][]any) {
	t.Helper()
	ddl := "CREATE TABLE cpu (time timestamptz NOT NULL"
	for _, k := range cpuTags {
		ddl += ", " + k + " text"
	}
	for _, k := range cpuFields {
		ddl += ", " + k + " bigint"
	}
	ddl += "); CREATE INDEX ON cpu (hostname, time); CREATE TABLE mem (time timestamptz NOT NULL, hostname text, used double precision, free double precision)"
	if _, err := conn.Exec(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	cols := append(append([]string{"time"}, cpuTags...), cpuFields...)
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"cpu"}, cols, pgx.CopyFromRows(cpuRows)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"mem"}, []string{"time", "hostname", "used", "free"}, pgx.CopyFromRows(memRows)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
}

// diffQueries reads testdata/pgdiff.sql.
func diffQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/pgdiff.sql")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") || strings.TrimSpace(line) == "" {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	return out
}

// normalize turns a driver value into a comparable one: numbers become
// float64, times UTC.
func normalize(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	case float64:
		return x
	case pgtype.Numeric:
		f, err := x.Float64Value()
		if err != nil || !f.Valid {
			return nil
		}
		return f.Float64
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f
	case time.Time:
		return x.UTC()
	case pgtype.Interval:
		return time.Duration(x.Microseconds)*time.Microsecond + time.Duration(x.Days)*24*time.Hour
	case []byte:
		return string(x)
	}
	return v
}

func queryAll(ctx context.Context, conn *pgx.Conn, q string) ([][]any, error) {
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		for i := range vals {
			vals[i] = normalize(vals[i])
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

func sameValue(a, b any) bool {
	fa, oka := a.(float64)
	fb, okb := b.(float64)
	if oka && okb {
		if fa == fb {
			return true
		}
		d := math.Abs(fa - fb)
		return d <= 1e-9*math.Max(math.Abs(fa), math.Abs(fb)) || d < 1e-9
	}
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	return a == b
}

func rowKey(r []any) string { return fmt.Sprint(r...) }

// ordered reports whether the query's result order is fixed by a final
// ORDER BY (not one inside a window or subquery).
func ordered(q string) bool {
	u := strings.ToUpper(q)
	i := strings.LastIndex(u, "ORDER BY")
	return i >= 0 && !strings.Contains(u[i:], ")")
}

func compareResults(q string, want, got [][]any) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d rows, PostgreSQL has %d\nfirst fineod rows: %v\nfirst PostgreSQL rows: %v", len(got), len(want), head(got), head(want))
	}
	if !ordered(q) {
		sort.Slice(want, func(i, j int) bool { return rowKey(want[i]) < rowKey(want[j]) })
		sort.Slice(got, func(i, j int) bool { return rowKey(got[i]) < rowKey(got[j]) })
	}
	for i := range want {
		if len(want[i]) != len(got[i]) {
			return fmt.Sprintf("row %d has %d columns, PostgreSQL's has %d", i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if !sameValue(want[i][j], got[i][j]) {
				return fmt.Sprintf("row %d column %d: fineod %#v, PostgreSQL %#v\nfineod row: %v\nPostgreSQL row: %v", i, j, got[i][j], want[i][j], got[i], want[i])
			}
		}
	}
	return ""
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func head(r [][]any) [][]any {
	if len(r) > 3 {
		return r[:3]
	}
	return r
}

// TestDifferentialPostgres loads the same data into PostgreSQL 15 and into
// a fineod server (line protocol over HTTP) and runs every query of
// testdata/pgdiff.sql against both over the Postgres wire protocol,
// comparing the results row for row.
func TestDifferentialPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	bin := buildBinary(t)
	ctx := context.Background()
	lp, cpuRows, memRows := diffData(t)

	pgConn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer pgConn.Close(ctx)
	loadPostgres(t, ctx, pgConn, cpuRows, memRows)

	pgAddr := freeAddr(t)
	s := startServer(t, bin, t.TempDir(), "--pg-addr", pgAddr)
	defer s.kill9(t)
	resp, err := http.Post("http://"+s.addr+"/write?db=bench", "text/plain", bytes.NewReader(lp))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("load fineod: %v %v", err, resp)
	}
	resp.Body.Close()
	fconn, err := pgx.Connect(ctx, "postgres://fineo@"+pgAddr+"/bench?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer fconn.Close(ctx)

	queries := diffQueries(t)
	if len(queries) < 40 {
		t.Fatalf("only %d differential queries", len(queries))
	}
	// The comparison itself must be able to fail.
	if compareResults("SELECT 1", [][]any{{1.0}}, [][]any{{1.5}}) == "" ||
		compareResults("SELECT 1", [][]any{{1.0}}, nil) == "" ||
		compareResults("SELECT 1 ORDER BY 1", [][]any{{1.0}, {2.0}}, [][]any{{2.0}, {1.0}}) == "" {
		t.Fatal("compareResults does not detect differences")
	}
	// The same queries with every row in the row store, with the first
	// half of the data compacted into a segment, and with all of it in
	// segments: the tier a row lives in must never change an answer.
	first, _ := time.Parse(time.RFC3339, "2016-01-01T00:00:00Z")
	states := []struct{ name, query string }{
		{"row store", ""},
		{"half compacted", "before=" + first.Add(3*time.Hour+17*time.Second).Format(time.RFC3339Nano)},
		{"all compacted", "hot_window=0s"},
	}
	for _, st := range states {
		if st.query != "" {
			compactServer(t, s.addr, st.query)
		}
		t.Run(strings.ReplaceAll(st.name, " ", "_"), func(t *testing.T) {
			runDifferential(t, ctx, queries, pgConn, fconn)
		})
	}
}

// compactServer asks the server for a compaction pass and checks that it
// wrote a segment.
func compactServer(t *testing.T, addr, query string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/api/v1/compact?"+query, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"summary"`)) || bytes.Contains(body, []byte(`"segments":0`)) {
		t.Fatalf("compact %s: %s\n%s", query, resp.Status, body)
	}
}

func runDifferential(t *testing.T, ctx context.Context, queries []string, pgConn, fconn *pgx.Conn) {
	failed, compared, errorsCompared := 0, 0, 0
	for i, q := range queries {
		want, perr := queryAll(ctx, pgConn, q)
		got, ferr := queryAll(ctx, fconn, q)
		if perr != nil {
			// An error on PostgreSQL must be the same error on fineod.
			if code := sqlState(perr); code != sqlState(ferr) {
				failed++
				t.Errorf("query %d: PostgreSQL fails with %s (%v), fineod with %q (%v)\n%s", i+1, code, perr, sqlState(ferr), ferr, q)
			}
			errorsCompared++
			continue
		}
		if ferr != nil {
			failed++
			t.Errorf("query %d: fineod: %v\n%s", i+1, ferr, q)
			continue
		}
		compared += len(want)
		if msg := compareResults(q, want, got); msg != "" {
			failed++
			t.Errorf("query %d differs: %s\n%s", i+1, msg, q)
		}
	}
	t.Logf("%d of %d queries identical to PostgreSQL 15 (%d result rows and %d SQLSTATEs compared)", len(queries)-failed, len(queries), compared, errorsCompared)
	if compared < 300 {
		t.Fatalf("only %d result rows compared: the data set did not load", compared)
	}
}
