package schema

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const (
	testTenant = "acme"
	testDB     = "plant"
)

// ensureFields applies an Ensure of table with the given tags and fields.
func ensureFields(t *testing.T, c *Catalog, index uint64, table string, tags []string, fields ...FieldSpec) {
	t.Helper()
	if _, err := c.Apply(&Ensure{Tenant: testTenant, Database: testDB, Table: table, TagKeys: tags, Fields: fields}, index); err != nil {
		t.Fatal(err)
	}
}

func fs(name string, typ Type) FieldSpec { return FieldSpec{Name: name, Type: int(typ)} }

func alterOf(table string, ops ...AlterOp) *Alter {
	return &Alter{Tenant: testTenant, Database: testDB, Table: table, User: "ops", Statement: "ALTER ...", Time: 42, Ops: ops}
}

// mustTable returns the physical table named name.
func mustTable(t *testing.T, c *Catalog, name string) *Table {
	t.Helper()
	ten, _ := c.Tenant(testTenant)
	tb, ok := c.Table(ten.ID, testDB, name)
	if !ok {
		t.Fatalf("no table %q", name)
	}
	return tb
}

func resolve(t *testing.T, c *Catalog, name string) (*Table, bool) {
	t.Helper()
	ten, _ := c.Tenant(testTenant)
	return c.ResolveTable(ten.ID, testDB, name)
}

