package storage

import (
	"testing"

	"github.com/fineod/fineod/schema"
)

func applyRows(t *testing.T, s *RowStore, cat *schema.Catalog, index uint64, fill func(b *schema.Builder)) {
	t.Helper()
	b := schema.NewBuilder("db")
	fill(b)
	for _, e := range b.Missing(cat, schema.DefaultTenant) {
		if _, err := cat.Apply(&e, index); err != nil {
			t.Fatal(err)
		}
	}
	batch, ok := b.Resolve(cat, schema.DefaultTenant)
	if !ok {
		t.Fatal("resolve")
	}
	a := s.NewApply()
	if err := a.AddBatch(batch, index); err != nil {
		t.Fatal(err)
	}
	if err := a.SetCatalog(cat); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(index); err != nil {
		t.Fatal(err)
	}
}

type pt struct {
	series uint64
	t      int64
	fields map[uint32]any
}

func scanAll(t *testing.T, s *RowStore, table uint32) []pt {
	t.Helper()
	var out []pt
	err := s.Scan(1, table, nil, -1<<63, 1<<63-1, func(series uint64, ts int64, fields []FieldValue) error {
		m := map[uint32]any{}
		for _, f := range fields {
			m[f.ID] = f.Value()
		}
		out = append(out, pt{series, ts, m})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLastWriteWinsMerge(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenRowStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	cat := schema.NewCatalog()
	applyRows(t, s, cat, 1, func(b *schema.Builder) {
		b.StartRow([]byte("m"), -5) // negative times sort before positive ones
		b.AddTag([]byte("host"), []byte("a"))
		b.AddFloat([]byte("x"), 1)
		b.EndRow()
		b.StartRow([]byte("m"), 100)
		b.AddTag([]byte("host"), []byte("a"))
		b.AddFloat([]byte("x"), 1)
		b.AddString([]byte("s"), []byte("old"))
		b.EndRow()
	})
	// A second write of the same point merges: x is replaced, s kept, y added.
	applyRows(t, s, cat, 2, func(b *schema.Builder) {
		b.StartRow([]byte("m"), 100)
		b.AddTag([]byte("host"), []byte("a"))
		b.AddFloat([]byte("x"), 2)
		b.AddInt([]byte("y"), 7)
		b.EndRow()
	})
	tbl, _ := cat.Table(1, "db", "m")
	x, _ := tbl.Field("x", schema.TypeFloat)
	sf, _ := tbl.Field("s", schema.TypeString)
	y, _ := tbl.Field("y", schema.TypeInt)
	check := func(s *RowStore) {
		got := scanAll(t, s, tbl.ID)
		if len(got) != 2 || got[0].t != -5 || got[1].t != 100 {
			t.Fatalf("points %+v", got)
		}
		f := got[1].fields
		if f[x.ID] != 2.0 || f[sf.ID] != "old" || f[y.ID] != int64(7) || len(f) != 3 {
			t.Fatalf("merged fields %+v", f)
		}
	}
	check(s)
	if _, err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second close:", err)
	}
	s, err = OpenRowStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.AppliedIndex() != 2 {
		t.Fatalf("applied index %d", s.AppliedIndex())
	}
	check(s)
	cat2 := schema.NewCatalog()
	if err := s.LoadCatalog(cat2); err != nil {
		t.Fatal(err)
	}
	if _, ok := cat2.Table(1, "db", "m"); !ok {
		t.Fatal("catalog not persisted")
	}
	ids, err := s.SeriesWithTag(1, tbl.ID, "host", "a")
	if err != nil || len(ids) != 1 {
		t.Fatalf("tag index %v %v", ids, err)
	}
	// A new series after reopen gets a new id.
	applyRows(t, s, cat2, 3, func(b *schema.Builder) {
		b.StartRow([]byte("m"), 1)
		b.AddTag([]byte("host"), []byte("b"))
		b.AddFloat([]byte("x"), 1)
		b.EndRow()
	})
	ser, _ := s.Series(1, tbl.ID)
	if len(ser) != 2 || ser[0].ID == ser[1].ID {
		t.Fatalf("series %+v", ser)
	}
}

func TestMergeValues(t *testing.T) {
	older := appendString(appendFloat(nil, 1, 1.5), 3, []byte("a"))
	newer := appendBool(appendInt(nil, 2, schema.TypeInt, 9), 3, true)
	m, err := mergeValues(nil, older, newer)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := DecodeValue(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 || fs[0].F != 1.5 || fs[1].I != 9 || fs[2].Type != schema.TypeBool || !fs[2].B {
		t.Fatalf("%+v", fs)
	}
	for n := 1; n < len(m); n++ {
		if _, err := DecodeValue(m[:n], nil); err == nil && n != 9 && n != 18 {
			t.Fatalf("truncated value of %d bytes decoded", n)
		}
	}
}
