package sql

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// benchScanner is a TEST FIXTURE for benchmarks: it serves pre-built
// column batches of time, hostname and usage_user (what the benchmark
// query asks for) so that the figures measure the engine, not a fixture.
type benchScanner struct {
	batches []*Batch
	rows    int
}

func newBenchScanner(hosts, perHost int) *benchScanner {
	const batchRows = 4096
	s := &benchScanner{rows: hosts * perHost}
	start := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var b *Batch
	for h := range hosts {
		name := fmt.Sprintf("host_%d", h)
		for i := range perHost {
			if b == nil || b.Len == batchRows {
				b = &Batch{Cols: []Vector{{Type: TypeTimestamptz}, {Type: TypeText}, {Type: TypeFloat8}}}
				s.batches = append(s.batches, b)
			}
			b.Cols[0].I64 = append(b.Cols[0].I64, start+int64(i)*int64(10*time.Second))
			b.Cols[1].Str = append(b.Cols[1].Str, name)
			b.Cols[2].F64 = append(b.Cols[2].F64, float64((h*7+i*13)%100))
			b.Len++
		}
	}
	return s
}

func (s *benchScanner) Scan(ctx context.Context, spec ScanSpec, fn func(*Batch) error) error {
	if len(spec.Columns) != 2 || spec.Columns[0] != "hostname" || spec.Columns[1] != "usage_user" {
		return fmt.Errorf("bench scanner serves time, hostname, usage_user; asked for %v", spec.Columns)
	}
	for _, b := range s.batches {
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

func benchCatalog() *memDB {
	db := newMemDB()
	db.addTable("fineo", TableInfo{Name: "cpu", Columns: []ColumnInfo{
		{Name: "time", Type: TypeTimestamptz, Kind: KindTime},
		{Name: "hostname", Type: TypeText, Kind: KindTag},
		{Name: "region", Type: TypeText, Kind: KindTag},
		{Name: "usage_user", Type: TypeFloat8, Kind: KindField},
		{Name: "usage_system", Type: TypeFloat8, Kind: KindField},
	}})
	return db
}

const benchQuery = "SELECT time_bucket('1 hour', time) AS hour, hostname, max(usage_user) FROM cpu " +
	"WHERE time >= '2016-01-01T00:00:00Z' AND time < '2016-02-01T00:00:00Z' GROUP BY hour, hostname"

// BenchmarkGroupByTimeBucket runs the double-groupby shape over 1M rows
// (100 hosts x 10,000 points at 10 s).
func BenchmarkGroupByTimeBucket(b *testing.B) {
	sc := newBenchScanner(100, 10000)
	eng := NewEngine(benchCatalog(), sc, nil, nil)
	s := eng.NewSession("default", "fineo", "bench")
	ctx := context.Background()
	st, err := s.Prepare(ctx, benchQuery, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := st.Execute(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for res.Next() {
			n++
		}
		if n != 100*28 {
			b.Fatalf("%d groups", n)
		}
	}
	b.ReportMetric(float64(sc.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPrepare measures parse + bind + plan with and without the plan
// cache.
func BenchmarkPrepare(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(c.name, func(b *testing.B) {
			eng := NewEngine(benchCatalog(), newBenchScanner(1, 1), nil, &Options{PlanCacheSize: c.size})
			s := eng.NewSession("default", "fineo", "bench")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Prepare(ctx, benchQuery, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