func catalogJSON(t *testing.T, c *Catalog) string {
	t.Helper()
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// baseCatalog has table t1 (tag host; fields a float, b int, c string) and
// table other (field v float).
func baseCatalog(t *testing.T) *Catalog {
	t.Helper()
	c := NewCatalog()
	ensureFields(t, c, 1, "t1", []string{"host"}, fs("a", TypeFloat), fs("b", TypeInt), fs("c", TypeString))
	ensureFields(t, c, 2, "other", nil, fs("v", TypeFloat))
	return c
}

func src(ids ...uint32) []Source {
	var out []Source
	for _, id := range ids {
		out = append(out, Source{Field: id})
	}
	return out
}

func TestAlterOps(t *testing.T) {
	conv := func(expr, ref string) []Conversion { return []Conversion{{Expr: expr, Ref: ref}} }
	for _, tc := range []struct {
		name   string
		ops    [][]AlterOp // one Alter each, applied in order
		err    string      // substring of the last Alter's error ("" = success)
		change string      // the last history entry's change
		check  func(t *testing.T, c *Catalog, tb *Table)
	}{
		{
			name:   "rename column",
			ops:    [][]AlterOp{{{Op: OpRenameColumn, Column: "a", Name: "x"}}},
			change: "rename column a to x",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				col, ok := tb.Column("a")
				if !ok || col.Name != "x" || !reflect.DeepEqual(col.Aliases, []string{"a"}) || !reflect.DeepEqual(col.Sources, src(1)) {
					t.Fatalf("old name does not resolve to x: %+v", col)
				}
			},
		},
		{
			name: "rename column back",
			ops: [][]AlterOp{
				{{Op: OpRenameColumn, Column: "a", Name: "x"}},
				{{Op: OpRenameColumn, Column: "x", Name: "a"}},
			},
			check: func(t *testing.T, c *Catalog, tb *Table) {
				if col := tb.Columns[0]; col.Name != "a" || !reflect.DeepEqual(col.Aliases, []string{"x"}) {
					t.Fatalf("%+v", col)
				}
			},
		},
		{name: "rename column to a column", ops: [][]AlterOp{{{Op: OpRenameColumn, Column: "a", Name: "b"}}}, err: `column "b" already exists`},
		{name: "rename column to an alias", ops: [][]AlterOp{{{Op: OpRenameColumn, Column: "a", Name: "x"}}, {{Op: OpRenameColumn, Column: "b", Name: "a"}}}, err: `"a" is already an alias of column "x"`},
		{name: "rename column to a tag", ops: [][]AlterOp{{{Op: OpRenameColumn, Column: "a", Name: "host"}}}, err: "tag key"},
		{name: "rename column to time", ops: [][]AlterOp{{{Op: OpRenameColumn, Column: "a", Name: "time"}}}, err: "time column"},
		{name: "rename unknown column", ops: [][]AlterOp{{{Op: OpRenameColumn, Column: "nope", Name: "x"}}}, err: `column "nope" does not exist`},
		{
			name:   "add column",
			ops:    [][]AlterOp{{{Op: OpAddColumn, Name: "d", Type: int(TypeBool)}}},
			change: "add column d boolean",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				col, ok := tb.Column("d")
				if !ok || col.Type != TypeBool || len(col.Sources) != 0 {
					t.Fatalf("%+v", col)
				}
			},
		},
		{name: "add column of unknown type", ops: [][]AlterOp{{{Op: OpAddColumn, Name: "d", Type: 99}}}, err: "unknown type 99"},
		{name: "add existing column", ops: [][]AlterOp{{{Op: OpAddColumn, Name: "c", Type: int(TypeString)}}}, err: "already exists"},
		{
			name:   "drop column",
			ops:    [][]AlterOp{{{Op: OpDropColumn, Column: "a"}}},
			change: "drop column a",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				if _, ok := tb.Column("a"); ok {
					t.Fatal("dropped column visible")
				}
				if col, ok := tb.LookupColumn("a", true); !ok || !col.Hidden || len(col.Sources) != 1 {
					t.Fatalf("dropped column lost: %+v", col)
				}
				if n := len(tb.VisibleColumns()); n != 2 {
					t.Fatalf("%d visible columns", n)
				}
			},
		},
		{name: "drop dropped column", ops: [][]AlterOp{{{Op: OpDropColumn, Column: "a"}}, {{Op: OpDropColumn, Column: "a"}}}, err: "already dropped"},
		{name: "add column named like a dropped one", ops: [][]AlterOp{{{Op: OpDropColumn, Column: "a"}}, {{Op: OpAddColumn, Name: "a", Type: int(TypeFloat)}}}, err: "restore it"},
		{
			name:   "restore column",
			ops:    [][]AlterOp{{{Op: OpDropColumn, Column: "a"}}, {{Op: OpRestoreColumn, Column: "a"}}},
			change: "restore column a",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				if _, ok := tb.Column("a"); !ok {
					t.Fatal("restored column not visible")
				}
			},
		},
		{name: "restore visible column", ops: [][]AlterOp{{{Op: OpRestoreColumn, Column: "a"}}}, err: "not dropped"},
		{
			name:   "alter type without conversion",
			ops:    [][]AlterOp{{{Op: OpAlterColumnType, Column: "b", Type: int(TypeFloat)}}},
			change: "alter column b type double precision",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				if col := tb.Columns[1]; col.Type != TypeFloat || !reflect.DeepEqual(col.Sources, src(2)) || tb.Fields[1].Sealed {
					t.Fatalf("%+v %+v", col, tb.Fields[1])
				}
			},
		},
		{
			name:   "alter type converting the column itself",
			ops:    [][]AlterOp{{{Op: OpAlterColumnType, Column: "a", Type: int(TypeFloat), Expr: "(a - 32) * 5 / 9", Ref: "a"}}},
			change: "alter column a type double precision using (a - 32) * 5 / 9",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				want := []Source{{Field: 1, Conv: conv("(a - 32) * 5 / 9", "a")}}
				if col := tb.Columns[0]; !reflect.DeepEqual(col.Sources, want) || !tb.Fields[0].Sealed {
					t.Fatalf("%+v %+v", col, tb.Fields[0])
				}
				if _, ok := tb.WriteField("a", TypeFloat); ok {
					t.Fatal("sealed field still takes writes")
				}
				if f, ok := tb.Field("a", TypeFloat); !ok || f.ID != 1 {
					t.Fatal("Field no longer finds the sealed field")
				}
			},
		},
		{
			name: "alter type reading another column",
			ops:  [][]AlterOp{{{Op: OpAlterColumnType, Column: "b", Type: int(TypeFloat), Expr: "a * 2", Ref: "a"}}},
			check: func(t *testing.T, c *Catalog, tb *Table) {
				want := []Source{{Field: 2}, {Field: 1, Conv: conv("a * 2", "a")}}
				if col := tb.Columns[1]; !reflect.DeepEqual(col.Sources, want) || col.Type != TypeFloat || tb.Fields[0].Sealed {
					t.Fatalf("%+v", col)
				}
			},
		},
		{name: "alter type reading an unknown column", ops: [][]AlterOp{{{Op: OpAlterColumnType, Column: "b", Type: int(TypeFloat), Expr: "z", Ref: "z"}}}, err: `reads column "z"`},
		{name: "alter type ref without expression", ops: [][]AlterOp{{{Op: OpAlterColumnType, Column: "b", Type: int(TypeFloat), Ref: "a"}}}, err: "without a conversion"},
		{name: "alter type of dropped column", ops: [][]AlterOp{{{Op: OpDropColumn, Column: "b"}}, {{Op: OpAlterColumnType, Column: "b", Type: int(TypeFloat)}}}, err: `column "b" is dropped`},
		{
			name:   "add field alias",
			ops:    [][]AlterOp{{{Op: OpAddFieldAlias, Column: "a", Name: "a_legacy"}}},
			change: "add field alias a_legacy to column a",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				ensureFields(t, c, 100, "t1", nil, fs("a_legacy", TypeString))
				tb = mustTable(t, c, "t1")
				if col := tb.Columns[0]; !reflect.DeepEqual(col.Sources, src(1, 4)) {
					t.Fatalf("new raw field not claimed: %+v", col)
				}
				if len(tb.Columns) != 3 {
					t.Fatalf("aliased raw name got a column: %+v", tb.Columns)
				}
			},
		},
		{name: "add field alias naming a column", ops: [][]AlterOp{{{Op: OpAddFieldAlias, Column: "a", Name: "b"}}}, err: `"b" already names column "b"`},
		{
			name: "add field alias taking a dropped column's name",
			ops:  [][]AlterOp{{{Op: OpDropColumn, Column: "c"}}, {{Op: OpAddFieldAlias, Column: "a", Name: "c"}}},
			check: func(t *testing.T, c *Catalog, tb *Table) {
				if col, _ := tb.Column("c"); col == nil || col.Name != "a" || !reflect.DeepEqual(col.Sources, src(1, 3)) {
					t.Fatalf("%+v", col)
				}
			},
		},
		{
			name:   "remove field alias",
			ops:    [][]AlterOp{{{Op: OpDropColumn, Column: "c"}}, {{Op: OpAddFieldAlias, Column: "a", Name: "c"}}, {{Op: OpRemoveFieldAlias, Column: "a", Name: "c"}}},
			change: "remove field alias c from column a",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				if col := tb.Columns[0]; len(col.Aliases) != 0 || !reflect.DeepEqual(col.Sources, src(1)) {
					t.Fatalf("%+v", col)
				}
			},
		},
		{name: "remove unknown field alias", ops: [][]AlterOp{{{Op: OpRemoveFieldAlias, Column: "a", Name: "q"}}}, err: `no alias "q"`},
		{
			name:   "set strict",
			ops:    [][]AlterOp{{{Op: OpSetStrict, Enabled: true}}},
			change: "set strict on",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				ensureFields(t, c, 100, "t1", nil, fs("new", TypeInt))
				tb = mustTable(t, c, "t1")
				if _, ok := tb.Column("new"); ok {
					t.Fatal("strict table got a column")
				}
				if u := tb.Unmapped(); len(u) != 1 || u[0].Name != "new" {
					t.Fatalf("unmapped %+v", u)
				}
				if _, err := c.ApplyAlter(alterOf("t1", AlterOp{Op: OpAddColumn, Name: "new", Type: int(TypeFloat)}), 101); err != nil {
					t.Fatal(err)
				}
				tb = mustTable(t, c, "t1")
				if col, ok := tb.Column("new"); !ok || !reflect.DeepEqual(col.Sources, src(4)) || len(tb.Unmapped()) != 0 {
					t.Fatalf("add column did not map the unmapped field: %+v", col)
				}
			},
		},
		{
			name:   "set ttl",
			ops:    [][]AlterOp{{{Op: OpSetTTL, Int: 7 * 24 * 3600e9}}},
			change: "set ttl 168h0m0s",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				if tb.TTL != 7*24*3600e9 {
					t.Fatal(tb.TTL)
				}
			},
		},
		{name: "negative ttl", ops: [][]AlterOp{{{Op: OpSetTTL, Int: -1}}}, err: "negative ttl"},
		{
			name:   "rename table",
			ops:    [][]AlterOp{{{Op: OpRenameTable, Name: "t2"}}},
			change: "rename table t1 to t2",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				ten, _ := c.Tenant(testTenant)
				if _, ok := c.Table(ten.ID, testDB, "t1"); ok {
					t.Fatal("old physical name still a key")
				}
				for _, name := range []string{"t1", "t2"} {
					if r, ok := resolve(t, c, name); !ok || r.ID != tb.ID {
						t.Fatalf("%s does not resolve", name)
					}
					if w, ok := c.WriteTable(ten.ID, testDB, name); !ok || w.ID != tb.ID {
						t.Fatalf("writes to %s do not land in the table", name)
					}
				}
				// A write under the old name feeds the renamed table.
				ensureFields(t, c, 100, "t1", nil, fs("d", TypeBool))
				if tb := mustTable(t, c, "t2"); len(tb.Fields) != 4 || len(c.Tables(ten.ID, testDB)) != 2 {
					t.Fatalf("old name made a new table: %+v", c.Tables(ten.ID, testDB))
				}
			},
		},
		{name: "rename table to an existing table", ops: [][]AlterOp{{{Op: OpRenameTable, Name: "other"}}}, err: `table "other" already exists`},
		{
			name:   "add and remove a table alias",
			ops:    [][]AlterOp{{{Op: OpAddTableAlias, Name: "legacy"}}, {{Op: OpRemoveTableAlias, Name: "legacy"}}},
			change: "remove table alias legacy",
			check: func(t *testing.T, c *Catalog, tb *Table) {
				if _, ok := resolve(t, c, "legacy"); ok || len(tb.Aliases) != 0 {
					t.Fatal("removed alias still resolves")
				}
			},
		},
		{name: "table alias of another table", ops: [][]AlterOp{{{Op: OpAddTableAlias, Name: "x"}}, {{Op: OpAddTableAlias, Name: "x"}}}, err: `already names table "t1"`},
		{name: "remove unknown table alias", ops: [][]AlterOp{{{Op: OpRemoveTableAlias, Name: "x"}}}, err: `no alias "x"`},
		{name: "unknown operation", ops: [][]AlterOp{{{Op: "frobnicate"}}}, err: `unknown operation "frobnicate"`},
		{name: "no operations", ops: [][]AlterOp{{}}, err: "no operations"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := baseCatalog(t)
			var err error
			table := "t1"
			for i, ops := range tc.ops {
				var tb *Table
				tb, err = c.ApplyAlter(alterOf(table, ops...), uint64(10+i))
				if err != nil && i < len(tc.ops)-1 {
					t.Fatalf("alter %d: %v", i, err)
				}
				if err == nil {
					table = tb.Name
				}
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tb, _ := resolve(t, c, table)
			if tb.SchemaVersion != uint64(len(tc.ops)) {
				t.Fatalf("schema version %d", tb.SchemaVersion)
			}
			h := c.History(tb.TenantID)
			if len(h) != len(tc.ops) || h[len(h)-1].Version != tb.SchemaVersion || h[len(h)-1].Index != uint64(10+len(tc.ops)-1) {
				t.Fatalf("history %+v", h)
			}
			if tc.change != "" && h[len(h)-1].Change != tc.change {
				t.Fatalf("change %q, want %q", h[len(h)-1].Change, tc.change)
			}
			if tc.check != nil {
				tc.check(t, c, tb)
			}
		})
	}
}

