package sql

import (
	"context"

	"github.com/fineod/fineod/schema"
)

// EnsureTable makes the test fixture a SchemaWriter: it adds the table, or
// the tags and fields it lacks.
func (m *memDB) EnsureTable(ctx context.Context, tenant, database, table string, tags []string, fields []schema.FieldSpec) error {
	m.mu.Lock()
	t, ok := m.tables[database+"\x00"+table]
	m.mu.Unlock()
	if !ok {
		t = m.addTable(database, TableInfo{Name: table, Columns: []ColumnInfo{{Name: "time", Type: TypeTimestamptz, Kind: KindTime}}})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	has := map[string]bool{}
	for _, c := range t.info.Columns {
		has[c.Name] = true
	}
	add := func(c ColumnInfo) {
		if has[c.Name] {
			return
		}
		has[c.Name] = true
		t.info.Columns = append(append([]ColumnInfo(nil), t.info.Columns...), c)
		for i := range t.rows {
			t.rows[i] = append(t.rows[i], nil)
		}
	}
	for _, k := range tags {
		add(ColumnInfo{Name: k, Type: TypeText, Kind: KindTag})
	}
	for _, f := range fields {
		typ := map[schema.Type]Type{schema.TypeFloat: TypeFloat8, schema.TypeInt: TypeInt8,
			schema.TypeUint: TypeNumeric, schema.TypeString: TypeText, schema.TypeBool: TypeBool}[schema.Type(f.Type)]
		add(ColumnInfo{Name: f.Name, Type: typ, Kind: KindField})
	}
	m.version++
	return nil
}

// DropTable makes the test fixture a TableDropper.
func (m *memDB) DropTable(ctx context.Context, tenant, database, table string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tables, database+"\x00"+table)
	m.version++
	return nil
}
