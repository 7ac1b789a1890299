package engine

import (
	"context"
	"fmt"
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