// thermoStory builds the catalog of the late-binding story and returns it
// with the Alters applied to it (so they can be replayed elsewhere).
//
// thermo (legacy devices) sends temp in °C; thermostat sends temperature_f,
// as float and sometimes as a string. The user merges thermo into
// thermostat, renames temp to temperature_c, and makes temperature_f read
// the legacy values converted.
func thermoStory(t *testing.T, c *Catalog) {
	t.Helper()
	ensureFields(t, c, 1, "thermo", []string{"device"}, fs("temp", TypeFloat))
	ensureFields(t, c, 2, "thermostat", []string{"room"}, fs("temperature_f", TypeFloat), fs("temperature_f", TypeString))
	for i, a := range storyAlters() {
		if _, err := c.ApplyAlter(a, uint64(10+i)); err != nil {
			t.Fatalf("alter %d: %v", i, err)
		}
	}
}

func storyAlters() []*Alter {
	return []*Alter{
		alterOf("thermostat", AlterOp{Op: OpAddTableAlias, Name: "thermo"}),
		alterOf("thermostat", AlterOp{Op: OpRenameColumn, Column: "temp", Name: "temperature_c"}),
		alterOf("thermostat", AlterOp{Op: OpAlterColumnType, Column: "temperature_f", Type: int(TypeFloat), Expr: "temp * 9 / 5 + 32", Ref: "temp"}),
	}
}

