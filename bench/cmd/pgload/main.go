// Command pgload loads DevOps cpu line protocol (bench/cmd/gen -use-case
// cpu-only) into a PostgreSQL table with COPY, the way the query benchmark
// compares against it:
//
//	go run ./bench/cmd/pgload -file /tmp/cpu.lp -dsn 'postgres://postgres@127.0.0.1:15432/benchmark?sslmode=disable'
//
// It (re)creates the table cpu (time timestamptz, the ten tags as text, the
// ten usage_* fields as bigint), streams every line through one COPY
// (pgx CopyFrom, binary format), then creates the indexes on
// (hostname, time DESC) and (time DESC) — after the load, which is faster
// than maintaining them row by row — and runs VACUUM ANALYZE so the planner
// has statistics and the visibility map is set. The timings of the three
// phases are printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fineod/fineod/ingest/lineprotocol"
)

// Columns of the cpu table, in order.
var (
	cpuTags   = []string{"hostname", "region", "datacenter", "rack", "os", "arch", "team", "service", "service_version", "service_environment"}
	cpuFields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
)

// Columns returns the column names of the cpu table in order.
func Columns() []string {
	return append(append([]string{"time"}, cpuTags...), cpuFields...)
}

// CreateTable is the DDL of the cpu table.
func CreateTable() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE cpu (time timestamptz NOT NULL")
	for _, t := range cpuTags {
		b.WriteString(", " + t + " text")
	}
	for _, f := range cpuFields {
		b.WriteString(", " + f + " bigint")
	}
	b.WriteString(")")
	return b.String()
}

// Indexes are created after the load.
var Indexes = []string{
	"CREATE INDEX cpu_hostname_time_idx ON cpu (hostname, time DESC)",
	"CREATE INDEX cpu_time_idx ON cpu (time DESC)",
}

// lpSource turns cpu line protocol into COPY rows.
type lpSource struct {
	p    lineprotocol.Parser
	row  []any
	rows int64
	err  error
}

func newSource(buf []byte) *lpSource {
	s := &lpSource{row: make([]any, 1+len(cpuTags)+len(cpuFields))}
	s.p.Reset(buf, lineprotocol.Nanosecond, 0)
	return s
}

func index(names []string, key []byte) int {
	for i, n := range names {
		if n == string(key) {
			return i
		}
	}
	return -1
}

// Next parses the next cpu line into the row: tags and fields go to their
// columns by name, missing ones are NULL; other measurements, unknown keys and
// non-integer fields are errors, so that a data set that does not match the
// table is noticed instead of loaded half.
func (s *lpSource) Next() bool {
	if s.err != nil || !s.p.Next() {
		return false
	}
	if e := s.p.Err(); e != nil {
		s.err = e
		return false
	}
	if m := string(s.p.Measurement()); m != "cpu" {
		s.err = fmt.Errorf("line %d: measurement %q, want cpu", s.p.LineNumber(), m)
		return false
	}
	for i := range s.row {
		s.row[i] = nil
	}
	s.row[0] = time.Unix(0, s.p.Time()).UTC()
	for _, t := range s.p.Tags() {
		i := index(cpuTags, t.Key)
		if i < 0 {
			s.err = fmt.Errorf("line %d: unknown tag %q", s.p.LineNumber(), t.Key)
			return false
		}
		s.row[1+i] = string(t.Value)
	}
	for _, f := range s.p.Fields() {
		i := index(cpuFields, f.Key)
		if i < 0 {
			s.err = fmt.Errorf("line %d: unknown field %q", s.p.LineNumber(), f.Key)
			return false
		}
		switch f.Type {
		case lineprotocol.Int:
			s.row[1+len(cpuTags)+i] = f.I
		default:
			s.err = fmt.Errorf("line %d: field %s is %s, want integer (generate without -cpu-float)", s.p.LineNumber(), f.Key, f.Type)
			return false
		}
	}
	s.rows++
	return true
}

func (s *lpSource) Values() ([]any, error) { return s.row, nil }
func (s *lpSource) Err() error             { return s.err }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pgload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "", "line protocol file (cpu-only data set)")
	dsn := fs.String("dsn", "", "PostgreSQL connection string; the database must exist")
	noIndex := fs.Bool("no-index", false, "skip the indexes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" || *dsn == "" {
		fmt.Fprintln(stderr, "pgload: -file and -dsn are required")
		return 2
	}
	if err := load(context.Background(), *file, *dsn, *noIndex, stdout); err != nil {
		fmt.Fprintf(stderr, "pgload: %v\n", err)
		return 1
	}
	return 0
}

func load(ctx context.Context, file, dsn string, noIndex bool, out io.Writer) error {
	buf, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, q := range []string{"DROP TABLE IF EXISTS cpu", CreateTable()} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	t0 := time.Now()
	src := newSource(buf)
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"cpu"}, Columns(), src)
	if err == nil {
		err = src.err
	}
	if err != nil {
		return fmt.Errorf("COPY: %w", err)
	}
	if n != src.rows {
		return errors.New("COPY: row count mismatch")
	}
	dCopy := time.Since(t0)
	fmt.Fprintf(out, "pgload: COPY %d rows in %.2f s (%.0f rows/s)\n", n, dCopy.Seconds(), float64(n)/dCopy.Seconds())
	if !noIndex {
		t1 := time.Now()
		for _, q := range Indexes {
			if _, err := conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		fmt.Fprintf(out, "pgload: indexes in %.2f s\n", time.Since(t1).Seconds())
	}
	t2 := time.Now()
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE cpu"); err != nil {
		return fmt.Errorf("VACUUM ANALYZE: %w", err)
	}
	fmt.Fprintf(out, "pgload: VACUUM ANALYZE in %.2f s\n", time.Since(t2).Seconds())
	return nil
}
