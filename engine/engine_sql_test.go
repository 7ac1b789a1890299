package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/sql"
)

func TestSQLScanPushdownAndCasts(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var pts []Point
	for i := 0; i < 5000; i++ {
		pts = append(pts, Point{Table: "cpu", Tags: map[string]string{"host": fmt.Sprintf("h%d", i%4)},
			Fields: map[string]any{"usage": float64(i)}, Time: time.Unix(int64(i), 0)})
	}
	// Type drift: a string and an int under the float column; an
	// uncastable string reads as NULL.
	pts = append(pts,
		Point{Table: "cpu", Tags: map[string]string{"host": "h9"}, Fields: map[string]any{"usage": "21.5"}, Time: time.Unix(1, 0)},
		Point{Table: "cpu", Tags: map[string]string{"host": "h9"}, Fields: map[string]any{"usage": int64(7)}, Time: time.Unix(2, 0)},
		Point{Table: "cpu", Tags: map[string]string{"host": "h9"}, Fields: map[string]any{"usage": "n/a"}, Time: time.Unix(3, 0)},
		Point{Table: "cpu", Fields: map[string]any{"usage": 1.0}, Time: time.Unix(4, 0)}, // no host tag
	)
	if err := db.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	info, ok := db.SQLCatalog().Table(schema.DefaultTenant, schema.DefaultDatabase, "cpu")
	if !ok || len(info.Columns) != 3 || info.Columns[1].Name != "host" || info.Columns[2].Type != sql.TypeFloat8 {
		t.Fatalf("table info %+v", info)
	}
	scan := func(spec sql.ScanSpec) (rows int, batches int, vals []any) {
		spec.Tenant, spec.Database, spec.Table = schema.DefaultTenant, schema.DefaultDatabase, "cpu"
		err := db.SQLScanner().Scan(ctx, spec, func(b *sql.Batch) error {
			batches++
			rows += b.Len
			for i := 0; i < b.Len; i++ {
				if len(b.Cols) > 2 {
					if b.Cols[2].Null[i] {
						vals = append(vals, nil)
					} else {
						vals = append(vals, b.Cols[2].F64[i])
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if rows, batches, _ := scan(sql.ScanSpec{MinTime: -1 << 63, MaxTime: 1<<63 - 1, Columns: []string{"host", "usage"}}); rows != 5004 || batches < 2 {
		t.Fatalf("full scan: %d rows in %d batches", rows, batches)
	}
	if rows, _, _ := scan(sql.ScanSpec{MinTime: 100e9, MaxTime: 199e9, TagFilters: []sql.TagFilter{{Key: "host", Op: sql.TagIn, Values: []string{"h1", "h2"}}}}); rows != 50 {
		t.Fatalf("time range + IN: %d rows", rows)
	}
	if rows, _, _ := scan(sql.ScanSpec{MinTime: -1 << 63, MaxTime: 1<<63 - 1, TagFilters: []sql.TagFilter{{Key: "host", Op: sql.TagNe, Values: []string{"h0"}}}}); rows != 3750+3 {
		t.Fatalf("<> h0: %d rows (a series without the tag must not match)", rows)
	}
	_, _, vals := scan(sql.ScanSpec{MinTime: -1 << 63, MaxTime: 1<<63 - 1, Columns: []string{"host", "usage"},
		TagFilters: []sql.TagFilter{{Key: "host", Op: sql.TagEq, Values: []string{"h9"}}}})
	if fmt.Sprint(vals) != "[21.5 7 <nil>]" {
		t.Fatalf("casts: %v", vals)
	}
}

// TestFieldFilterHintsMatchTheFilter checks that rows the scan skips for a
// field filter are exactly rows the WHERE clause rejects, including values
// of other physical types that the column casts (and rounds) on read.
func TestFieldFilterHintsMatchTheFilter(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	vals := []any{int64(1), int64(3), 2.6, 2.4, "3", "x", int64(5), 2.5, true}
	var pts []Point
	for i, v := range vals {
		pts = append(pts, Point{Table: "drift", Tags: map[string]string{"k": "a"}, Fields: map[string]any{"n": v}, Time: time.Unix(int64(i), 0)})
	}
	pts = append(pts, Point{Table: "drift", Tags: map[string]string{"k": "a"}, Fields: map[string]any{"other": 1.0}, Time: time.Unix(100, 0)})
	if err := db.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	for _, cond := range []string{"n = 3", "n > 2", "n >= 3", "n < 3", "n <= 2", "n > 2.5", "n = 2.6"} {
		hinted := queryInts(t, db, "SELECT extract(epoch FROM time)::bigint FROM drift WHERE "+cond+" ORDER BY 1")
		// n + 0 is not a column: nothing is pushed, the filter decides alone.
		plain := queryInts(t, db, "SELECT extract(epoch FROM time)::bigint FROM drift WHERE n + 0 "+strings.TrimPrefix(cond, "n ")+" ORDER BY 1")
		if fmt.Sprint(hinted) != fmt.Sprint(plain) {
			t.Errorf("%s: with field filter %v, without %v", cond, hinted, plain)
		}
	}
	rows, err := db.Query(ctx, "EXPLAIN SELECT * FROM drift WHERE n > 2")
	if err != nil {
		t.Fatal(err)
	}
	var plan strings.Builder
	for rows.Next() {
		fmt.Fprintln(&plan, rows.Values()...)
	}
	if !strings.Contains(plan.String(), "field filters: n > 2") {
		t.Fatalf("EXPLAIN does not show the field filter:\n%s", plan.String())
	}
}

func queryInts(t *testing.T, db *DB, q string) []int64 {
	t.Helper()
	rows, err := db.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestFieldFilterHintsBeyondFloatPrecision: bigints beyond 2^53 compare
// exactly in SQL; the float64 hint must not reject them.
func TestFieldFilterHintsBeyondFloatPrecision(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	const n = int64(9007199254740995)
	if err := db.Write(ctx, []Point{{Table: "big", Fields: map[string]any{"n": n}, Time: time.Unix(1, 0)}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"SELECT count(*) FROM big WHERE n < 9007199254740996",
		"SELECT count(*) FROM big WHERE n > 9007199254740994",
		"SELECT count(*) FROM big WHERE n = 9007199254740995",
	} {
		if got := queryInts(t, db, q); len(got) != 1 || got[0] != 1 {
			t.Errorf("%s: %v", q, got)
		}
	}
}