func TestLateBindingStory(t *testing.T) {
	c := NewCatalog()
	thermoStory(t, c)
	thermo := mustTable(t, c, "thermo")
	l, ok := resolve(t, c, "thermo")
	if !ok || l.Name != "thermostat" || thermo.MemberOf != l.ID || !reflect.DeepEqual(l.Members, []uint32{thermo.ID}) {
		t.Fatalf("thermo does not resolve to thermostat: %+v", l)
	}
	if got := c.TagKeys(l); !reflect.DeepEqual(got, []string{"room", "device"}) {
		t.Fatalf("logical tag keys %v", got)
	}
	conv := Conversion{Expr: "temp * 9 / 5 + 32", Ref: "temp"}
	want := []LogicalColumn{
		{Name: "temperature_f", Type: TypeFloat, Sources: []Source{{Field: 1}, {Field: 2}, {Table: thermo.ID, Field: 1, Conv: []Conversion{conv}}}},
		{Name: "temperature_c", Type: TypeFloat, Sources: []Source{{Table: thermo.ID, Field: 1}}, Aliases: []string{"temp"}},
	}
	if !reflect.DeepEqual(l.Columns, want) {
		t.Fatalf("columns\n got %+v\nwant %+v", l.Columns, want)
	}
	if col, ok := l.Column("temp"); !ok || col.Name != "temperature_c" {
		t.Fatalf("temp resolves to %+v", col)
	}
	// The member keeps its own columns and its fields are not sealed (the
	// conversion read them through another column).
	if !reflect.DeepEqual(thermo.Columns, []LogicalColumn{{Name: "temp", Type: TypeFloat, Sources: src(1)}}) || thermo.Fields[0].Sealed {
		t.Fatalf("member changed: %+v", thermo)
	}
	if f, ok := c.SourceField(l, l.Columns[1].Sources[0]); !ok || f.Name != "temp" {
		t.Fatalf("source field %+v", f)
	}

	// A new field written to the member is claimed by the logical table too.
	ensureFields(t, c, 20, "thermo", nil, fs("temp", TypeString), fs("humidity", TypeFloat))
	l, _ = resolve(t, c, "thermostat")
	if got := l.Columns[1].Sources; !reflect.DeepEqual(got, []Source{{Table: thermo.ID, Field: 1}, {Table: thermo.ID, Field: 2}}) {
		t.Fatalf("temperature_c sources %+v", got)
	}
	if col, ok := l.Column("humidity"); !ok || !reflect.DeepEqual(col.Sources, []Source{{Table: thermo.ID, Field: 3}}) {
		t.Fatalf("humidity %+v", col)
	}

	// Rename back: the alias becomes the name again.
	if _, err := c.ApplyAlter(alterOf("thermo", AlterOp{Op: OpRenameColumn, Column: "temperature_c", Name: "temp"}), 30); err != nil {
		t.Fatal(err)
	}
	l, _ = resolve(t, c, "thermostat")
	if col := l.Columns[1]; col.Name != "temp" || !reflect.DeepEqual(col.Aliases, []string{"temperature_c"}) {
		t.Fatalf("renamed back: %+v", col)
	}
	if l.SchemaVersion != 4 {
		t.Fatalf("schema version %d", l.SchemaVersion)
	}
	var changes []string
	for _, h := range c.History(l.TenantID) {
		if h.Table != "thermostat" || h.User != "ops" || h.Time != 42 {
			t.Fatalf("history entry %+v", h)
		}
		changes = append(changes, h.Change)
	}
	wantChanges := []string{
		"add table alias thermo (merges table thermo)",
		"rename column temp to temperature_c",
		"alter column temperature_f type double precision using temp * 9 / 5 + 32",
		"rename column temperature_c to temp",
	}
	if !reflect.DeepEqual(changes, wantChanges) {
		t.Fatalf("history\n got %q\nwant %q", changes, wantChanges)
	}
	if got := c.LogicalTables(l.TenantID, testDB); len(got) != 1 || got[0].ID != l.ID {
		t.Fatalf("logical tables %+v", got)
	}

	// Undo the merge: thermo stands alone; columns only it fed go away.
	if _, err := c.ApplyAlter(alterOf("thermostat", AlterOp{Op: OpRemoveTableAlias, Name: "thermo"}), 31); err != nil {
		t.Fatal(err)
	}
	l, _ = resolve(t, c, "thermostat")
	if r, _ := resolve(t, c, "thermo"); r.ID == l.ID || r.MemberOf != 0 || len(l.Members) != 0 {
		t.Fatal("thermo still a member")
	}
	if want := []LogicalColumn{{Name: "temperature_f", Type: TypeFloat, Sources: src(1, 2)}}; !reflect.DeepEqual(l.Columns, want) {
		t.Fatalf("after removing the alias: %+v", l.Columns)
	}
}

