// Command scan times whole-table aggregates (full column scans) on one or
// more Postgres wire targets and reports rows/s and values/s:
//
//	go run ./bench/cmd/scan \
//	    -target rowstore='postgres://bench@127.0.0.1:18432/benchmark?sslmode=disable' \
//	    -target segments='postgres://bench@127.0.0.1:18532/benchmark?sslmode=disable' \
//	    -n 10
//
// Each query (-q, repeatable; default: sum(usage_user), count(*), and the sum
// of all ten usage_* fields over cpu) runs -warmup untimed and -n timed times
// per target over one connection, simple query protocol, the targets taking
// turns per query. Time is from sending the query to the last row.
//
// Throughput: rows/s = the table's rows (SELECT count(*) FROM cpu on the first
// target, or -rows) / the p50 latency; values/s = rows/s x the number of
// distinct usage_* columns the query names (count(*) reads no field: its
// values/s is its rows/s). The first row of every answer is printed, and a
// difference between targets is reported (exit code 3).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, "; ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

var defaultQueries = []string{
	"SELECT sum(usage_user) FROM cpu",
	"SELECT count(*) FROM cpu",
	"SELECT sum(usage_user), sum(usage_system), sum(usage_idle), sum(usage_nice), sum(usage_iowait), sum(usage_irq), sum(usage_softirq), sum(usage_steal), sum(usage_guest), sum(usage_guest_nice) FROM cpu",
}

var fieldRe = regexp.MustCompile(`\busage_[a-z_]+\b`)

// fieldsRead is the number of distinct usage_* columns q names, at least 1.
func fieldsRead(q string) int {
	m := fieldRe.FindAllString(q, -1)
	slices.Sort(m)
	if n := len(slices.Compact(m)); n > 0 {
		return n
	}
	return 1
}

type target struct {
	name, dsn string
	conn      *pgx.Conn
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var targets, queries listFlag
	fs.Var(&targets, "target", "NAME=postgres://…, repeatable")
	fs.Var(&queries, "q", "SQL, repeatable (default: sum(usage_user), count(*), sum of all ten fields over cpu)")
	n := fs.Int("n", 10, "timed runs per query and target")
	warmup := fs.Int("warmup", 2, "untimed runs per query and target first")
	rows := fs.Int64("rows", 0, "rows the queries scan (0: SELECT count(*) FROM cpu on the first target)")
	timeout := fs.Duration("timeout", 10*time.Minute, "per-query timeout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(targets) == 0 || *n < 1 {
		fmt.Fprintln(stderr, "scan: want at least one -target and -n >= 1")
		return 2
	}
	if len(queries) == 0 {
		queries = defaultQueries
	}
	ctx := context.Background()
	var ts []*target
	for _, s := range targets {
		name, dsn, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			fmt.Fprintf(stderr, "scan: -target %q: want NAME=URL\n", s)
			return 2
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			fmt.Fprintf(stderr, "scan: %s: %v\n", name, err)
			return 1
		}
		defer conn.Close(ctx)
		ts = append(ts, &target{name: name, dsn: dsn, conn: conn})
	}
	if *rows == 0 {
		if err := ts[0].conn.QueryRow(ctx, "SELECT count(*) FROM cpu", pgx.QueryExecModeSimpleProtocol).Scan(rows); err != nil {
			fmt.Fprintf(stderr, "scan: counting rows on %s: %v\n", ts[0].name, err)
			return 1
		}
	}

	// once runs q and returns the first row as text and the latency.
	once := func(t *target, q string) (string, time.Duration, error) {
		qctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		start := time.Now()
		r, err := t.conn.Query(qctx, q, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			return "", 0, err
		}
		var first string
		for r.Next() {
			if first == "" {
				// The simple protocol answers in text: the server's own rendering.
				var cols []string
				for _, v := range r.RawValues() {
					cols = append(cols, string(v))
				}
				first = strings.Join(cols, ", ")
			}
		}
		r.Close()
		return first, time.Since(start), r.Err()
	}

	fmt.Fprintf(stdout, "Full scans — %d rows per query, %d timed runs after %d warm-up(s) per query and target\n\n", *rows, *n, *warmup)
	fmt.Fprintln(stdout, "| query | target | answer | mean ms | p50 ms | min ms | rows/s (p50) | values/s (p50) |")
	fmt.Fprintln(stdout, "|---|---|---|---:|---:|---:|---:|---:|")
	rc := 0
	for _, q := range queries {
		answers := map[string]string{}
		for _, t := range ts {
			var ds []time.Duration
			var ans string
			var err error
			for i := 0; i < *warmup+*n && err == nil; i++ {
				var d time.Duration
				ans, d, err = once(t, q)
				if i >= *warmup {
					ds = append(ds, d)
				}
			}
			if err != nil {
				fmt.Fprintf(stderr, "scan: %s: %s: %v\n", t.name, q, err)
				fmt.Fprintf(stdout, "| `%s` | %s | error: %v | | | | | |\n", q, t.name, err)
				rc = 3
				continue
			}
			answers[t.name] = ans
			slices.Sort(ds)
			var sum time.Duration
			for _, d := range ds {
				sum += d
			}
			mean := sum / time.Duration(len(ds))
			p50 := ds[(len(ds)-1)/2]
			rps := float64(*rows) / p50.Seconds()
			fmt.Fprintf(stdout, "| `%s` | %s | %s | %.1f | %.1f | %.1f | %.0f | %.0f |\n", q, t.name, ans,
				ms(mean), ms(p50), ms(ds[0]), rps, rps*float64(fieldsRead(q)))
		}
		for _, t := range ts[1:] {
			if a, ok := answers[t.name]; ok && answers[ts[0].name] != "" && a != answers[ts[0].name] {
				fmt.Fprintf(stderr, "scan: %s answers %q, %s answers %q to %s\n", t.name, a, ts[0].name, answers[ts[0].name], q)
				rc = 3
			}
		}
	}
	return rc
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
