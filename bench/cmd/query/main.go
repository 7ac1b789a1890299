// Command query runs the TSBS DevOps query types against several targets —
// fineod and PostgreSQL over the Postgres wire protocol, InfluxDB 1.x over
// HTTP — with the same deterministic random parameters, and reports latency
// per query type and target as markdown.
//
//	go run ./bench/cmd/query \
//	    -target fineod='postgres://bench@127.0.0.1:18432/benchmark?sslmode=disable' \
//	    -target postgres='postgres://postgres@127.0.0.1:15432/benchmark?sslmode=disable' \
//	    -target influxdb='http://127.0.0.1:18086?db=benchmark'
//
// Every query type runs -warmup untimed queries and then -n timed ones per
// target, one at a time over one connection; the targets take turns per
// query type. SQL targets get the literal text over the simple query
// protocol. With -prepared (default), SQL targets also run the types marked
// Prepared a second time as prepared statements with parameters, which
// shows what parsing and planning cost end to end.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

type targetList []Target

func (l *targetList) String() string { return fmt.Sprint(len(*l)) }
func (l *targetList) Set(s string) error {
	t, err := ParseTarget(s)
	if err != nil {
		return err
	}
	for _, o := range *l {
		if o.Name == t.Name {
			return fmt.Errorf("target %s given twice", t.Name)
		}
	}
	*l = append(*l, t)
	return nil
}

// Result is the measurement of one query type on one target in one mode.
type Result struct {
	Target   string    `json:"target"`
	Type     string    `json:"type"`
	Mode     string    `json:"mode"`
	Millis   []float64 `json:"ms"`   // per timed query, in order
	Rows     []int     `json:"rows"` // per timed query
	Error    string    `json:"error,omitempty"`
	Mean     float64   `json:"mean_ms"`
	P50      float64   `json:"p50_ms"`
	P95      float64   `json:"p95_ms"`
	Min      float64   `json:"min_ms"`
	Max      float64   `json:"max_ms"`
	QPS      float64   `json:"queries_per_s"`
	RowsMean float64   `json:"rows_mean"`
}

// Percentile returns the nearest-rank percentile p (0 < p <= 100) of xs.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}

func (r *Result) finish() {
	if len(r.Millis) == 0 {
		return
	}
	sum, rows := 0.0, 0
	for i, m := range r.Millis {
		sum += m
		rows += r.Rows[i]
	}
	r.Mean = sum / float64(len(r.Millis))
	r.P50 = Percentile(r.Millis, 50)
	r.P95 = Percentile(r.Millis, 95)
	r.Min = slices.Min(r.Millis)
	r.Max = slices.Max(r.Millis)
	r.QPS = float64(len(r.Millis)) / (sum / 1000)
	r.RowsMean = float64(rows) / float64(len(r.Rows))
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var targets targetList
	fs.Var(&targets, "target", "NAME=URL, repeatable: postgres://… (Postgres wire) or http://host:port?db=NAME (InfluxDB 1.x)")
	n := fs.Int("n", 20, "timed queries per query type and target")
	warmup := fs.Int("warmup", 2, "untimed queries per query type and target before the timed ones (their own parameters)")
	seed := fs.Uint64("seed", 1, "seed of the query parameters")
	scale := fs.Int("scale", 100, "hosts in the data set")
	startS := fs.String("start", "2016-01-01T00:00:00Z", "first timestamp of the data set (RFC 3339)")
	duration := fs.Duration("duration", 24*time.Hour, "span of the data set")
	types := fs.String("queries", "", "comma-separated query types (default: all): "+typeNames())
	prepared := fs.Bool("prepared", true, "also run the types marked for it as prepared statements on SQL targets")
	base := fs.String("base", "", "target whose mean the ratio columns divide (default: the first)")
	jsonOut := fs.String("json", "", "also write every measurement to this file as JSON")
	timeout := fs.Duration("timeout", 10*time.Minute, "per-query timeout")
	waitRows := fs.Int64("wait-rows", 0, "before measuring, wait until every target counts this many cpu rows (0 = don't check)")
	waitTimeout := fs.Duration("wait-timeout", 5*time.Minute, "how long -wait-rows waits")
	printQ := fs.Bool("print", false, "print the first timed query of each type in each dialect and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	start, err := time.Parse(time.RFC3339, *startS)
	if err != nil {
		fmt.Fprintf(stderr, "query: -start: %v\n", err)
		return 2
	}
	ds := Dataset{Scale: *scale, Start: start.UTC(), Duration: *duration, Seed: *seed}
	sel, err := selectTypes(*types, ds)
	if err != nil {
		fmt.Fprintf(stderr, "query: %v\n", err)
		return 2
	}
	if *printQ {
		for _, t := range sel {
			q := Generate(ds, t, *warmup+1)[*warmup]
			p, a := t.SQLParams(q)
			fmt.Fprintf(stdout, "## %s\n\nSQL:      %s\nprepared: %s  %v\nInfluxQL: %s\n\n", t.Name, t.SQL(q), p, a, t.InfluxQL(q))
		}
		return 0
	}
	if len(targets) == 0 {
		fmt.Fprintln(stderr, "query: no -target given")
		return 2
	}
	if *n < 1 || *warmup < 0 {
		fmt.Fprintln(stderr, "query: -n must be >= 1 and -warmup >= 0")
		return 2
	}
	if *base == "" {
		*base = targets[0].Name
	}

	ctx := context.Background()
	versions := map[string]string{}
	for i := range targets {
		if err := targets[i].Connect(ctx); err != nil {
			fmt.Fprintf(stderr, "query: %v\n", err)
			return 1
		}
		defer targets[i].run.Close()
		versions[targets[i].Name] = targets[i].run.Version(ctx)
		fmt.Fprintf(stderr, "query: %s: %s\n", targets[i].Name, versions[targets[i].Name])
	}
	if *waitRows > 0 {
		for i := range targets {
			if err := waitCount(ctx, &targets[i], *waitRows, *waitTimeout, stderr); err != nil {
				fmt.Fprintf(stderr, "query: %v\n", err)
				return 1
			}
		}
	}

	var results []*Result
	failed := false
	measure := func(tg *Target, t QueryType, qs []Query, m Mode) *Result {
		r := &Result{Target: tg.Name, Type: t.Name, Mode: m.String()}
		for i, q := range qs {
			qctx, cancel := context.WithTimeout(ctx, *timeout)
			rows, d, err := tg.run.Run(qctx, t, q, m)
			cancel()
			if err != nil {
				r.Error = fmt.Sprintf("query %d: %v", q.Index, err)
				fmt.Fprintf(stderr, "query: %s %s (%s): %s\n", tg.Name, t.Name, m, r.Error)
				failed = true
				return r
			}
			if i >= *warmup {
				r.Millis = append(r.Millis, float64(d.Nanoseconds())/1e6)
				r.Rows = append(r.Rows, rows)
			}
		}
		r.finish()
		fmt.Fprintf(stderr, "query: %-10s %-22s %-8s mean %9.2f ms  p50 %9.2f  p95 %9.2f  rows %.0f\n",
			tg.Name, t.Name, m, r.Mean, r.P50, r.P95, r.RowsMean)
		return r
	}
	for _, t := range sel {
		qs := Generate(ds, t, *warmup+*n)
		for i := range targets {
			results = append(results, measure(&targets[i], t, qs, Literal))
		}
		if *prepared && t.Prepared {
			for i := range targets {
				if targets[i].Kind == "sql" {
					results = append(results, measure(&targets[i], t, qs, Prepared))
				}
			}
		}
	}

	report(stdout, ds, *n, *warmup, targets, versions, sel, results, *base)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(map[string]any{
			"dataset": ds, "n": *n, "warmup": *warmup, "versions": versions, "results": results,
		}, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fmt.Fprintf(stderr, "query: %v\n", err)
			return 1
		}
	}
	if failed {
		return 3
	}
	return 0
}