func TestAlterAllOrNothing(t *testing.T) {
	c := NewCatalog()
	thermoStory(t, c)
	before, version := catalogJSON(t, c), c.Version()
	_, err := c.ApplyAlter(alterOf("thermostat",
		AlterOp{Op: OpRenameTable, Name: "hvac"},
		AlterOp{Op: OpRenameColumn, Column: "temperature_f", Name: "tf"},
		AlterOp{Op: OpAlterColumnType, Column: "temperature_c", Type: int(TypeInt), Expr: "temp * 100", Ref: "temp"}, // seals thermo's field
		AlterOp{Op: OpRemoveTableAlias, Name: "thermo"},
		AlterOp{Op: OpDropColumn, Column: "nope"},
	), 50)
	if err == nil || !strings.Contains(err.Error(), `drop_column "nope": column "nope" does not exist`) {
		t.Fatalf("error %v", err)
	}
	if after := catalogJSON(t, c); after != before || c.Version() != version {
		t.Fatalf("a failed alter changed the catalog:\n%s\n%s", before, after)
	}
	if _, ok := resolve(t, c, "hvac"); ok {
		t.Fatal("renamed by a failed alter")
	}
	if thermo := mustTable(t, c, "thermo"); thermo.Fields[0].Sealed || thermo.MemberOf == 0 {
		t.Fatal("member changed by a failed alter")
	}
}

