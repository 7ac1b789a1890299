package schema

import (
	"math"
	"reflect"
	"testing"
)

func buildSample(t *testing.T) (*Catalog, *Batch) {
	t.Helper()
	b := NewBuilder("plant1")
	b.StartRow([]byte("cpu"), 10)
	b.AddTag([]byte("region"), []byte("eu"))
	b.AddTag([]byte("host"), []byte("a"))
	b.AddFloat([]byte("usage"), 1.5)
	b.AddInt([]byte("n"), -3)
	b.EndRow()
	b.StartRow([]byte("cpu"), 20)
	b.AddTag([]byte("host"), []byte("a"))
	b.AddTag([]byte("region"), []byte("eu"))
	b.AddFloat([]byte("usage"), 2.5)
	b.AddString([]byte("note"), []byte("hi, there"))
	b.AddUint([]byte("big"), math.MaxUint64)
	b.AddBool([]byte("ok"), true)
	b.EndRow()
	b.StartRow([]byte("cpu"), 30)
	b.AddTag([]byte("host"), []byte("b"))
	b.AddFloat([]byte("usage"), 3)
	b.AddFloat([]byte("usage"), 4) // later value wins
	b.EndRow()
	b.AddError(ErrorRow{Time: 5, Stage: StageIngest, Kind: KindBadInput, Database: "plant1", Message: "bad", Raw: []byte("x y")})

	cat := NewCatalog()
	if _, ok := b.Resolve(cat, DefaultTenant); ok {
		t.Fatal("resolved against an empty catalog")
	}
	for i, e := range b.Missing(cat, DefaultTenant) {
		if _, err := cat.Apply(&e, uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if m := b.Missing(cat, DefaultTenant); len(m) != 0 {
		t.Fatalf("still missing %+v", m)
	}
	batch, ok := b.Resolve(cat, DefaultTenant)
	if !ok {
		t.Fatal("resolve failed after ensure")
	}
	return cat, batch
}

func TestBuilderGroupsBySeries(t *testing.T) {
	cat, batch := buildSample(t)
	if got := batch.Rows(); got != 3 {
		t.Fatalf("rows = %d", got)
	}
	if len(batch.Tables) != 1 || len(batch.Tables[0].Series) != 2 {
		t.Fatalf("tables/series: %+v", batch)
	}
	s := batch.Tables[0].Series[0]
	if !reflect.DeepEqual(s.Tags, []string{"host", "a", "region", "eu"}) {
		t.Fatalf("tags %v", s.Tags)
	}
	if !reflect.DeepEqual(s.Times, []int64{10, 20}) {
		t.Fatalf("times %v", s.Times)
	}
	tbl, _ := cat.TableByID(batch.Tables[0].Table)
	byName := map[string]Column{}
	for _, c := range s.Fields {
		f, _ := tbl.FieldByID(c.ID)
		byName[f.Name] = c
	}
	if c := byName["n"]; !c.Has(0) || c.Has(1) || c.I[0] != -3 {
		t.Fatalf("n column %+v", c)
	}
	if c := byName["note"]; c.Has(0) || !c.Has(1) || string(c.S[0]) != "hi, there" {
		t.Fatalf("note column %+v", c)
	}
	if c := byName["big"]; uint64(c.I[0]) != math.MaxUint64 {
		t.Fatalf("big column %+v", c)
	}
	if c := batch.Tables[0].Series[1].Fields[0]; c.F[0] != 4 {
		t.Fatalf("duplicate field: %+v", c)
	}
}

func TestBatchCodecRoundTrip(t *testing.T) {
	_, batch := buildSample(t)
	p, err := EncodeBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	var got Batch
	if err := DecodeBatch(p, &got); err != nil {
		t.Fatal(err)
	}
	normalize(batch)
	normalize(&got)
	if !reflect.DeepEqual(*batch, got) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, *batch)
	}
	// Every truncation fails cleanly.
	for n := 0; n < len(p); n++ {
		var b Batch
		if err := DecodeBatch(p[:n], &b); err == nil && n < len(p)-0 {
			// A prefix can only decode if it is the whole record.
			t.Fatalf("truncated payload of %d/%d bytes decoded", n, len(p))
		}
	}
	if _, err := EntryKind([]byte{EntryBatch, 99}); err == nil {
		t.Fatal("unknown version accepted")
	}
}

// normalize makes nil and empty slices compare equal.
func normalize(b *Batch) {
	for i := range b.Tables {
		for j := range b.Tables[i].Series {
			for k := range b.Tables[i].Series[j].Fields {
				c := &b.Tables[i].Series[j].Fields[k]
				if len(c.Present) == 0 {
					c.Present = nil
				}
				if len(c.F) == 0 {
					c.F = nil
				}
				if len(c.I) == 0 {
					c.I = nil
				}
				if len(c.S) == 0 {
					c.S = nil
				}
				if len(c.B) == 0 {
					c.B = nil
				}
			}
		}
	}
}

func TestEnsureCodecAndIdempotentApply(t *testing.T) {
	e := Ensure{Tenant: "t", Database: "d", Table: "x", TagKeys: []string{"a"}, Fields: []FieldSpec{{"v", int(TypeFloat)}, {"v", int(TypeString)}}}
	p, err := EncodeEnsure(&e)
	if err != nil {
		t.Fatal(err)
	}
	var got Ensure
	if err := DecodeEnsure(p, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e, got) {
		t.Fatalf("got %+v", got)
	}
	c := NewCatalog()
	if ch, err := c.Apply(&got, 1); err != nil || !ch {
		t.Fatal(ch, err)
	}
	if ch, err := c.Apply(&got, 2); err != nil || ch {
		t.Fatal("second apply changed the catalog", ch, err)
	}
	tb, _ := c.Table(1, "d", "x")
	if len(tb.Fields) != 2 || tb.Fields[1].ID != 2 || tb.Fields[1].Type != TypeString {
		t.Fatalf("fields %+v", tb.Fields)
	}
	js, _ := c.MarshalJSON()
	c2 := NewCatalog()
	if err := c2.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	js2, _ := c2.MarshalJSON()
	if string(js) != string(js2) {
		t.Fatalf("catalog json round trip:\n%s\n%s", js, js2)
	}
}

func TestDropCodecAndApply(t *testing.T) {
	d := Drop{Tenant: "t", Database: "d", Table: "x"}
	p, err := EncodeDrop(&d)
	if err != nil {
		t.Fatal(err)
	}
	var got Drop
	if err := DecodeDrop(p, &got); err != nil || got != d {
		t.Fatalf("%+v %v", got, err)
	}
	if err := DecodeDrop(p[:len(p)-1], &got); err == nil {
		t.Fatal("truncated drop decoded")
	}
	c := NewCatalog()
	c.Apply(&Ensure{Tenant: "t", Database: "d", Table: "x"}, 1)
	old, _ := c.Table(1, "d", "x")
	if tb, ok := c.ApplyDrop(&d); !ok || tb.ID != old.ID {
		t.Fatalf("drop: %v %v", tb, ok)
	}
	if _, ok := c.ApplyDrop(&d); ok {
		t.Fatal("second drop found the table")
	}
	c.Apply(&Ensure{Tenant: "t", Database: "d", Table: "x"}, 2)
	if nt, _ := c.Table(1, "d", "x"); nt.ID == old.ID {
		t.Fatal("a re-created table reused the dropped table's id")
	}
}