// waitCount polls the target's row count until it is want: a target may
// answer writes before the rows are visible to queries.
func waitCount(ctx context.Context, t *Target, want int64, timeout time.Duration, stderr io.Writer) error {
	start := time.Now()
	for {
		n, err := t.run.Count(ctx)
		if err == nil && n == want {
			fmt.Fprintf(stderr, "query: %s: %d cpu rows (after %.1f s)\n", t.Name, n, time.Since(start).Seconds())
			return nil
		}
		if time.Since(start) > timeout {
			if err != nil {
				return fmt.Errorf("%s: counting rows: %w", t.Name, err)
			}
			return fmt.Errorf("%s: %d cpu rows after %s, want %d", t.Name, n, timeout, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func typeNames() string {
	var s []string
	for _, t := range QueryTypes {
		s = append(s, t.Name)
	}
	return strings.Join(s, ", ")
}

func selectTypes(list string, ds Dataset) ([]QueryType, error) {
	var sel []QueryType
	if list == "" {
		sel = QueryTypes
	} else {
		for _, name := range strings.Split(list, ",") {
			t, ok := LookupType(strings.TrimSpace(name))
			if !ok {
				return nil, fmt.Errorf("unknown query type %q (want %s)", name, typeNames())
			}
			sel = append(sel, t)
		}
	}
	for _, t := range sel {
		if t.Window > ds.Duration {
			return nil, fmt.Errorf("%s needs a %s window; the data set spans %s", t.Name, t.Window, ds.Duration)
		}
		if t.Hosts > ds.Scale {
			return nil, fmt.Errorf("%s needs %d hosts; the data set has %d", t.Name, t.Hosts, ds.Scale)
		}
	}
	return sel, nil
}

func find(results []*Result, target, typ, mode string) *Result {
	for _, r := range results {
		if r.Target == target && r.Type == typ && r.Mode == mode {
			return r
		}
	}
	return nil
}

func ms(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func cell(r *Result) string {
	if r == nil {
		return "–"
	}
	if r.Error != "" {
		return "error"
	}
	return ms(r.Mean)
}

// rowCheck compares the row counts of every timed query across targets (by
// query index) and returns one warning per query type where they differ.
func rowCheck(targets []Target, results []*Result, t QueryType) string {
	var ref *Result
	var diffs []string
	for _, tg := range targets {
		r := find(results, tg.Name, t.Name, "literal")
		if r == nil || r.Error != "" {
			continue
		}
		if ref == nil {
			ref = r
			continue
		}
		bad := 0
		first := -1
		for i := range r.Rows {
			if i < len(ref.Rows) && r.Rows[i] != ref.Rows[i] {
				bad++
				if first < 0 {
					first = i
				}
			}
		}
		if bad > 0 {
			diffs = append(diffs, fmt.Sprintf("%s vs %s: %d of %d queries differ (first: query %d, %d vs %d rows)",
				r.Target, ref.Target, bad, len(r.Rows), first, r.Rows[first], ref.Rows[first]))
		}
	}
	if len(diffs) == 0 {
		return ""
	}
	return t.Name + ": " + strings.Join(diffs, "; ")
}

func report(w io.Writer, ds Dataset, n, warmup int, targets []Target, versions map[string]string, sel []QueryType, results []*Result, base string) {
	fmt.Fprintf(w, "Queries — DevOps cpu, %d hosts from %s for %s; %d timed queries per type and target after %d warm-up(s); parameter seed %d\n\n",
		ds.Scale, ds.Start.Format(time.RFC3339), ds.Duration, n, warmup, ds.Seed)
	for _, tg := range targets {
		fmt.Fprintf(w, "- %s (%s): %s\n", tg.Name, tg.Kind, versions[tg.Name])
	}

	fmt.Fprintf(w, "\nMean latency, ms (SQL targets: literal text, simple query protocol)\n\n| query type | rows |")
	for _, tg := range targets {
		fmt.Fprintf(w, " %s |", tg.Name)
	}
	var others []string
	for _, tg := range targets {
		if tg.Name != base {
			others = append(others, tg.Name)
			fmt.Fprintf(w, " %s / %s |", base, tg.Name)
		}
	}
	fmt.Fprintf(w, "\n|---|---:|%s%s\n", strings.Repeat("---:|", len(targets)), strings.Repeat("---:|", len(others)))
	for _, t := range sel {
		rows := "–"
		if r := find(results, base, t.Name, "literal"); r != nil && r.Error == "" {
			rows = fmt.Sprintf("%.0f", r.RowsMean)
		}
		fmt.Fprintf(w, "| %s | %s |", t.Name, rows)
		for _, tg := range targets {
			fmt.Fprintf(w, " %s |", cell(find(results, tg.Name, t.Name, "literal")))
		}
		b := find(results, base, t.Name, "literal")
		for _, o := range others {
			r := find(results, o, t.Name, "literal")
			if b == nil || r == nil || b.Error != "" || r.Error != "" || r.Mean == 0 {
				fmt.Fprint(w, " – |")
				continue
			}
			fmt.Fprintf(w, " %.2fx |", b.Mean/r.Mean)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nA ratio above 1 means %s is slower.\n", base)

	fmt.Fprintf(w, "\nDetail (ms; q/s = one client, one query at a time)\n\n| target | query type | mode | mean | p50 | p95 | min | max | q/s | rows (mean) |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, tg := range targets {
		for _, r := range results {
			if r.Target != tg.Name {
				continue
			}
			if r.Error != "" {
				fmt.Fprintf(w, "| %s | %s | %s | error: %s |||||||\n", r.Target, r.Type, r.Mode, strings.ReplaceAll(r.Error, "|", "/"))
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %.1f | %.0f |\n",
				r.Target, r.Type, r.Mode, ms(r.Mean), ms(r.P50), ms(r.P95), ms(r.Min), ms(r.Max), r.QPS, r.RowsMean)
		}
	}

	var prep []*Result
	for _, r := range results {
		if r.Mode == "prepared" {
			prep = append(prep, r)
		}
	}
	if len(prep) > 0 {
		fmt.Fprintf(w, "\nPrepared statement vs literal text (same parameters; mean ms)\n\n| target | query type | literal, simple protocol | prepared, parameters | literal − prepared |\n|---|---|---:|---:|---:|\n")
		for _, p := range prep {
			l := find(results, p.Target, p.Type, "literal")
			if l == nil || l.Error != "" || p.Error != "" {
				fmt.Fprintf(w, "| %s | %s | %s | %s | – |\n", p.Target, p.Type, cell(l), cell(p))
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", p.Target, p.Type, ms(l.Mean), ms(p.Mean), ms(l.Mean-p.Mean))
		}
	}

	var warn []string
	for _, t := range sel {
		if s := rowCheck(targets, results, t); s != "" {
			warn = append(warn, s)
		}
	}
	fmt.Fprintln(w)
	if len(warn) == 0 {
		fmt.Fprintln(w, "Row counts: every timed query returned the same number of rows on every target.")
	} else {
		fmt.Fprintln(w, "Row counts differ (InfluxDB can differ by empty time buckets, which it returns as nulls and SQL omits):")
		for _, s := range warn {
			fmt.Fprintf(w, "- WARNING %s\n", s)
		}
	}
}