// TestAlterMultipleOps applies several operations in one Alter; each sees
// the ones before it.
func TestAlterMultipleOps(t *testing.T) {
	c := baseCatalog(t)
	tb, err := c.ApplyAlter(alterOf("t1",
		AlterOp{Op: OpRenameTable, Name: "t2"},
		AlterOp{Op: OpRenameColumn, Column: "a", Name: "x"},
		AlterOp{Op: OpAlterColumnType, Column: "x", Type: int(TypeFloat), Expr: "a / 10", Ref: "a"},
		AlterOp{Op: OpAddTableAlias, Name: "other"},
	), 5)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Name != "t2" || tb.SchemaVersion != 1 || len(tb.Members) != 1 || !tb.Fields[0].Sealed {
		t.Fatalf("%+v", tb)
	}
	h := c.History(tb.TenantID)
	if len(h) != 1 || h[0].Table != "t1" || !strings.HasPrefix(h[0].Change, "rename table t1 to t2; rename column a to x; ") {
		t.Fatalf("history %+v", h)
	}
}

func TestCatalogJSONRoundTripKeepsLogicalModel(t *testing.T) {
	c := NewCatalog()
	thermoStory(t, c)
	if _, err := c.ApplyAlter(alterOf("thermostat", AlterOp{Op: OpSetStrict, Enabled: true}, AlterOp{Op: OpSetTTL, Int: 1e9},
		AlterOp{Op: OpAlterColumnType, Column: "temperature_c", Type: int(TypeFloat), Expr: "temperature_c + 0.5", Ref: "temperature_c"}), 40); err != nil {
		t.Fatal(err)
	}
	js := catalogJSON(t, c)
	c2 := NewCatalog()
	if err := json.Unmarshal([]byte(js), c2); err != nil {
		t.Fatal(err)
	}
	if js2 := catalogJSON(t, c2); js2 != js {
		t.Fatalf("round trip:\n%s\n%s", js, js2)
	}
	l1, _ := resolve(t, c, "thermo")
	l2, ok := resolve(t, c2, "thermo")
	if !ok || !reflect.DeepEqual(l1, l2) {
		t.Fatalf("reloaded table differs:\n%+v\n%+v", l1, l2)
	}
	if !l2.Strict || l2.TTL != 1e9 || !mustTable(t, c2, "thermo").Fields[0].Sealed {
		t.Fatalf("%+v", l2)
	}
	if h1, h2 := c.History(l1.TenantID), c2.History(l2.TenantID); len(h2) != 4 || !reflect.DeepEqual(h1, h2) {
		t.Fatalf("history %+v", h2)
	}
	if h := c2.History(l1.TenantID + 1); len(h) != 0 {
		t.Fatalf("another tenant sees history %+v", h)
	}
}

func TestDeriveColumnsForOldCatalog(t *testing.T) {
	// A catalog as written before logical columns: no format, no columns.
	old := `{"version":3,"next_tenant":2,"next_table":2,
	 "tenants":[{"id":1,"name":"acme","databases":["plant"]}],
	 "tables":[{"id":1,"tenant_id":1,"database":"plant","name":"cpu","tag_keys":["host"],
	   "fields":[{"id":1,"name":"temp","type":1},{"id":2,"name":"n","type":2},{"id":3,"name":"temp","type":4},
	             {"id":4,"name":"host","type":4},{"id":5,"name":"time","type":2},{"id":6,"name":"n","type":1}],
	   "created":1}]}`
	c := NewCatalog()
	if err := json.Unmarshal([]byte(old), c); err != nil {
		t.Fatal(err)
	}
	tb := mustTable(t, c, "cpu")
	want := []LogicalColumn{
		{Name: "temp", Type: TypeFloat, Sources: src(1, 3)},
		{Name: "n", Type: TypeInt, Sources: src(2, 6)},
	}
	if !reflect.DeepEqual(tb.Columns, want) || !reflect.DeepEqual(tb.VisibleColumns(), want) {
		t.Fatalf("derived %+v", tb.Columns)
	}
	if u := tb.Unmapped(); len(u) != 2 || u[0].Name != "host" || u[1].Name != "time" {
		t.Fatalf("unmapped %+v", u)
	}
	// Saved again, it keeps the columns (and does not derive them twice).
	c2 := NewCatalog()
	if err := c2.UnmarshalJSON([]byte(catalogJSON(t, c))); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(mustTable(t, c2, "cpu").Columns, want) {
		t.Fatal("columns lost on reload")
	}
	if !strings.Contains(catalogJSON(t, c2), `"format":2`) {
		t.Fatal("no format")
	}
	if err := c2.UnmarshalJSON([]byte(`{"format":99}`)); err == nil {
		t.Fatal("a newer format loaded")
	}
}

