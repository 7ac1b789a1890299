package engine

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fineod/fineod/bench/gen"
	"github.com/fineod/fineod/ingest/lineprotocol"
	"github.com/fineod/fineod/schema"
)

// loadDevOps writes the TSBS DevOps cpu data (hosts x duration at 10 s)
// into db through the normal write path.
func loadDevOps(b *testing.B, db *DB, hosts int, d time.Duration) int {
	return loadDevOpsAt(b, db, hosts, d, 0)
}

// loadDevOpsAt is loadDevOps with the data shifted by offset.
func loadDevOpsAt(b *testing.B, db *DB, hosts int, d, offset time.Duration) int {
	b.Helper()
	return writeLines(b, db, devOpsLines(b, hosts, d, offset))
}

// devOpsLines generates the DevOps cpu line protocol.
func devOpsLines(b *testing.B, hosts int, d, offset time.Duration) []byte {
	b.Helper()
	cfg := gen.DefaultConfig()
	cfg.Scale, cfg.Duration = hosts, d
	cfg.Start = cfg.Start.Add(offset)
	g, err := gen.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := g.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// writeLines parses line protocol and writes it in batches of 10,000 rows.
func writeLines(b *testing.B, db *DB, lines []byte) int {
	b.Helper()
	buf := bytes.NewBuffer(lines)
	var p lineprotocol.Parser
	p.Reset(buf.Bytes(), lineprotocol.Nanosecond, 0)
	bl := schema.NewBuilder(schema.DefaultDatabase)
	rows := 0
	flush := func() {
		if err := db.WriteBatch(context.Background(), schema.DefaultTenant, bl); err != nil {
			b.Fatal(err)
		}
		rows += bl.Rows()
		bl.Reset(schema.DefaultDatabase)
	}
	for p.Next() {
		bl.StartRow(p.Measurement(), p.Time())
		for _, t := range p.Tags() {
			bl.AddTag(t.Key, t.Value)
		}
		for _, f := range p.Fields() {
			bl.AddInt(f.Key, f.I)
		}
		bl.EndRow()
		if bl.Rows() == 10000 {
			flush()
		}
	}
	flush()
	return rows
}

// BenchmarkDevOpsQueries runs TSBS-style queries over 100 hosts x 12 h
// (432,000 rows) through SQL, with every row in the row store and with
// every row in segments.
func BenchmarkDevOpsQueries(b *testing.B) {
	for _, tier := range []string{"rowstore", "segments"} {
		b.Run(tier, func(b *testing.B) {
			db, err := Open(b.TempDir(), &Options{CheckpointInterval: -1, CompactionInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			rows := loadDevOps(b, db, 100, 12*time.Hour)
			if tier == "segments" {
				if _, err := db.Compact(context.Background(), CompactRequest{Cutoff: time.Now()}); err != nil {
					b.Fatal(err)
				}
			}
			benchDevOps(b, db, rows)
		})
	}
}

func benchDevOps(b *testing.B, db *DB, rows int) {
	for _, q := range []struct{ name, sql string }{
		{"single-groupby-1-1-1", "SELECT date_trunc('minute', time) AS minute, max(usage_user) FROM cpu WHERE hostname = 'host_7' AND time >= '2016-01-01T03:00:00Z' AND time < '2016-01-01T04:00:00Z' GROUP BY 1 ORDER BY 1"},
		{"single-groupby-5-8-1", "SELECT date_trunc('minute', time) AS minute, max(usage_user), max(usage_system), max(usage_idle), max(usage_nice), max(usage_iowait) FROM cpu WHERE hostname IN ('host_3', 'host_17', 'host_42', 'host_58', 'host_91') AND time >= '2016-01-01T02:00:00Z' AND time < '2016-01-01T10:00:00Z' GROUP BY 1 ORDER BY 1"},
		{"double-groupby-1", "SELECT date_trunc('hour', time) AS hour, hostname, avg(usage_user) FROM cpu GROUP BY 1, 2"},
		{"lastpoint", "SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC"},
		{"high-cpu-all", "SELECT * FROM cpu WHERE usage_user > 90"},
		{"groupby-orderby-limit", "SELECT date_trunc('minute', time) AS minute, max(usage_user) FROM cpu WHERE time < '2016-01-01T10:00:00Z' GROUP BY 1 ORDER BY 1 DESC LIMIT 5"},
	} {
		b.Run(q.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r, err := db.Query(context.Background(), q.sql)
				if err != nil {
					b.Fatal(err)
				}
				for r.Next() {
				}
				r.Close()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkIngestLateBinding measures the write path with a plain schema
// and with late-binding changes in place (renamed columns whose old names
// the writers keep sending, a type change with a conversion, a table
// alias whose name the writers use): the target is under 10% slower.
func BenchmarkIngestLateBinding(b *testing.B) {
	for _, mode := range []string{"plain", "aliased"} {
		b.Run(mode, func(b *testing.B) {
			db, err := Open(b.TempDir(), &Options{CheckpointInterval: -1, CompactionInterval: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			loadDevOps(b, db, 2, 10*time.Minute) // creates the table and its fields
			if mode == "aliased" {
				for _, q := range []string{
					`ALTER TABLE cpu RENAME COLUMN usage_user TO user_pct`,
					`ALTER TABLE cpu RENAME COLUMN usage_system TO system_pct`,
					`ALTER TABLE cpu RENAME COLUMN usage_idle TO idle_pct`,
					`ALTER TABLE cpu ALTER COLUMN usage_nice TYPE double precision USING usage_nice / 100.0`,
					`SELECT fineo.add_alias('cpu', 'usage_iowait', 'iowait')`,
					`ALTER TABLE cpu RENAME TO host_cpu`,
				} {
					r, err := db.Query(ctx, q)
					if err != nil {
						b.Fatal(q, err)
					}
					r.Close()
				}
			}
			data := make([][]byte, b.N)
			for i := range data {
				data[i] = devOpsLines(b, 100, 30*time.Minute, time.Duration(i+1)*24*time.Hour)
			}
			b.ResetTimer()
			rows := 0
			for i := 0; i < b.N; i++ {
				rows += writeLines(b, db, data[i])
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkConvertedColumn compares reading a column through a conversion
// with reading a plain column of the same data.
func BenchmarkConvertedColumn(b *testing.B) {
	db, err := Open(b.TempDir(), &Options{CheckpointInterval: -1, CompactionInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	rows := loadDevOps(b, db, 100, 6*time.Hour)
	for _, q := range []string{
		`ALTER TABLE cpu ALTER COLUMN usage_nice TYPE double precision USING usage_nice * 9 / 5 + 32`,
		`ALTER TABLE cpu ALTER COLUMN usage_user TYPE double precision`,
	} {
		r, err := db.Query(ctx, q)
		if err != nil {
			b.Fatal(q, err)
		}
		r.Close()
	}
	for _, q := range []struct{ name, sql string }{
		{"plain", "SELECT hostname, avg(usage_user) FROM cpu GROUP BY 1"},
		{"converted", "SELECT hostname, avg(usage_nice) FROM cpu GROUP BY 1"},
	} {
		b.Run(q.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r, err := db.Query(ctx, q.sql)
				if err != nil {
					b.Fatal(err)
				}
				for r.Next() {
				}
				r.Close()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkDevOpsCold runs the few-host DevOps query types (TSBS shapes:
// single-groupby-1-1-1, single-groupby-5-8-1 = 5 fields of 8 hosts over an
// hour, high-cpu-1 = every column of one host over 12 hours where
// usage_user > 90) with new hosts and times each time and the decoded-column cache off, the way a
// dashboard opening history it has not read before does, over the row store
// and over segments.
func BenchmarkDevOpsCold(b *testing.B) {
	for _, tier := range []string{"rowstore", "segments"} {
		b.Run(tier, func(b *testing.B) {
			db, err := Open(b.TempDir(), &Options{CheckpointInterval: -1, CompactionInterval: -1, SegmentCacheSize: -1})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			loadDevOps(b, db, 100, 12*time.Hour)
			if tier == "segments" {
				if _, err := db.Compact(context.Background(), CompactRequest{Cutoff: time.Now()}); err != nil {
					b.Fatal(err)
				}
			}
			for _, q := range []struct {
				name string
				sql  func(i int) string
			}{
				{"single-groupby-1-1-1", func(i int) string {
					return fmt.Sprintf("SELECT date_trunc('minute', time) AS minute, max(usage_user) FROM cpu WHERE hostname = 'host_%d' AND time >= '2016-01-01T%02d:00:00Z' AND time < '2016-01-01T%02d:00:00Z' GROUP BY 1 ORDER BY 1", i*37%100, i%11, i%11+1)
				}},
				{"single-groupby-5-8-1", func(i int) string {
					hosts := make([]string, 8)
					for k := range hosts {
						hosts[k] = fmt.Sprintf("'host_%d'", (i*37+k*13)%100)
					}
					return fmt.Sprintf("SELECT date_trunc('minute', time) AS minute, max(usage_user), max(usage_system), max(usage_idle), max(usage_nice), max(usage_iowait) FROM cpu WHERE hostname IN (%s) AND time >= '2016-01-01T%02d:00:00Z' AND time < '2016-01-01T%02d:00:00Z' GROUP BY 1 ORDER BY 1", strings.Join(hosts, ", "), i%11, i%11+1)
				}},
				{"high-cpu-1", func(i int) string {
					return fmt.Sprintf("SELECT * FROM cpu WHERE usage_user > 90.0 AND time >= '2016-01-01T%02d:00:00Z' AND time < '2016-01-01T%02d:00:00Z' AND hostname = 'host_%d'", i%2, i%2+10, i*37%100)
				}},
			} {
				b.Run(q.name, func(b *testing.B) {
					b.ReportAllocs()
					for i := 0; i < b.N; i++ {
						r, err := db.Query(context.Background(), q.sql(i))
						if err != nil {
							b.Fatal(err)
						}
						n := 0
						for r.Next() {
							n++
						}
						if err := r.Err(); err != nil || (n == 0 && q.name != "high-cpu-1") {
							b.Fatal(n, err)
						}
						r.Close()
					}
				})
			}
		})
	}
}
