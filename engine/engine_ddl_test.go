package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/sql"
)

func TestEnsureTableSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var _ sql.SchemaWriter = db
	fields := []schema.FieldSpec{{Name: "usage", Type: int(schema.TypeFloat)}, {Name: "ok", Type: int(schema.TypeBool)}}
	if err := db.EnsureTable(ctx, "default", "plant1", "cpu", []string{"host"}, fields); err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureTable(ctx, "default", "plant1", "bad", nil, []schema.FieldSpec{{Name: "x", Type: 99}}); err == nil {
		t.Fatal("unknown field type accepted")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ti, ok := db.SQLCatalog().Table("default", "plant1", "cpu")
	if !ok {
		t.Fatal("table not found after reopen")
	}
	want := []sql.ColumnInfo{
		{Name: "time", Type: sql.TypeTimestamptz, Kind: sql.KindTime},
		{Name: "host", Type: sql.TypeText, Kind: sql.KindTag},
		{Name: "usage", Type: sql.TypeFloat8, Kind: sql.KindField},
		{Name: "ok", Type: sql.TypeBool, Kind: sql.KindField},
	}
	if len(ti.Columns) != len(want) {
		t.Fatalf("columns %v", ti.Columns)
	}
	for i := range want {
		if c := ti.Columns[i]; c.Name != want[i].Name || c.Type != want[i].Type || c.Kind != want[i].Kind || len(c.Aliases) > 0 {
			t.Fatalf("column %d: %v, want %v", i, ti.Columns[i], want[i])
		}
	}
}

func TestDropTableDeletesRowsAndFreesTheName(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, &Options{CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	write := func(db *DB, v float64) {
		t.Helper()
		err := db.Write(ctx, []Point{{Table: "gone", Tags: map[string]string{"h": "a"}, Fields: map[string]any{"v": v}, Time: time.Unix(int64(v), 0)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	write(db, 1)
	write(db, 2)
	if err := db.DropTable(ctx, schema.DefaultTenant, schema.DefaultDatabase, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, ok := db.SQLCatalog().Table(schema.DefaultTenant, schema.DefaultDatabase, "gone"); ok {
		t.Fatal("dropped table still in the catalog")
	}
	write(db, 3) // the same name and series again: a new table
	check := func(db *DB) {
		t.Helper()
		rows, err := db.Query(ctx, "SELECT v FROM gone")
		if err != nil {
			t.Fatal(err)
		}
		var got []float64
		for rows.Next() {
			var v float64
			rows.Scan(&v)
			got = append(got, v)
		}
		if len(got) != 1 || got[0] != 3 {
			t.Fatalf("rows after drop and rewrite: %v", got)
		}
	}
	check(db)
	// Replaying the log (no checkpoint happened) gives the same state.
	db.closed.Store(true)
	close(db.stop)
	db.bg.Wait()
	db.node.Stop()
	db.rows.Close()
	db.lock.Close()
	db, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check(db)
}

// TestWriteRacingDropIsRejected: a batch resolved against a table that a
// DROP TABLE removed before the batch reached the log is not applied and
// its writer gets an error (not an acknowledgement of lost rows).
func TestWriteRacingDropIsRejected(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Write(ctx, []Point{{Table: "r", Fields: map[string]any{"v": 1.0}, Time: time.Unix(1, 0)}}); err != nil {
		t.Fatal(err)
	}
	b := schema.NewBuilder(schema.DefaultDatabase)
	b.StartRow([]byte("r"), 2)
	b.AddFloat([]byte("v"), 2)
	b.EndRow()
	batch, ok := b.Resolve(db.cat, schema.DefaultTenant)
	if !ok {
		t.Fatal("resolve")
	}
	p, err := schema.EncodeBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DropTable(ctx, schema.DefaultTenant, schema.DefaultDatabase, "r"); err != nil {
		t.Fatal(err)
	}
	if err := db.propose(ctx, p); err == nil || !strings.Contains(err.Error(), "dropped") {
		t.Fatalf("write to a dropped table: %v", err)
	}
	errs, _ := db.Errors(ctx, schema.DefaultTenant)
	if len(errs) != 1 || errs[0].Stage != schema.StageApply || errs[0].Kind != schema.KindProcessing {
		t.Fatalf("errors table: %+v", errs)
	}
}