// TestClaimMatchesDerivation checks that columns built write by write equal
// the columns derived for the same fields, so tables written before and
// after the logical model read alike.
func TestClaimMatchesDerivation(t *testing.T) {
	c := NewCatalog()
	ensureFields(t, c, 1, "m", []string{"host"}, fs("a", TypeFloat), fs("b", TypeInt))
	ensureFields(t, c, 2, "m", []string{"zone"}, fs("a", TypeString), fs("host", TypeString), fs("time", TypeInt), fs("zone", TypeBool))
	ensureFields(t, c, 3, "m", nil, fs("c", TypeBool), fs("b", TypeFloat), fs("a", TypeInt))
	tb := mustTable(t, c, "m")
	if got, want := tb.Columns, deriveColumns(tb); !reflect.DeepEqual(got, want) {
		t.Fatalf("claimed %+v\nderived %+v", got, want)
	}
}

func TestSealedFieldNewWriteLandsInNewField(t *testing.T) {
	c := NewCatalog()
	write := func(v float64) *Batch {
		t.Helper()
		b := NewBuilder(testDB)
		b.StartRow([]byte("probe"), 1)
		b.AddFloat([]byte("temp_f"), v)
		b.EndRow()
		for i, e := range b.Missing(c, testTenant) {
			if _, err := c.Apply(&e, uint64(100+i)); err != nil {
				t.Fatal(err)
			}
		}
		batch, ok := b.Resolve(c, testTenant)
		if !ok {
			t.Fatal("resolve failed")
		}
		return batch
	}
	if id := write(70).Tables[0].Series[0].Fields[0].ID; id != 1 {
		t.Fatalf("first write to field %d", id)
	}
	if _, err := c.ApplyAlter(alterOf("probe",
		AlterOp{Op: OpAlterColumnType, Column: "temp_f", Type: int(TypeFloat), Expr: "(temp_f - 32) * 5 / 9", Ref: "temp_f"},
		AlterOp{Op: OpRenameColumn, Column: "temp_f", Name: "temp_c"}), 5); err != nil {
		t.Fatal(err)
	}
	if id := write(21.5).Tables[0].Series[0].Fields[0].ID; id != 2 {
		t.Fatalf("write after the type change went to field %d", id)
	}
	tb := mustTable(t, c, "probe")
	want := []LogicalColumn{{Name: "temp_c", Type: TypeFloat, Aliases: []string{"temp_f"},
		Sources: []Source{{Field: 1, Conv: []Conversion{{Expr: "(temp_f - 32) * 5 / 9", Ref: "temp_f"}}}, {Field: 2}}}}
	if !reflect.DeepEqual(tb.Columns, want) {
		t.Fatalf("columns %+v", tb.Columns)
	}
	if f, ok := tb.WriteField("temp_f", TypeFloat); !ok || f.ID != 2 {
		t.Fatalf("write field %+v", f)
	}
	// A third write reuses the new field.
	if id := write(22).Tables[0].Series[0].Fields[0].ID; id != 2 || len(mustTable(t, c, "probe").Fields) != 2 {
		t.Fatalf("third write went to field %d", id)
	}
}

