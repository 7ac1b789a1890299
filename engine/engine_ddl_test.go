package engine

import (
	"context"
	"testing"

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
		if ti.Columns[i] != want[i] {
			t.Fatalf("column %d: %v, want %v", i, ti.Columns[i], want[i])
		}
	}
}
