package main

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"
)

// Dataset describes the data the queries run against; it must match the
// flags the data were generated with (bench/cmd/gen).
type Dataset struct {
	Scale    int           // hosts: host_0 … host_{Scale-1}
	Start    time.Time     // first timestamp
	Duration time.Duration // span of the data
	Seed     uint64        // seed of the query parameters (not of the data)
}

// Query is one instance of a query type: the random parameters that every
// target receives in the same form.
type Query struct {
	Type  string
	Index int // position in the generated sequence (warm-ups first)
	Hosts []string
	Start time.Time // window [Start, End); zero when the type has none
	End   time.Time
}

// QueryType is a TSBS DevOps query type.
type QueryType struct {
	Name     string
	Hosts    int           // random distinct hosts per query (0 = all hosts)
	Window   time.Duration // random window inside the data (0 = none)
	Prepared bool          // part of the prepared-vs-literal comparison
	sql      func(b *sqlBuilder, q Query) string
	influxql func(q Query) string
}

// The ten cpu metrics in TSBS order; "5 metrics" means the first five.
var cpuMetrics = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}

// Windows of the TSBS DevOps use case.
const (
	doubleGroupByDuration = 12 * time.Hour
	highCPUDuration       = 12 * time.Hour
	maxAllDuration        = 8 * time.Hour
)

// QueryTypes lists the benchmark's query types in report order.
var QueryTypes = []QueryType{
	singleGroupBy(1, 1, time.Hour, true),
	singleGroupBy(5, 8, time.Hour, false),
	doubleGroupBy("double-groupby-1", 1),
	doubleGroupBy("double-groupby-all", len(cpuMetrics)),
	{
		Name: "cpu-max-all-8", Hosts: 8, Window: maxAllDuration, Prepared: true,
		sql: func(b *sqlBuilder, q Query) string {
			return fmt.Sprintf("SELECT date_trunc('hour', time) AS hour, %s FROM cpu WHERE %s AND time >= %s AND time < %s GROUP BY hour ORDER BY hour",
				sqlAggs("max", cpuMetrics), b.hostWhere(q.Hosts), b.ts(q.Start), b.ts(q.End))
		},
		// TSBS groups this one by time(1m) for InfluxDB although its SQL and its
		// description say per hour; per hour here so that every target answers
		// the same question.
		influxql: func(q Query) string {
			return fmt.Sprintf("SELECT %s from cpu where %s and time >= '%s' and time < '%s' group by time(1h)",
				influxAggs("max", cpuMetrics), influxHostWhere(q.Hosts), influxTime(q.Start), influxTime(q.End))
		},
	},
	highCPU("high-cpu-1", 1, true),
	highCPU("high-cpu-all", 0, false),
	{
		Name: "lastpoint",
		sql: func(b *sqlBuilder, q Query) string {
			return "SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC"
		},
		influxql: func(q Query) string {
			return `SELECT * from cpu group by "hostname" order by time desc limit 1`
		},
	},
	{
		// TSBS draws a random 1-hour window and uses only its end.
		Name: "groupby-orderby-limit", Window: time.Hour,
		sql: func(b *sqlBuilder, q Query) string {
			return fmt.Sprintf("SELECT date_trunc('minute', time) AS minute, max(usage_user) FROM cpu WHERE time < %s GROUP BY minute ORDER BY minute DESC LIMIT 5",
				b.ts(q.End))
		},
		// TSBS leaves out "order by time desc", which makes InfluxDB answer the
		// first five minutes of the data instead of the last five before the end.
		influxql: func(q Query) string {
			return fmt.Sprintf("SELECT max(usage_user) from cpu where time < '%s' group by time(1m) order by time desc limit 5",
				influxTime(q.End))
		},
	},
}

func singleGroupBy(metrics, hosts int, window time.Duration, prepared bool) QueryType {
	ms := cpuMetrics[:metrics]
	return QueryType{
		Name:  fmt.Sprintf("single-groupby-%d-%d-%d", metrics, hosts, int(window/time.Hour)),
		Hosts: hosts, Window: window, Prepared: prepared,
		sql: func(b *sqlBuilder, q Query) string {
			return fmt.Sprintf("SELECT date_trunc('minute', time) AS minute, %s FROM cpu WHERE %s AND time >= %s AND time < %s GROUP BY minute ORDER BY minute ASC",
				sqlAggs("max", ms), b.hostWhere(q.Hosts), b.ts(q.Start), b.ts(q.End))
		},
		influxql: func(q Query) string {
			return fmt.Sprintf("SELECT %s from cpu where %s and time >= '%s' and time < '%s' group by time(1m)",
				influxAggs("max", ms), influxHostWhere(q.Hosts), influxTime(q.Start), influxTime(q.End))
		},
	}
}

func doubleGroupBy(name string, metrics int) QueryType {
	ms := cpuMetrics[:metrics]
	return QueryType{
		Name: name, Window: doubleGroupByDuration,
		sql: func(b *sqlBuilder, q Query) string {
			avgs := make([]string, len(ms))
			means := make([]string, len(ms))
			for i, m := range ms {
				means[i] = "mean_" + m
				avgs[i] = fmt.Sprintf("avg(%s) AS %s", m, means[i])
			}
			return fmt.Sprintf("WITH cpu_avg AS (SELECT date_trunc('hour', time) AS hour, hostname, %s FROM cpu WHERE time >= %s AND time < %s GROUP BY hour, hostname) SELECT hour, hostname, %s FROM cpu_avg ORDER BY hour, hostname",
				strings.Join(avgs, ", "), b.ts(q.Start), b.ts(q.End), strings.Join(means, ", "))
		},
		influxql: func(q Query) string {
			return fmt.Sprintf("SELECT %s from cpu where time >= '%s' and time < '%s' group by time(1h),hostname",
				influxAggs("mean", ms), influxTime(q.Start), influxTime(q.End))
		},
	}
}