func TestAddTableAliasErrors(t *testing.T) {
	c := NewCatalog()
	for i, name := range []string{"a", "b", "c", "d"} {
		ensureFields(t, c, uint64(i+1), name, nil, fs("v", TypeFloat))
	}
	steps := []struct {
		table string
		op    AlterOp
		err   string
	}{
		{"a", AlterOp{Op: OpAddTableAlias, Name: "b"}, ""},
		{"c", AlterOp{Op: OpAddTableAlias, Name: "b"}, `"b" is already an alias of table "a"`},
		{"c", AlterOp{Op: OpAddTableAlias, Name: "a"}, `table "a" has member tables of its own`},
		{"c", AlterOp{Op: OpAddTableAlias, Name: "c"}, `"c" already names table "c"`},
		{"b", AlterOp{Op: OpAddTableAlias, Name: "x"}, ""}, // b resolves to a
		{"c", AlterOp{Op: OpRenameTable, Name: "x"}, `"x" is already an alias of table "a"`},
		{"a", AlterOp{Op: OpRenameTable, Name: "b"}, `table "b" already exists`},
		{"a", AlterOp{Op: OpRenameColumn, Column: "v", Name: "w"}, ""},
	}
	for i, s := range steps {
		_, err := c.ApplyAlter(alterOf(s.table, s.op), uint64(10+i))
		if (err == nil) != (s.err == "") || (err != nil && !strings.Contains(err.Error(), s.err)) {
			t.Fatalf("step %d: error %v, want %q", i, err, s.err)
		}
	}
	a := mustTable(t, c, "a")
	b := mustTable(t, c, "b")
	if !reflect.DeepEqual(a.Aliases, []string{"b", "x"}) || b.MemberOf != a.ID {
		t.Fatalf("%+v", a)
	}
	// Both a's and b's field read through the renamed column.
	want := []LogicalColumn{{Name: "w", Type: TypeFloat, Aliases: []string{"v"}, Sources: []Source{{Field: 1}, {Table: b.ID, Field: 1}}}}
	if !reflect.DeepEqual(a.Columns, want) {
		t.Fatalf("%+v", a.Columns)
	}

	// Dropping the member frees its name; dropping the logical table frees
	// its members.
	if _, ok := c.ApplyDrop(&Drop{Tenant: testTenant, Database: testDB, Table: "b"}); !ok {
		t.Fatal("drop b")
	}
	a = mustTable(t, c, "a")
	if !reflect.DeepEqual(a.Aliases, []string{"x"}) || len(a.Members) != 0 || !reflect.DeepEqual(a.Columns[0].Sources, src(1)) {
		t.Fatalf("after dropping the member: %+v", a)
	}
	if _, err := c.ApplyAlter(alterOf("a", AlterOp{Op: OpAddTableAlias, Name: "c"}), 30); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.ApplyDrop(&Drop{Tenant: testTenant, Database: testDB, Table: "a"}); !ok {
		t.Fatal("drop a")
	}
	if r, ok := resolve(t, c, "c"); !ok || r.Name != "c" || r.MemberOf != 0 {
		t.Fatalf("member of a dropped table: %+v", r)
	}
	if _, ok := resolve(t, c, "x"); ok {
		t.Fatal("alias of a dropped table resolves")
	}
}

func TestAlterCodecRoundTrip(t *testing.T) {
	a := alterOf("thermostat",
		AlterOp{Op: OpAlterColumnType, Column: "temperature_f", Type: int(TypeFloat), Expr: "temp * 9 / 5 + 32", Ref: "temp"},
		AlterOp{Op: OpSetStrict, Enabled: true},
		AlterOp{Op: OpSetTTL, Int: 1 << 40},
	)
	a.Statement = "ALTER TABLE thermostat ALTER COLUMN temperature_f TYPE double precision USING temp * 9 / 5 + 32"
	p, err := EncodeAlter(a)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := EntryKind(p); err != nil || k != EntryAlter {
		t.Fatalf("kind %d %v", k, err)
	}
	var got Alter
	if err := DecodeAlter(p, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*a, got) {
		t.Fatalf("got %+v", got)
	}
	for n := 0; n < len(p); n++ {
		var x Alter
		if err := DecodeAlter(p[:n], &x); err == nil {
			t.Fatalf("truncated payload of %d/%d bytes decoded", n, len(p))
		}
	}
	if err := DecodeAlter(append([]byte{EntryAlter, 2}, p[2:]...), &got); err == nil {
		t.Fatal("unknown version accepted")
	}
	d, _ := EncodeDrop(&Drop{Tenant: "t", Database: "d", Table: "x"})
	if err := DecodeAlter(d, &got); err == nil {
		t.Fatal("a drop decoded as an alter")
	}
}

func TestAlterDeterministic(t *testing.T) {
	run := func() []byte {
		c := NewCatalog()
		thermoStory(t, c)
		ensureFields(t, c, 20, "thermo", nil, fs("temp", TypeString), fs("humidity", TypeFloat))
		if _, err := c.ApplyAlter(alterOf("thermo", AlterOp{Op: OpRenameTable, Name: "hvac"},
			AlterOp{Op: OpAlterColumnType, Column: "temperature_c", Type: int(TypeFloat), Expr: "temp + 1", Ref: "temp"}), 30); err != nil {
			t.Fatal(err)
		}
		// Replayed through the codec, as the log does.
		p, _ := EncodeAlter(alterOf("hvac", AlterOp{Op: OpDropColumn, Column: "humidity"}))
		var a Alter
		if err := DecodeAlter(p, &a); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ApplyAlter(&a, 31); err != nil {
			t.Fatal(err)
		}
		b, _ := c.MarshalJSON()
		return b
	}
	first := run()
	for i := 0; i < 5; i++ {
		if again := run(); !bytes.Equal(first, again) {
			t.Fatalf("run %d differs:\n%s\n%s", i, first, again)
		}
	}
}
