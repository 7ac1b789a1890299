package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fineod/fineod/schema"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/cockroachdb/pebble/v2.(*tableCacheShard).releaseLoop"))
}

func count(t *testing.T, db *DB, table string) (n int, last Row) {
	t.Helper()
	err := db.Scan(context.Background(), ScanRequest{Table: table}, func(r Row) error {
		n++
		last = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, last
}

func TestReopenReplaysUnflushedWrites(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, &Options{CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		err := db.Write(ctx, []Point{{Table: "m", Tags: map[string]string{"k": fmt.Sprint(i % 3)},
			Fields: map[string]any{"v": float64(i)}, Time: time.Unix(int64(i), 0)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Simulate a crash: the row store is never flushed, so reopening must
	// replay the log. Closing the pieces without Close's checkpoint:
	db.closed.Store(true)
	close(db.stop)
	db.bg.Wait()
	if err := db.node.Stop(); err != nil {
		t.Fatal(err)
	}
	db.rows.Close() // no Flush: Pebble has no WAL, so the memtable is lost
	db.lock.Close()

	db, err = Open(dir, &Options{CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, _ := count(t, db, "m"); n != 50 {
		t.Fatalf("after replay: %d points, want 50", n)
	}
}

func TestCheckpointThenReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, &Options{CheckpointInterval: -1, WALSegmentSize: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		if err := db.Write(ctx, []Point{{Table: "m", Fields: map[string]any{"v": i, "s": "some text to grow the log"}, Time: time.Unix(int64(i), 0)}}); err != nil {
			t.Fatal(err)
		}
		if i == 100 {
			if err := db.Checkpoint(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := db.Write(ctx, []Point{{Table: "m", Fields: map[string]any{"v": 1}}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	db, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, last := count(t, db, "m")
	if n != 200 || last.Fields["v"] != int64(199) {
		t.Fatalf("%d points, last %+v", n, last)
	}
}

func TestConcurrentWritersNewFieldsAndTables(t *testing.T) {
	db, err := Open(t.TempDir(), &Options{CheckpointInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				// Every writer races to create the same tables and fields.
				p := Point{Table: fmt.Sprintf("t%d", i%3), Tags: map[string]string{"w": fmt.Sprint(w)},
					Fields: map[string]any{fmt.Sprintf("f%d", i%5): float64(i)}, Time: time.Unix(int64(i), 0)}
				if err := db.Write(ctx, []Point{p}); err != nil {
					errc <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	total := 0
	for i := 0; i < 3; i++ {
		n, _ := count(t, db, fmt.Sprintf("t%d", i))
		total += n
	}
	if total != 8*40 {
		t.Fatalf("%d points", total)
	}
	ten, _ := db.Catalog().Tenant(schema.DefaultTenant)
	tbl, _ := db.Catalog().Table(ten.ID, schema.DefaultDatabase, "t0")
	if len(tbl.Fields) != 5 {
		t.Fatalf("duplicate physical fields from racing writers: %+v", tbl.Fields)
	}
}

func TestWriteRejectsInvalidPoints(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for name, p := range map[string]Point{
		"no table":    {Fields: map[string]any{"v": 1}},
		"no fields":   {Table: "m"},
		"bad type":    {Table: "m", Fields: map[string]any{"v": []int{1}}},
		"empty tag":   {Table: "m", Tags: map[string]string{"k": ""}, Fields: map[string]any{"v": 1}},
		"NaN is none": {Table: "m", Fields: map[string]any{"v": nan()}},
	} {
		ok := Point{Table: "m", Fields: map[string]any{"v": 1}}
		if err := db.Write(ctx, []Point{ok, p}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := db.Scan(ctx, ScanRequest{Table: "m"}, func(Row) error { return nil }); err == nil {
		t.Fatal("a rejected Write wrote something")
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestTypeDriftIsStoredNotRejected(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	vals := []any{int64(1), 2.5, "3", true}
	for i, v := range vals {
		if err := db.Write(ctx, []Point{{Table: "m", Fields: map[string]any{"x": v}, Time: time.Unix(int64(i), 0)}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []any
	db.Scan(ctx, ScanRequest{Table: "m"}, func(r Row) error {
		got = append(got, r.Fields["x"])
		return nil
	})
	if fmt.Sprint(got) != fmt.Sprint(vals) {
		t.Fatalf("got %v want %v", got, vals)
	}
	ten, _ := db.Catalog().Tenant(schema.DefaultTenant)
	tbl, _ := db.Catalog().Table(ten.ID, schema.DefaultDatabase, "m")
	if len(tbl.Fields) != 4 {
		t.Fatalf("want one physical field per type: %+v", tbl.Fields)
	}
}