func highCPU(name string, hosts int, prepared bool) QueryType {
	return QueryType{
		Name: name, Hosts: hosts, Window: highCPUDuration, Prepared: prepared,
		sql: func(b *sqlBuilder, q Query) string {
			s := fmt.Sprintf("SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= %s AND time < %s", b.ts(q.Start), b.ts(q.End))
			if len(q.Hosts) > 0 {
				s += " AND " + b.hostWhere(q.Hosts)
			}
			return s
		},
		influxql: func(q Query) string {
			h := ""
			if len(q.Hosts) > 0 {
				h = " and " + influxHostWhere(q.Hosts)
			}
			return fmt.Sprintf("SELECT * from cpu where usage_user > 90.0%s and time >= '%s' and time < '%s'",
				h, influxTime(q.Start), influxTime(q.End))
		},
	}
}

// LookupType returns the query type called name.
func LookupType(name string) (QueryType, bool) {
	for _, t := range QueryTypes {
		if t.Name == name {
			return t, true
		}
	}
	return QueryType{}, false
}

// Generate returns n queries of type t. They depend only on (ds, t.Name, n):
// every type draws from its own generator, seeded from ds.Seed and the type's
// name, so adding or dropping a type does not change the others, and the first
// k of n queries are the same as Generate(ds, t, k).
func Generate(ds Dataset, t QueryType, n int) []Query {
	h := fnv.New64a()
	h.Write([]byte(t.Name))
	r := rand.New(rand.NewPCG(ds.Seed, h.Sum64()))
	qs := make([]Query, n)
	for i := range qs {
		q := Query{Type: t.Name, Index: i}
		if t.Window > 0 {
			// Whole seconds, so that the SQL and the InfluxQL literals (which
			// TSBS writes to the second) name the same window.
			span := int64((ds.Duration - t.Window) / time.Second)
			off := time.Duration(r.Int64N(span+1)) * time.Second
			q.Start = ds.Start.Add(off).UTC()
			q.End = q.Start.Add(t.Window)
		}
		if t.Hosts > 0 {
			perm := r.Perm(ds.Scale)
			for _, id := range perm[:t.Hosts] {
				q.Hosts = append(q.Hosts, fmt.Sprintf("host_%d", id))
			}
		}
		qs[i] = q
	}
	return qs
}

// SQL renders q as PostgreSQL-dialect SQL with literal values, as TSBS's
// TimescaleDB generator writes it without its tags table and without
// time_bucket (so it runs on plain PostgreSQL).
func (t QueryType) SQL(q Query) string {
	return t.sql(&sqlBuilder{}, q)
}

// SQLParams renders q with $n placeholders instead of the time and host
// literals, and returns the values. The text is the same for every query of
// the type.
func (t QueryType) SQLParams(q Query) (string, []any) {
	b := &sqlBuilder{params: true}
	s := t.sql(b, q)
	return s, b.args
}

// InfluxQL renders q as TSBS's InfluxDB generator writes it (two deviations,
// commented at cpu-max-all-8 and groupby-orderby-limit).
func (t QueryType) InfluxQL(q Query) string { return t.influxql(q) }

// pgTimeFmt is TSBS's literal format for TimescaleDB.
const pgTimeFmt = "2006-01-02 15:04:05.999999 -0700"

type sqlBuilder struct {
	params bool
	args   []any
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

func (b *sqlBuilder) ts(t time.Time) string {
	if b.params {
		return b.arg(t)
	}
	return "'" + t.UTC().Format(pgTimeFmt) + "'"
}

func (b *sqlBuilder) str(s string) string {
	if b.params {
		return b.arg(s)
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// hostWhere is TSBS's "(hostname = 'a' OR hostname = 'b')".
func (b *sqlBuilder) hostWhere(hosts []string) string {
	cs := make([]string, len(hosts))
	for i, h := range hosts {
		cs[i] = "hostname = " + b.str(h)
	}
	return "(" + strings.Join(cs, " OR ") + ")"
}

func sqlAggs(agg string, metrics []string) string {
	cs := make([]string, len(metrics))
	for i, m := range metrics {
		cs[i] = fmt.Sprintf("%[1]s(%[2]s) AS %[1]s_%[2]s", agg, m)
	}
	return strings.Join(cs, ", ")
}

func influxAggs(agg string, metrics []string) string {
	cs := make([]string, len(metrics))
	for i, m := range metrics {
		cs[i] = fmt.Sprintf("%s(%s)", agg, m)
	}
	return strings.Join(cs, ", ")
}

func influxHostWhere(hosts []string) string {
	cs := make([]string, len(hosts))
	for i, h := range hosts {
		cs[i] = "hostname = '" + strings.ReplaceAll(h, "'", `\'`) + "'"
	}
	return "(" + strings.Join(cs, " or ") + ")"
}

func influxTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
